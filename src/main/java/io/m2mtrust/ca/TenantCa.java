package io.m2mtrust.ca;

import io.m2mtrust.audit.AuditLog;
import io.m2mtrust.ca.CertificateStore.CertificateSummary;
import io.m2mtrust.cluster.ReplicaCache;
import io.m2mtrust.cluster.ReplicaCaches;
import io.m2mtrust.common.ApiProblem;
import io.m2mtrust.common.SubjectType;
import io.m2mtrust.hsm.AsymmetricKeyType;
import io.m2mtrust.hsm.HsmCrypto;
import io.m2mtrust.hsm.HsmKeyLabel;
import io.m2mtrust.hsm.KeyPurpose;
import io.m2mtrust.keys.KeyVersionInfo;
import io.m2mtrust.keys.KeyVersionRepository;
import io.m2mtrust.keys.TenantKeyService;
import io.m2mtrust.security.CertificateRevoked;
import io.m2mtrust.security.Revocations;
import io.m2mtrust.tenant.TenantStore;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.CRLDistPoint;
import org.bouncycastle.asn1.x509.DistributionPoint;
import org.bouncycastle.asn1.x509.DistributionPointName;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.jboss.logging.Logger;

import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Optional;

/**
 * The per-tenant certificate authority of the certificate RSPF (TS-0003 §8.3.6, profile §10.1): its
 * key and the service's TLS key live in the HSM (made on first use); every certificate and CRL is
 * signed there. Issued certificates are recorded; a re-enrolment supersedes the subject's previous
 * certificate, which goes on the CRL with reason {@code superseded}.
 */
@ApplicationScoped
public class TenantCa {

    private static final Logger LOG = Logger.getLogger(TenantCa.class);

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Duration ANCHOR_CACHE_TTL = Duration.ofSeconds(60);

    /** The tenant CA of one key version. */
    public record Ca(int version, HsmKeyLabel key, X509Certificate certificate) {}

    private final CaConfig config;
    private final EntityManager em;
    private final HsmCrypto hsm;
    private final TenantKeyService keys;
    private final KeyVersionRepository versions;
    private final AuditLog audit;
    /** The tenant's CAs, under the key-version cluster topic: a CA rotation anywhere drops them everywhere. */
    private final ReplicaCache<List<Ca>> anchors;

    private final ReplicaCaches caches;
    private final TenantStore tenantRows;
    private final Revocations revocations;
    private final CertificateStore store;

    TenantCa(
            CaConfig config,
            EntityManager em,
            HsmCrypto hsm,
            TenantKeyService keys,
            KeyVersionRepository versions,
            AuditLog audit,
            TenantStore tenantRows,
            Revocations revocations,
            CertificateStore store,
            ReplicaCaches caches) {
        this.caches = caches;
        this.anchors = caches.cache(KeyVersionRepository.TOPIC, ANCHOR_CACHE_TTL, 100_000);
        this.store = store;
        this.revocations = revocations;
        this.tenantRows = tenantRows;
        this.config = config;
        this.em = em;
        this.hsm = hsm;
        this.keys = keys;
        this.versions = versions;
        this.audit = audit;
    }

    // ---------------------------------------------------------------- the CA itself

    /** The tenant's current CA, making its HSM key and self-signed certificate on first use. */
    public Ca current(String tenantId, String actor) {
        HsmKeyLabel key = keys.ensurePrimary(tenantId, KeyPurpose.CA, actor);
        Optional<Ca> known =
                cas(tenantId).stream().filter(c -> c.version() == key.version()).findFirst();
        if (known.isPresent()) {
            return known.get(); // the usual case: no database round trip per issued certificate
        }
        CaCertificate row = QuarkusTransaction.requiringNew().call(() -> {
            tenantRows.lockForUpdate(tenantId); // one certificate per CA key version
            CaCertificate c = em.find(CaCertificate.class, new CaCertificate.Key(tenantId, key.version()));
            if (c != null) {
                caches.forgetHere(KeyVersionRepository.TOPIC, tenantId); // another replica made it: reload here
                return c;
            }
            caches.changed(KeyVersionRepository.TOPIC, tenantId); // a new CA version: every replica's anchors change
            return createCaCertificate(tenantId, key, actor);
        });
        return new Ca(key.version(), key, Certificates.parse(row.der));
    }

