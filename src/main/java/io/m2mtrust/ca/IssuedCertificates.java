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
            String serial, String subjectType, String subjectId, String status, Instant notAfter, byte[] der) {

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

    /** The certificate with this serial, if the tenant CA issued one. */
    public Optional<CertificateSummary> find(String tenantId, String serial) {
        return Optional.ofNullable(em.find(IssuedCertificate.class, new IssuedCertificate.Key(tenantId, serial)))
                .map(IssuedCertificates::summary);
    }

    static CertificateSummary summary(IssuedCertificate c) {
        return new CertificateSummary(c.serial, c.subjectType.name(), c.subjectId, c.status.name(), c.notAfter, c.der);
    }
}
