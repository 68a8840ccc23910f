package io.m2mtrust.ca;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** Read queries over issued certificates for other features and the lineage: metadata only. */
@ApplicationScoped
public class IssuedCertificates {

    /** An issued certificate as others see it. {@code status} is VALID, REVOKED or EXPIRED. */
    public record CertificateSummary(
            String serial,
            String subjectType,
            String subjectId,
            String status,
            Instant notAfter,
            String thumbprint,
            byte[] der) {

        public boolean valid() {
            return IssuedCertificate.Status.VALID.name().equals(status);
        }
    }

    private final EntityManager em;

    IssuedCertificates(EntityManager em) {
        this.em = em;
    }

    /** Certificates issued to these enrolees (KpmIDs), newest first, at most {@code max}. */
    public List<CertificateSummary> issuedTo(String tenantId, List<String> enroleeIds, int max) {
        if (enroleeIds.isEmpty()) {
            return List.of();
        }
        return em.createQuery(
                        "from IssuedCertificate where tenantId = ?1 and enroleeId in ?2 order by issuedAt desc",
                        IssuedCertificate.class)
                .setParameter(1, tenantId)
                .setParameter(2, enroleeIds)
                .setMaxResults(max)
                .getResultStream()
                .map(IssuedCertificates::summary)
                .toList();
    }

    /** The newest valid certificate naming {@code subjectId}, if any. */
    public Optional<CertificateSummary> newestValidFor(String tenantId, String subjectId) {
        return newestValid(tenantId, subjectId, null);
    }

    /** The newest valid end-entity (client) certificate naming {@code subjectId}: an ESData recipient's. */
    public Optional<CertificateSummary> newestValidClient(String tenantId, String subjectId) {
        return newestValid(tenantId, subjectId, IssuedCertificate.Kind.CLIENT);
    }

    private Optional<CertificateSummary> newestValid(String tenantId, String subjectId, IssuedCertificate.Kind kind) {
        var query = em.createQuery(
                        "from IssuedCertificate where tenantId = ?1 and subjectId = ?2 and status = ?3"
                                + (kind == null ? "" : " and kind = ?4") + " order by issuedAt desc",
                        IssuedCertificate.class)
                .setParameter(1, tenantId)
                .setParameter(2, subjectId)
                .setParameter(3, IssuedCertificate.Status.VALID);
        if (kind != null) {
            query.setParameter(4, kind);
        }
        return query.setMaxResults(1).getResultStream().findFirst().map(IssuedCertificates::summary);
    }

    /** The valid end-entity certificate that {@code x5t#S256} names (indexed column, one query). */
    public Optional<CertificateSummary> validClientByThumbprint(String tenantId, String x5t) {
        return em.createQuery(
                        "from IssuedCertificate where tenantId = ?1 and thumbprint = ?2 and status = ?3 and kind = ?4",
                        IssuedCertificate.class)
                .setParameter(1, tenantId)
                .setParameter(2, x5t)
                .setParameter(3, IssuedCertificate.Status.VALID)
                .setParameter(4, IssuedCertificate.Kind.CLIENT)
                .getResultStream()
                .findFirst()
                .map(IssuedCertificates::summary);
    }

    /** The certificate with this serial, if the tenant CA issued one. */
    public Optional<CertificateSummary> find(String tenantId, String serial) {
        return Optional.ofNullable(em.find(IssuedCertificate.class, new IssuedCertificate.Key(tenantId, serial)))
                .map(IssuedCertificates::summary);
    }

    static CertificateSummary summary(IssuedCertificate c) {
        return new CertificateSummary(
                c.serial, c.subjectType.name(), c.subjectId, c.status.name(), c.notAfter, c.thumbprint, c.der);
    }
}
