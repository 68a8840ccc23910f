package io.m2mtrust.ca;

import io.m2mtrust.common.ApiProblem;
import io.m2mtrust.hsm.HsmCrypto;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;

import java.math.BigInteger;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;

/** The tenant CA's CRLs (RFC 5280 §5): one per CA version, re-signed in the HSM when stale, numbers only growing. */
@ApplicationScoped
public class TenantCrls {

    private final CaConfig config;
    private final HsmCrypto hsm;
    private final TenantCa ca;
    private final CertificateStore store;

    TenantCrls(CaConfig config, HsmCrypto hsm, TenantCa ca, CertificateStore store) {
        this.store = store;
        this.config = config;
        this.hsm = hsm;
        this.ca = ca;
    }

    /**
     * The current CRL (DER) of a CA version: re-signed in the HSM when none exists, after a revocation,
     * or when half of its validity has passed. The CRL number only grows.
     */
    public byte[] crl(String tenantId, int caVersion) {
        TenantCa.Ca caCert = ca.cas(tenantId).stream()
                .filter(c -> c.version() == caVersion)
                .findFirst()
                .orElseThrow(() -> ApiProblem.notFound("CA version " + caVersion));
        return QuarkusTransaction.requiringNew().call(() -> {
            CertificateStore.CrlRow row = store.lockCrl(tenantId, caVersion);
            Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
            if (row.der() != null
                    && row.nextUpdate() != null
                    && row.nextUpdate().minus(config.crlValidity().dividedBy(2)).isAfter(now)) {
                return row.der();
            }
            long next = row.number() + 1;
            byte[] signed = signCrl(tenantId, caCert, next, now);
            store.storeCrl(tenantId, caVersion, next, signed, now, now.plus(config.crlValidity()));
            return signed;
        });
    }

    private byte[] signCrl(String tenantId, TenantCa.Ca issuer, long number, Instant now) {
        try {
            X509v2CRLBuilder b = new X509v2CRLBuilder(
                    X500Name.getInstance(
                            issuer.certificate().getSubjectX500Principal().getEncoded()),
                    Date.from(now));
            b.setNextUpdate(Date.from(now.plus(config.crlValidity())));
            for (IssuedCertificate c : store.revokedUnexpired(tenantId, issuer.version(), now)) {
                b.addCRLEntry(
                        new BigInteger(c.serial, 16),
                        Date.from(c.revokedAt),
                        c.revocationReason == null ? Certificates.REASON_UNSPECIFIED : c.revocationReason);
            }
            b.addExtension(Extension.cRLNumber, false, new ASN1Integer(number));
            b.addExtension(
                    Extension.authorityKeyIdentifier,
                    false,
                    new JcaX509ExtensionUtils().createAuthorityKeyIdentifier(issuer.certificate()));
            return b.build(new HsmContentSigner(hsm, issuer.key())).getEncoded();
        } catch (java.io.IOException | java.security.GeneralSecurityException e) {
            throw new IllegalStateException("CRL could not be built", e);
        }
    }
}
