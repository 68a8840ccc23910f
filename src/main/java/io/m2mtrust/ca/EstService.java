package io.m2mtrust.ca;

import io.m2mtrust.audit.AuditLog;
import io.m2mtrust.common.CertificateSubject;
import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.common.Sql;
import io.m2mtrust.enrolment.EnrolmentGroupService;
import io.m2mtrust.enrolment.KpmId;
import io.m2mtrust.tls.DeviceHttp;
import io.m2mtrust.tls.DevicePeer;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERSet;
import org.bouncycastle.asn1.pkcs.Attribute;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cms.CMSAbsentContent;
import org.bouncycastle.cms.CMSSignedDataGenerator;
import org.bouncycastle.util.CollectionStore;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * EST (RFC 7030) on the MEF's TLS listener — TS-0003 §8.3.6.2: {@code cacerts}, {@code csrattrs},
 * {@code simpleenroll}, {@code simplereenroll} under {@code /.well-known/est/}. The client is the
 * authenticated peer of the RSPF session: a device by its KpmID (certificate-less TLS mutual
 * authentication, RFC 7030 §3.3.3) or a certificate holder (§3.3.2); HTTP authentication is not used
 * (§8.3.6.2.1). The identity a client may request comes from the MEF, never from the CSR.
 */
@ApplicationScoped
public class EstService {

    public static final String PREFIX = "/.well-known/est/";
    static final String PKCS7_CERTS_ONLY = "application/pkcs7-mime; smime-type=certs-only";

    private final TenantCa ca;
    private final EnrolmentGroupService groups;
    private final EntityManager em;
    private final AuditLog audit;
    private final CertificateStore store;

    EstService(TenantCa ca, EnrolmentGroupService groups, EntityManager em, AuditLog audit, CertificateStore store) {
        this.store = store;
        this.ca = ca;
        this.groups = groups;
        this.em = em;
        this.audit = audit;
    }

    public DeviceHttp.Response handle(DevicePeer peer, DeviceHttp.Request request) {
        String op = request.path().substring(PREFIX.length());
        return switch (op) {
            case "cacerts" -> get(request) ? cacerts(peer) : methodNotAllowed("GET");
            case "csrattrs" -> get(request) ? csrattrs(peer) : methodNotAllowed("GET");
            case "simpleenroll" -> post(request) ? enroll(peer, request, false) : methodNotAllowed("POST");
            case "simplereenroll" -> post(request) ? enroll(peer, request, true) : methodNotAllowed("POST");
            default -> DeviceHttp.Response.text(404, "unknown EST operation (this server has no CA label segment)");
        };
    }

    private DeviceHttp.Response cacerts(DevicePeer peer) {
        List<TenantCa.Ca> cas = ca.cas(peer.tenantId());
        if (cas.isEmpty()) {
            return noCa();
        }
        List<X509CertificateHolder> certs = new ArrayList<>();
        for (TenantCa.Ca c : cas) {
            certs.add(holder(c.certificate()));
        }
        return DeviceHttp.Response.base64(200, PKCS7_CERTS_ONLY, certsOnly(certs));
    }