    /** Whether the tenant has a CA (its certificate suites and EST work only then). */
    public boolean exists(String tenantId) {
        return !cas(tenantId).isEmpty();
    }

    /** CAs whose key still exists (PRIMARY or ACTIVE) and has a certificate: the tenant's trust anchors. */
    public List<Ca> cas(String tenantId) {
        return anchors.get(
                tenantId,
                () -> QuarkusTransaction.requiringNew().call(() -> {
                    List<Ca> out = new ArrayList<>();
                    for (KeyVersionInfo v : versions.infos(tenantId)) {
                        if (v.purpose() != KeyPurpose.CA || !v.usableForOpen()) {
                            continue;
                        }
                        CaCertificate c = em.find(CaCertificate.class, new CaCertificate.Key(tenantId, v.version()));
                        if (c != null) {
                            out.add(new Ca(v.version(), v.label(), Certificates.parse(c.der)));
                        }
                    }
                    out.sort((x, y) -> Integer.compare(y.version(), x.version())); // newest first
                    return List.copyOf(out);
                }));
    }

    private CaCertificate createCaCertificate(String tenantId, HsmKeyLabel key, String actor) {
        try {
            Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
            X500Name name = new X500NameBuilder(BCStyle.INSTANCE)
                    .addRDN(BCStyle.O, "m2m-trust")
                    .addRDN(BCStyle.OU, "tenant " + tenantId)
                    .addRDN(BCStyle.CN, "m2m-trust " + tenantId + " CA v" + key.version())
                    .build();
            PublicKey pub = hsm.token().publicKey(key);
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder b = new X509v3CertificateBuilder(
                    name,
                    Certificates.randomSerial(),
                    Date.from(now.minus(1, ChronoUnit.MINUTES)),
                    Date.from(now.plus(config.caLifetime())),
                    name,
                    SubjectPublicKeyInfo.getInstance(pub.getEncoded()));
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
            // TS-0003 §10.1.1.1: every certificate's key usage includes digitalSignature
            b.addExtension(
                    Extension.keyUsage,
                    true,
                    new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature));
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(pub));
            X509CertificateHolder h = b.build(new HsmContentSigner(hsm, key));
            CaCertificate c = new CaCertificate();
            c.tenantId = tenantId;
            c.keyVersion = key.version();
            c.der = h.getEncoded();
            c.notBefore = h.getNotBefore().toInstant();
            c.notAfter = h.getNotAfter().toInstant();
            c.createdAt = now;
            em.persist(c);
            em.flush();
            audit.append(
                    tenantId,
                    actor,
                    "ca.create",
                    key.value(),
                    AuditLog.Outcome.SUCCESS,
                    "CA certificate v" + key.version() + " valid until " + c.notAfter);
            LOG.infof("tenant %s: CA certificate for %s created", tenantId, key);
            return c;
        } catch (java.io.IOException | java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("CA certificate could not be built", e);
        }
    }

    // ---------------------------------------------------------------- issuing

    /** What to put in a certificate: subject flavour and identity, the public key, who asked. */
    public record IssueRequest(SubjectType subjectType, String subjectId, PublicKey publicKey, String enroleeId) {}

    /**
     * Issues an end-entity certificate (TS-0003 §10.1.1.3 profile) signed in the HSM, records it and
     * supersedes the subject's previous valid certificate in the same transaction. The caller has checked
     * the request (CSR policy, authorisation).
     */
    public CertificateSummary issue(String tenantId, IssueRequest req, String actor) {
        return CertificateStore.summary(issueRow(tenantId, req, actor, false));
    }

    /** {@link #issueRow}, answered as others see a certificate. */
    public CertificateSummary issue(String tenantId, IssueRequest req, String actor, boolean esdataKey) {
        return CertificateStore.summary(issueRow(tenantId, req, actor, esdataKey));
    }

    /**
     * Issues a certificate like {@link #issue(String, IssueRequest, String)}; with {@code esdataKey} the subject key may also be EC P-384,
     * P-521 or RSA 2048/3072: certificates of service-held ESData end-points whose JOSE algorithms need them
     * (TS-0003 §8.5 ESData certificate options). Such a certificate never authenticates on the device listener, which takes P-256 only.
     */
    IssuedCertificate issueRow(String tenantId, IssueRequest req, String actor, boolean esdataKey) {
        String problem = req.subjectType().problemWith(req.subjectId());
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        if (esdataKey) {
            if (AsymmetricKeyType.of(req.publicKey()).isEmpty()) {
                throw new IllegalArgumentException("the subject key must be EC P-256/384/521 or RSA 2048/3072");
            }
        } else {
            Certificates.requireP256(req.publicKey());
        }
        Ca ca = current(tenantId, actor);
        return QuarkusTransaction.requiringNew().call(() -> {
            // serialise issuing per subject: the partial unique index makes a concurrent twin fail instead
            List<IssuedCertificate> previous = store.validClientCertificates(tenantId, req.subjectId(), true);
            Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
            Instant notAfter = Certificates.min(
                    now.plus(config.certificateLifetime()),
                    ca.certificate().getNotAfter().toInstant());
            X509CertificateHolder h =
                    build(ca, req.subjectType(), List.of(req.subjectId()), req.publicKey(), now, notAfter, false);
            IssuedCertificate c = record(
                    tenantId,
                    IssuedCertificate.Kind.CLIENT,
                    req.subjectType(),
                    req.subjectId(),
                    req.enroleeId(),
                    ca,
                    h);
            for (IssuedCertificate p : previous) {
                p.status = IssuedCertificate.Status.SUPERSEDED;
                p.revokedAt = now;
                p.revocationReason = Certificates.REASON_SUPERSEDED;
                p.replacedBy = c.serial;
                markCrlStale(tenantId, p.caVersion);
            }
            em.flush(); // superseded rows first, so the new VALID row satisfies the one-valid index
            em.persist(c);
            em.flush();
            audit.append(
                    tenantId,
                    actor,
                    "certificate.issue",
                    "certificate/" + c.serial,
                    AuditLog.Outcome.SUCCESS,
                    req.subjectType() + " " + req.subjectId() + " until " + c.notAfter
                            + (previous.isEmpty()
                                    ? ""
                                    : "; supersedes "
                                            + previous.stream()
                                                    .map(p -> p.serial)
                                                    .toList()));
            return c;
        });
    }

    IssuedCertificate record(
            String tenantId,
            IssuedCertificate.Kind kind,
            SubjectType type,
            String subjectId,
            String enroleeId,
            Ca ca,
            X509CertificateHolder h)
            throws java.io.IOException {
        IssuedCertificate c = new IssuedCertificate();
        c.tenantId = tenantId;
        c.serial = h.getSerialNumber().toString(16);
        c.kind = kind;
        c.subjectType = type;
        c.subjectId = subjectId;
        c.enroleeId = enroleeId;
        c.caVersion = ca.version();
        c.der = h.getEncoded();
        c.thumbprint = Certificates.thumbprint(c.der);
        c.status = IssuedCertificate.Status.VALID;
        c.notBefore = h.getNotBefore().toInstant();
        c.notAfter = h.getNotAfter().toInstant();
        c.issuedAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
        return c;
    }

    X509CertificateHolder build(
            Ca ca,
            SubjectType type,
            List<String> ids,
            PublicKey subjectKey,
            Instant notBefore,
            Instant notAfter,
            boolean server) {
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            String first = ids.get(0);
            // RFC 5280 ub-common-name is 64: longer identities live only in the (then critical) subjectAltName
            X500Name subject = first.length() <= 64
                    ? new X500NameBuilder(BCStyle.INSTANCE)
                            .addRDN(BCStyle.CN, first)
                            .build()
                    : new X500Name(new org.bouncycastle.asn1.x500.RDN[0]);
            boolean sanCritical = first.length() > 64;
            X509v3CertificateBuilder b = new X509v3CertificateBuilder(
                    X500Name.getInstance(
                            ca.certificate().getSubjectX500Principal().getEncoded()),
                    Certificates.randomSerial(),
                    Date.from(notBefore.minus(1, ChronoUnit.MINUTES)),
                    Date.from(notAfter),
                    subject,
                    SubjectPublicKeyInfo.getInstance(subjectKey.getEncoded()));
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            int encipherment = subjectKey instanceof java.security.interfaces.RSAPublicKey
                    ? KeyUsage.keyEncipherment
                    : KeyUsage.keyAgreement;
            b.addExtension(
                    Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | (server ? 0 : encipherment)));
            b.addExtension(
                    Extension.extendedKeyUsage,
                    false,
                    server
                            ? new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth)
                            : new ExtendedKeyUsage(
                                    new KeyPurposeId[] {KeyPurposeId.id_kp_clientAuth, KeyPurposeId.id_kp_serverAuth}));
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(subjectKey));
            b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(ca.certificate()));
            GeneralName[] names = ids.stream().map(type::generalName).toArray(GeneralName[]::new);
            b.addExtension(Extension.subjectAlternativeName, sanCritical, new GeneralNames(names));
            config.publicBaseUrl().ifPresent(base -> {
                try {
                    String url = base.replaceAll("/+$", "") + "/pki/" + tenantOf(ca) + "/crl/" + ca.version();
                    b.addExtension(Extension.cRLDistributionPoints, false, new CRLDistPoint(new DistributionPoint[] {
                        new DistributionPoint(
                                new DistributionPointName(
                                        new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, url))),
                                null,
                                null)
                    }));
                } catch (java.io.IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            return b.build(new HsmContentSigner(hsm, ca.key()));
        } catch (java.io.IOException | java.security.GeneralSecurityException e) {
            throw new IllegalStateException("certificate could not be built", e);
        }
    }

    private static String tenantOf(Ca ca) {
        return ca.key().owner();
    }

    // ---------------------------------------------------------------- revocation and CRL

    /** Revokes a certificate (RFC 5280 reason code); the next CRL lists it and handshakes with it fail at once. */
    public IssuedCertificate revoke(String tenantId, String serial, int reason, String actor) {
        return audit.auditRefusals(
                tenantId,
                actor,
                "certificate.revoke",
                "certificate/" + serial,
                () -> QuarkusTransaction.requiringNew().call(() -> {
                    IssuedCertificate c = em.find(
                            IssuedCertificate.class,
                            new IssuedCertificate.Key(tenantId, serial),
                            jakarta.persistence.LockModeType.PESSIMISTIC_WRITE);
                    if (c == null) {
                        throw ApiProblem.notFound("certificate " + serial);
                    }
                    if (c.status != IssuedCertificate.Status.VALID) {
                        throw ApiProblem.conflict("certificate " + serial + " is already "
                                + c.status.name().toLowerCase());
                    }
                    c.status = IssuedCertificate.Status.REVOKED;
                    c.revokedAt = Instant.now().truncatedTo(ChronoUnit.SECONDS);
                    c.revocationReason = reason;
                    markCrlStale(tenantId, c.caVersion);
                    audit.append(
                            tenantId,
                            actor,
                            "certificate.revoke",
                            "certificate/" + serial,
                            AuditLog.Outcome.SUCCESS,
                            c.subjectType + " " + c.subjectId + ", reason " + reason);
                    revocations.publish(new CertificateRevoked(tenantId, serial, c.subjectId, reason));
                    return c;
                }));
    }

    void markCrlStale(String tenantId, int caVersion) {
        store.markCrlStale(tenantId, caVersion);
    }

    /** DER subject names of the CAs whose certificates the tenant accepts. */
    public List<byte[]> acceptedIssuers(String tenantId) {
        return cas(tenantId).stream()
                .map(c -> c.certificate().getSubjectX500Principal().getEncoded())
                .toList();
    }
}
