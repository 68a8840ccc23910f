package io.m2mtrust.ca;

import io.quarkus.hibernate.orm.panache.PanacheQuery;
import io.quarkus.panache.common.Page;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import jakarta.persistence.LockModeType;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The one place that queries the CA's tables ({@code issued_certificate}, {@code tenant_crl}). Its public methods
 * answer other features and the lineage with metadata only.
 */
@ApplicationScoped
public class CertificateStore {

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

    CertificateStore(EntityManager em) {
        this.em = em;
    }

    /** Certificates issued to these enrolees (KpmIDs), newest first, at most {@code max}. */
    public List<CertificateSummary> issuedTo(String tenantId, List<String> enroleeIds, int max) {
        if (enroleeIds.isEmpty()) {
            return List.of();
        }
        return summaries(
                IssuedCertificate.find("tenantId = ?1 and enroleeId in ?2 order by issuedAt desc", tenantId, enroleeIds)
                        .page(Page.ofSize(max)));
    }

    /** The newest valid certificate naming {@code subjectId}, if any. */
    public Optional<CertificateSummary> newestValidFor(String tenantId, String subjectId) {
        return first(IssuedCertificate.find(
                "tenantId = ?1 and subjectId = ?2 and status = ?3 order by issuedAt desc",
                tenantId,
                subjectId,
                IssuedCertificate.Status.VALID));
    }

    /** The newest valid end-entity (client) certificate naming {@code subjectId}: an ESData recipient's. */
    public Optional<CertificateSummary> newestValidClient(String tenantId, String subjectId) {
        return first(IssuedCertificate.find(
                "tenantId = ?1 and subjectId = ?2 and status = ?3 and kind = ?4 order by issuedAt desc",
                tenantId,
                subjectId,
                IssuedCertificate.Status.VALID,
                IssuedCertificate.Kind.CLIENT));
    }

    /** The valid end-entity certificate that {@code x5t#S256} names (indexed column, one query). */
    public Optional<CertificateSummary> validClientByThumbprint(String tenantId, String x5t) {
        return first(IssuedCertificate.find(
                "tenantId = ?1 and thumbprint = ?2 and status = ?3 and kind = ?4",
                tenantId,
                x5t,
                IssuedCertificate.Status.VALID,
                IssuedCertificate.Kind.CLIENT));
    }

    /** The certificate with this serial, if the tenant CA issued one. */
    public Optional<CertificateSummary> find(String tenantId, String serial) {
        return IssuedCertificate.<IssuedCertificate>findByIdOptional(new IssuedCertificate.Key(tenantId, serial))
                .map(CertificateStore::summary);
    }

    static CertificateSummary summary(IssuedCertificate c) {
        return new CertificateSummary(
                c.serial, c.subjectType.name(), c.subjectId, c.status.name(), c.notAfter, c.thumbprint, c.der);
    }

    private static Optional<CertificateSummary> first(PanacheQuery<IssuedCertificate> query) {
        return query.firstResultOptional().map(CertificateStore::summary);
    }

    private static List<CertificateSummary> summaries(PanacheQuery<IssuedCertificate> query) {
        return query.list().stream().map(CertificateStore::summary).toList();
    }

    /** The tenant's valid TLS server certificates. */
    List<IssuedCertificate> validServerCertificates(String tenantId) {
        return IssuedCertificate.list(
                "tenantId = ?1 and kind = ?2 and status = ?3",
                tenantId,
                IssuedCertificate.Kind.SERVER,
                IssuedCertificate.Status.VALID);
    }

    /**
     * The valid client certificates of {@code subjectId} (one at most, by a partial unique index); {@code lock}
     * locks them for the caller's transaction, so issuing for one subject serialises.
     */
    List<IssuedCertificate> validClientCertificates(String tenantId, String subjectId, boolean lock) {
        PanacheQuery<IssuedCertificate> q = IssuedCertificate.find(
                "tenantId = ?1 and kind = ?2 and subjectId = ?3 and status = ?4",
                tenantId,
                IssuedCertificate.Kind.CLIENT,
                subjectId,
                IssuedCertificate.Status.VALID);
        return (lock ? q.withLock(LockModeType.PESSIMISTIC_WRITE) : q).list();
    }

    /** Certificates newest first, optionally of one status or one subject. */
    List<IssuedCertificate> page(
            String tenantId, IssuedCertificate.Status statusOrNull, String subjectOrNull, int offset, int limit) {
        if (limit <= 0) {
            return List.of();
        }
        return IssuedCertificate.<IssuedCertificate>find(
                        "tenantId = ?1 and (?2 is null or status = ?2) and (?3 is null or subjectId = ?3) "
                                + "order by issuedAt desc, serial",
                        tenantId,
                        statusOrNull,
                        subjectOrNull)
                .range(offset, offset + limit - 1)
                .list();
    }

    /** What a CRL of CA version {@code caVersion} lists at {@code now}: revoked or superseded, not yet expired. */
    List<IssuedCertificate> revokedUnexpired(String tenantId, int caVersion, Instant now) {
        return IssuedCertificate.list(
                "tenantId = ?1 and caVersion = ?2 and status <> ?3 and notAfter > ?4 order by revokedAt",
                tenantId,
                caVersion,
                IssuedCertificate.Status.VALID,
                now);
    }

    /** The CRL state of a CA version; {@code der} and {@code nextUpdate} are null before the first CRL. */
    record CrlRow(long number, byte[] der, Instant nextUpdate) {}

    /** The CRL row of a CA version, created when missing and locked for the caller's transaction. */
    CrlRow lockCrl(String tenantId, int caVersion) {
        em.createNativeQuery("insert into tenant_crl (tenant_id, ca_version, crl_number) values (?1, ?2, 0) "
                        + "on conflict do nothing")
                .setParameter(1, tenantId)
                .setParameter(2, caVersion)
                .executeUpdate();
        Object[] row = (Object[]) em.createNativeQuery("select crl_number, der, next_update from tenant_crl "
                        + "where tenant_id = ?1 and ca_version = ?2 for update")
                .setParameter(1, tenantId)
                .setParameter(2, caVersion)
                .getSingleResult();
        return new CrlRow(
                ((Number) row[0]).longValue(), (byte[]) row[1], row[2] == null ? null : Certificates.toInstant(row[2]));
    }

    void storeCrl(String tenantId, int caVersion, long number, byte[] der, Instant thisUpdate, Instant nextUpdate) {
        em.createNativeQuery("update tenant_crl set crl_number = ?3, der = ?4, this_update = ?5, next_update = ?6 "
                        + "where tenant_id = ?1 and ca_version = ?2")
                .setParameter(1, tenantId)
                .setParameter(2, caVersion)
                .setParameter(3, number)
                .setParameter(4, der)
                .setParameter(5, thisUpdate)
                .setParameter(6, nextUpdate)
                .executeUpdate();
    }

    /** The next {@link #lockCrl} of this CA version re-signs (after a revocation). */
    void markCrlStale(String tenantId, int caVersion) {
        em.createNativeQuery("update tenant_crl set der = null where tenant_id = ?1 and ca_version = ?2")
                .setParameter(1, tenantId)
                .setParameter(2, caVersion)
                .executeUpdate();
    }
}
