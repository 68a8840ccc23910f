package io.m2mtrust.escertke;

import io.m2mtrust.ca.CertificateStore;
import io.m2mtrust.ca.CertificateStore.CertificateSummary;
import io.m2mtrust.ca.Certificates;
import io.m2mtrust.ca.TenantCa;
import io.m2mtrust.cluster.ReplicaCache;
import io.m2mtrust.cluster.ReplicaCaches;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import org.bouncycastle.tls.AlertDescription;

import java.io.ByteArrayInputStream;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;

/**
 * Judges an ESCertKE peer's certificate (TS-0003 §8.7, verified per §8.1.2.5): issued directly by one of the
 * tenant's CA versions (and recorded as valid there) or by a registered trust anchor (and not on its CRL, when
 * one is registered); within validity; an EC P-256 key (§10.1.1.1, whatever else policy lists: ESCertKE's
 * suites are ECDHE_ECDSA); and a subjectAltName exactly the identity the peer's {@code From} stands for.
 * Each refusal carries the TLS alert the handshake ends with.
 */
@ApplicationScoped
public class PeerCertificates {

    /** A peer certificate accepted for {@code identity}. */
    public static final class Verified {
        private final PeerIdentity identity;
        private final String serial;
        private final String sha256;
        private final java.time.Instant notAfter;

        /** Only {@link PeerCertificates} makes one, after the chain, the revocation status and the identity passed. */
        Verified(PeerIdentity identity, String serial, String sha256, java.time.Instant notAfter) {
            this.identity = identity;
            this.serial = serial;
            this.sha256 = sha256;
            this.notAfter = notAfter;
        }

        public PeerIdentity identity() {
            return identity;
        }

        public String serial() {
            return serial;
        }

        public String sha256() {
            return sha256;
        }

        public java.time.Instant notAfter() {
            return notAfter;
        }
    }

    /** A refused peer certificate, with the TLS alert (RFC 5246 §7.2.2) that says why. */
    public static final class Refused extends Exception {
        public final short alert;

        Refused(short alert, String why) {
            super(why, null, false, false);
            this.alert = alert;
        }
    }

    private final TenantCa ca;
    private final CertificateStore issued;
    private final EscertkeStore store;

    PeerCertificates(TenantCa ca, CertificateStore issued, EscertkeStore store, ReplicaCaches caches) {
        this.anchors = caches.cache(EscertkeService.TOPIC, EscertkeService.CACHE_TTL, 10_000);
        this.store = store;
        this.issued = issued;
        this.ca = ca;
    }

    public Verified verify(String tenantId, List<byte[]> chainDer, PeerIdentity expected) throws Refused {
        if (chainDer.isEmpty()) {
            throw new Refused(AlertDescription.handshake_failure, "a certificate is required (mutual authentication)");
        }
        X509Certificate leaf;
        try {
            leaf = Certificates.parse(chainDer.get(0));
        } catch (IllegalArgumentException e) {
            throw new Refused(AlertDescription.bad_certificate, "unparseable certificate");
        }
        String serial = leaf.getSerialNumber().toString(16);
        if (!issuedByTenantCa(tenantId, leaf, serial) && !issuedByAnchor(tenantId, leaf)) {
            throw new Refused(AlertDescription.unknown_ca, "not issued by a trust anchor of this tenant");
        }
        try {
            leaf.checkValidity();
        } catch (CertificateException e) {
            throw new Refused(
                    AlertDescription.certificate_expired, "certificate " + serial + " is outside its validity");
        }
        if (!Certificates.isP256(leaf.getPublicKey())) {
            throw new Refused(
                    AlertDescription.unsupported_certificate,
                    "the certificate key is not EC P-256 (TS-0003 §10.1.1.1)");
        }
        if (!carries(leaf, expected)) {
            throw new Refused(
                    AlertDescription.bad_certificate,
                    "the certificate's subjectAltName is not " + expected.san() + " (the identity of "
                            + expected.absolute() + ")");
        }
        return new Verified(
                expected, serial, sha256(chainDer.get(0)), leaf.getNotAfter().toInstant());
    }

