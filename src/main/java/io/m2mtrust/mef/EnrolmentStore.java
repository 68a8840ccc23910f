package io.m2mtrust.mef;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** Queries over {@link Enrolment} rows for revocations and lineage; answers carry no key material. */
@ApplicationScoped
public class EnrolmentStore {

    /** One enrolment of an enrolee, as the lineage shows it. */
    public record EnrolmentSummary(
            String enroleeId, String keId, String status, Instant createdAt, Instant expiresAt) {}

    private final EntityManager em;

    EnrolmentStore(EntityManager em) {
        this.em = em;
    }

    /** The enrolments of these enrolees (KpmIDs, CSE/AE-IDs), newest first, at most {@code max}. */
    public List<EnrolmentSummary> of(String tenantId, List<String> enroleeIds, int max) {
        if (enroleeIds.isEmpty()) {
            return List.of();
        }
        return em.createQuery(
                        "from Enrolment where tenantId = ?1 and enroleeId in ?2 order by createdAt desc",
                        Enrolment.class)
                .setParameter(1, tenantId)
                .setParameter(2, enroleeIds)
                .setMaxResults(max)
                .getResultStream()
                .map(e -> new EnrolmentSummary(e.enroleeId, e.keId, e.status.name(), e.createdAt, e.expiresAt))
                .toList();
    }

    /** The enrolment made with {@code keId} or by {@code enroleeId}, newest first, at most {@code max}. */
    public List<EnrolmentSummary> byKeIdOrEnrolee(String tenantId, String keId, String enroleeId, int max) {
        return em.createQuery(
                        "from Enrolment e where e.tenantId = ?1 and (e.keId = ?2 or e.enroleeId = ?3) order by e.createdAt desc",
                        Enrolment.class)
                .setParameter(1, tenantId)
                .setParameter(2, keId == null ? "" : keId)
                .setParameter(3, enroleeId)
                .setMaxResults(max)
                .getResultStream()
                .map(e -> new EnrolmentSummary(e.enroleeId, e.keId, e.status.name(), e.createdAt, e.expiresAt))
                .toList();
    }

    /** The enrolee of the live (active, unexpired) enrolment {@code keId}. */
    public Optional<String> liveEnroleeOf(String tenantId, String keId) {
        Enrolment e = em.find(Enrolment.class, new Enrolment.Key(tenantId, keId));
        return e != null && e.status == Enrolment.Status.ACTIVE && e.expiresAt.isAfter(Instant.now())
                ? Optional.of(e.enroleeId)
                : Optional.empty();
    }

    List<String> keIdsOf(String tenantId, List<String> enroleeIds) {
        if (enroleeIds.isEmpty()) {
            return List.of();
        }
        return em.createQuery("select keId from Enrolment where tenantId = ?1 and enroleeId in ?2", String.class)
                .setParameter(1, tenantId)
                .setParameter(2, enroleeIds)
                .getResultList();
    }

    int revokeAllOf(String tenantId, List<String> enroleeIds) {
        if (enroleeIds.isEmpty()) {
            return 0;
        }
        return em.createQuery(
                        "update Enrolment set status = ?1 where tenantId = ?2 and enroleeId in ?3 and status <> ?1")
                .setParameter(1, Enrolment.Status.REVOKED)
                .setParameter(2, tenantId)
                .setParameter(3, enroleeIds)
                .executeUpdate();
    }

    /** Marks the enrolee's active enrolment REPLACED (a new one is about to be stored); how many rows changed. */
    int replaceActive(String tenantId, String enroleeId) {
        return em.createQuery("update Enrolment set status = ?1 where tenantId = ?2 and enroleeId = ?3 and status = ?4")
                .setParameter(1, Enrolment.Status.REPLACED)
                .setParameter(2, tenantId)
                .setParameter(3, enroleeId)
                .setParameter(4, Enrolment.Status.ACTIVE)
                .executeUpdate();
    }
}
