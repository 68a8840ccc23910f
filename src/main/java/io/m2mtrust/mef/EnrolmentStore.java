package io.m2mtrust.mef;

import io.quarkus.hibernate.orm.panache.PanacheQuery;
import io.quarkus.panache.common.Page;
import jakarta.enterprise.context.ApplicationScoped;
import org.hibernate.Session;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;

/** Queries over {@link Enrolment} rows for revocations and lineage; answers carry no key material. */
@ApplicationScoped
public class EnrolmentStore {

    /** One enrolment of an enrolee, as the lineage shows it. */
    public record EnrolmentSummary(
            String enroleeId, String keId, String status, Instant createdAt, Instant expiresAt) {}

    /** The enrolments of these enrolees (KpmIDs, CSE/AE-IDs), newest first, at most {@code max}. */
    public List<EnrolmentSummary> of(String tenantId, List<String> enroleeIds, int max) {
        return enroleeIds.isEmpty()
                ? List.of()
                : summaries(Enrolment.find(
                                "tenantId = ?1 and enroleeId in ?2 order by createdAt desc", tenantId, enroleeIds)
                        .page(Page.ofSize(max)));
    }

    /** The enrolment made with {@code keId} or by {@code enroleeId}, newest first, at most {@code max}. */
    public List<EnrolmentSummary> byKeIdOrEnrolee(String tenantId, String keId, String enroleeId, int max) {
        return summaries(Enrolment.find(
                        "tenantId = ?1 and (keId = ?2 or enroleeId = ?3) order by createdAt desc",
                        tenantId,
                        keId == null ? "" : keId,
                        enroleeId)
                .page(Page.ofSize(max)));
    }

    /** The enrolee of the live (active, unexpired) enrolment {@code keId}. */
    public Optional<String> liveEnroleeOf(String tenantId, String keId) {
        return Enrolment.<Enrolment>findByIdOptional(new Enrolment.Key(tenantId, keId))
                .filter(e -> e.status == Enrolment.Status.ACTIVE && e.expiresAt.isAfter(Instant.now()))
                .map(e -> e.enroleeId);
    }

    List<String> keIdsOf(String tenantId, List<String> enroleeIds) {
        if (enroleeIds.isEmpty()) {
            return List.of();
        }
        List<Enrolment> enrolments = Enrolment.list("tenantId = ?1 and enroleeId in ?2", tenantId, enroleeIds);
        return enrolments.stream().map(e -> e.keId).toList();
    }

    int revokeAllOf(String tenantId, List<String> enroleeIds) {
        return enroleeIds.isEmpty()
                ? 0
                : Enrolment.update(
                        "status = ?1 where tenantId = ?2 and enroleeId in ?3 and status <> ?1",
                        Enrolment.Status.REVOKED,
                        tenantId,
                        enroleeIds);
    }

    /**
     * In one round trip (the enrolment hot path, issue 18): takes the enrolee's enrolment lock if no other transaction
     * holds it (never waits) and, when it did, marks the enrolee's active enrolment REPLACED and inserts {@code e} as
     * its new active one. Returns how many rows it replaced, or -1 when another enrolment of the same enrolee holds the
     * lock (nothing changed). The insert reads the replacement's count, so it runs after the update: the partial
     * unique index {@code enrolment_one_active} sees one active enrolment per enrolee at every point.
     */
    int replaceActiveWith(Enrolment e) {
        return Enrolment.getEntityManager().unwrap(Session.class).doReturningWork(c -> {
            try (PreparedStatement s =
                    c.prepareStatement("with l as (select pg_try_advisory_xact_lock(hashtextextended(?, 0)) as ok),"
                            + " u as (update enrolment set status = 'REPLACED' where tenant_id = ? and enrolee_id = ?"
                            + " and status = 'ACTIVE' and (select ok from l) returning 1),"
                            + " r as (select count(*) as n from u),"
                            + " i as (insert into enrolment (tenant_id, ke_id, enrolee_id, credential, sealed_ke, status,"
                            + " created_at, expires_at) select ?, ?, ?, ?, ?, 'ACTIVE', ?, ? from r where (select ok from l)"
                            + " returning 1)"
                            + " select (select ok from l), (select n from r), (select count(*) from i)")) {
                s.setString(1, "enrolment|" + e.tenantId + "|" + e.enroleeId);
                s.setString(2, e.tenantId);
                s.setString(3, e.enroleeId);
                s.setString(4, e.tenantId);
                s.setString(5, e.keId);
                s.setString(6, e.enroleeId);
                s.setString(7, e.credential.name());
                s.setBytes(8, e.sealedKe);
                s.setObject(9, OffsetDateTime.ofInstant(e.createdAt, ZoneOffset.UTC));
                s.setObject(10, OffsetDateTime.ofInstant(e.expiresAt, ZoneOffset.UTC));
                try (ResultSet r = s.executeQuery()) {
                    r.next();
                    return r.getBoolean(1) ? r.getInt(2) : -1;
                }
            }
        });
    }

    private static List<EnrolmentSummary> summaries(PanacheQuery<Enrolment> query) {
        return query.list().stream()
                .map(e -> new EnrolmentSummary(e.enroleeId, e.keId, e.status.name(), e.createdAt, e.expiresAt))
                .toList();
    }
}