    /** RFC 7030 §4.5.2: challengePassword, a P-256 key, ecdsa-with-SHA256, and the subjectAltName this client gets. */
    private DeviceHttp.Response csrattrs(DevicePeer peer) {
        if (!ca.exists(peer.tenantId())) {
            return noCa();
        }
        ASN1EncodableVector v = new ASN1EncodableVector();
        v.add(PKCSObjectIdentifiers.pkcs_9_at_challengePassword);
        v.add(new Attribute(X9ObjectIdentifiers.id_ecPublicKey, new DERSet(SECObjectIdentifiers.secp256r1)));
        v.add(X9ObjectIdentifiers.ecdsa_with_SHA256);
        Optional<CertificateSubject> subject = subjectOf(peer);
        if (subject.isPresent()) {
            try {
                Extension san = new Extension(
                        Extension.subjectAlternativeName,
                        false,
                        new GeneralNames(subject.get()
                                        .type()
                                        .generalName(subject.get().id()))
                                .getEncoded());
                v.add(new Attribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, new DERSet(new Extensions(san))));
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
        }
        try {
            return DeviceHttp.Response.base64(200, "application/csrattrs", new DERSequence(v).getEncoded());
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private DeviceHttp.Response enroll(DevicePeer peer, DeviceHttp.Request request, boolean reenroll) {
        String tenant = peer.tenantId();
        String actor = "enrolee " + peer.identity();
        String action = reenroll ? "est.simplereenroll" : "est.simpleenroll";
        String ct = request.header("content-type");
        if (ct == null || !ct.toLowerCase().startsWith("application/pkcs10")) {
            return DeviceHttp.Response.text(415, "send application/pkcs10 (base64 DER)");
        }
        if (!ca.exists(tenant)) {
            return noCa();
        }
        if (reenroll && peer.credential() != DevicePeer.Credential.CERTIFICATE) {
            return refused(
                    tenant,
                    actor,
                    action,
                    403,
                    "re-enrolment needs the TLS session authenticated with the certificate to renew (RFC 7030 §4.2.2)");
        }
        Optional<CertificateSubject> subject = subjectOf(peer);
        if (subject.isEmpty()) {
            return refused(
                    tenant,
                    actor,
                    action,
                    403,
                    "no certificate identity is associated with this client (its enrolment group has no certificate profile)");
        }
        String problem = subject.get().type().problemWith(subject.get().id());
        if (problem != null) {
            return refused(
                    tenant,
                    actor,
                    action,
                    403,
                    "the group's certificate profile gives this device an invalid identity: " + problem);
        }
        CsrCheck.Accepted accepted;
        try (SecretBytes binding = peer.export(DevicePeer.CHANNEL_BINDING_LABEL)) {
            accepted = binding.reveal(b -> {
                try {
                    return CsrCheck.check(request.body(), subject.get(), b);
                } catch (CsrCheck.Refused r) {
                    throw new RefusedCsr(r);
                }
            });
        } catch (RefusedCsr r) {
            return refused(tenant, actor, action, r.refused.status(), r.refused.getMessage());
        }
        IssuedCertificate issued;
        try {
            issued = ca.issueRow(
                    tenant,
                    new TenantCa.IssueRequest(
                            subject.get().type(), subject.get().id(), accepted.publicKey(), peer.identity()),
                    actor,
                    false);
        } catch (RuntimeException e) {
            if (Sql.isUniqueViolation(e)) {
                return refused(
                        tenant,
                        actor,
                        action,
                        409,
                        "another enrolment of " + subject.get().id() + " completed at the same moment; retry");
            }
            throw e;
        }
        try {
            return DeviceHttp.Response.base64(
                    200, PKCS7_CERTS_ONLY, certsOnly(List.of(new X509CertificateHolder(issued.der))));
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The certificate identity of a MEF client named by its MEF Client ID (a KpmID, or the identity of a
     * valid certificate it holds); empty when it may not get certificates.
     */
    public Optional<CertificateSubject> subjectOfClient(String tenantId, String clientId) {
        return QuarkusTransaction.requiringNew().call(() -> {
            Optional<KpmId> kpm = KpmId.parse(clientId);
            if (kpm.isPresent()) {
                return groups.certificateSubject(
                        tenantId, kpm.get().groupId(), kpm.get().deviceId());
            }
            return store.validClientCertificates(tenantId, clientId, false).stream()
                    .findFirst()
                    .map(c -> new CertificateSubject(c.subjectType, c.subjectId));
        });
    }

    /** The identity the MEF associates with the client (§8.3.6.2.2 pre-condition B). */
    private Optional<CertificateSubject> subjectOf(DevicePeer peer) {
        return QuarkusTransaction.requiringNew().call(() -> {
            if (peer.credential() == DevicePeer.Credential.CERTIFICATE) {
                IssuedCertificate c = em.find(
                        IssuedCertificate.class, new IssuedCertificate.Key(peer.tenantId(), peer.certificateSerial()));
                return c == null ? Optional.empty() : Optional.of(new CertificateSubject(c.subjectType, c.subjectId));
            }
            return KpmId.parse(peer.identity())
                    .flatMap(k -> groups.certificateSubject(peer.tenantId(), k.groupId(), k.deviceId()));
        });
    }

    private DeviceHttp.Response refused(String tenant, String actor, String action, int status, String why) {
        audit.appendIndependently(tenant, actor, action, "est", AuditLog.Outcome.DENIED, why);
        return DeviceHttp.Response.text(status, why);
    }

    private static DeviceHttp.Response noCa() {
        return DeviceHttp.Response.text(
                404, "this tenant has no certificate authority yet (an administrator creates it)");
    }

    private static DeviceHttp.Response methodNotAllowed(String allowed) {
        return DeviceHttp.Response.text(405, "use " + allowed);
    }

    private static boolean get(DeviceHttp.Request r) {
        return r.method().equals("GET");
    }

    private static boolean post(DeviceHttp.Request r) {
        return r.method().equals("POST");
    }

    static byte[] certsOnly(List<X509CertificateHolder> certs) {
        try {
            CMSSignedDataGenerator gen = new CMSSignedDataGenerator();
            gen.addCertificates(new CollectionStore<>(certs));
            return gen.generate(new CMSAbsentContent()).getEncoded();
        } catch (Exception e) {
            throw new IllegalStateException("certs-only message could not be built", e);
        }
    }

    static X509CertificateHolder holder(java.security.cert.X509Certificate c) {
        try {
            return new X509CertificateHolder(c.getEncoded());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static final class RefusedCsr extends RuntimeException {
        final CsrCheck.Refused refused;

        RefusedCsr(CsrCheck.Refused refused) {
            super(null, null, false, false);
            this.refused = refused;
        }
    }
}