    /** Issued by a live CA version of the tenant, and recorded there as valid (revocation is the record's status). */
    private boolean issuedByTenantCa(String tenantId, X509Certificate leaf, String serial) throws Refused {
        for (TenantCa.Ca c : ca.cas(tenantId)) {
            if (signedBy(leaf, c.certificate())) {
                CertificateSummary row = QuarkusTransaction.requiringNew()
                        .call(() -> issued.find(tenantId, serial).orElse(null));
                if (row == null) {
                    throw new Refused(
                            AlertDescription.bad_certificate,
                            "certificate " + serial + " is not recorded by the tenant CA");
                }
                if (!row.valid()) {
                    throw new Refused(
                            AlertDescription.certificate_revoked,
                            "certificate " + serial + " is " + row.status().toLowerCase());
                }
                return true;
            }
        }
        return false;
    }

    /** A registered anchor, parsed; its CRL already checked against it when registered. */
    private record Anchor(String id, X509Certificate certificate, X509CRL crl) {}

    /** The tenant's registered anchors (the ESCertKE cluster topic: an admin change anywhere drops them everywhere). */
    private final ReplicaCache<List<Anchor>> anchors;

    private List<Anchor> anchors(String tenantId) {
        return anchors.get(
                tenantId,
                () -> QuarkusTransaction.requiringNew().call(() -> store.trustAnchors(tenantId)).stream()
                        .map(t ->
                                new Anchor(t.id, Certificates.parse(t.certificate), t.crl == null ? null : crl(t.crl)))
                        .toList());
    }

    private boolean issuedByAnchor(String tenantId, X509Certificate leaf) throws Refused {
        for (Anchor a : anchors(tenantId)) {
            X509Certificate anchor = a.certificate();
            if (!signedBy(leaf, anchor)) {
                continue;
            }
            if (a.crl() != null) {
                X509CRL crl = a.crl();
                try {
                    crl.verify(anchor.getPublicKey());
                } catch (GeneralSecurityException e) {
                    throw new Refused(
                            AlertDescription.internal_error,
                            "the CRL registered for trust anchor " + a.id() + " is not signed by it");
                }
                if (crl.getNextUpdate() != null && crl.getNextUpdate().before(new Date())) {
                    throw new Refused(
                            AlertDescription.certificate_unknown,
                            "the CRL of trust anchor " + a.id() + " is out of date");
                }
                if (crl.isRevoked(leaf)) {
                    throw new Refused(
                            AlertDescription.certificate_revoked,
                            "certificate " + leaf.getSerialNumber().toString(16) + " is revoked");
                }
            }
            return true;
        }
        return false;
    }

    static boolean signedBy(X509Certificate leaf, X509Certificate issuer) {
        if (!issuer.getSubjectX500Principal().equals(leaf.getIssuerX500Principal())) {
            return false;
        }
        try {
            leaf.verify(issuer.getPublicKey());
            return true;
        } catch (GeneralSecurityException e) {
            return false; // another version may carry the same name
        }
    }

    static boolean carries(X509Certificate leaf, PeerIdentity expected) {
        try {
            Collection<List<?>> names = leaf.getSubjectAlternativeNames();
            if (names == null) {
                return false;
            }
            for (List<?> n : names) {
                if (((Integer) n.get(0)) == expected.type().generalNameTag()
                        && expected.san().equals(n.get(1))) {
                    return true;
                }
            }
            return false;
        } catch (CertificateException e) {
            return false;
        }
    }

    public static X509CRL crl(byte[] der) {
        try {
            return (X509CRL) CertificateFactory.getInstance("X.509").generateCRL(new ByteArrayInputStream(der));
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new IllegalArgumentException("not a DER X.509 CRL");
        }
    }

    static String sha256(byte[] der) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(der));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
