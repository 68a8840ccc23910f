package io.m2mtrust.ca;

import io.m2mtrust.common.ApiProblem;
import io.m2mtrust.hsm.HsmCrypto;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;

import java.math.BigInteger;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.List;

/** The tenant CA's CRLs (RFC 5280 §5): one per CA version, re-signed in the HSM when stale, numbers only growing. */
@ApplicationScoped
public class TenantCrls {

    private final CaConfig config;
    private final EntityManager em;
    private final HsmCrypto hsm;
    private final TenantCa ca;

    TenantCrls(CaConfig config, EntityManager em, HsmCrypto hsm, TenantCa ca) {
        this.config = config;
        this.em = em;
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
            em.createNativeQuery(
                            "insert into tenant_crl (tenant_id, ca_version, crl_number) values (?1, ?2, 0) on conflict do nothing")
                    .setParameter(1, tenantId)
                    .setParameter(2, caVersion)
                    .executeUpdate();
            Object[] row = (Object[]) em.createNativeQuery(
                            "select crl_number, der, next_update from tenant_crl where tenant_id = ?1 and ca_version = ?2 for update")
                    .setParameter(1, tenantId)
                    .setParameter(2, caVersion)
                    .getSingleResult();
            long number = ((Number) row[0]).longValue();
            byte[] der = (byte[]) row[1];
            Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
            Instant nextUpdate = row[2] == null ? null : Certificates.toInstant(row[2]);
            if (der != null
                    && nextUpdate != null
                    && nextUpdate.minus(config.crlValidity().dividedBy(2)).isAfter(now)) {
                return der;
            }
            long next = number + 1;
            byte[] signed = signCrl(tenantId, caCert, next, now);
            em.createNativeQuery(
                            "update tenant_crl set crl_number = ?3, der = ?4, this_update = ?5, next_update = ?6 where tenant_id = ?1 and ca_version = ?2")
                    .setParameter(1, tenantId)
                    .setParameter(2, caVersion)
                    .setParameter(3, next)
                    .setParameter(4, signed)
                    .setParameter(5, now)
                    .setParameter(6, now.plus(config.crlValidity()))
                    .executeUpdate();
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
            List<IssuedCertificate> revoked = em.createQuery(
                            "from IssuedCertificate where tenantId = ?1 and caVersion = ?2 and status <> ?3 and notAfter > ?4 order by revokedAt",
                            IssuedCertificate.class)
                    .setParameter(1, tenantId)
                    .setParameter(2, issuer.version())
                    .setParameter(3, IssuedCertificate.Status.VALID)
                    .setParameter(4, now)
                    .getResultList();
            for (IssuedCertificate c : revoked) {
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
