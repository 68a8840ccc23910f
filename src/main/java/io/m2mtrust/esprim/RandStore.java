package io.m2mtrust.esprim;

import io.quarkus.hibernate.orm.panache.PanacheQuery;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;

import java.time.Instant;
import java.util.Optional;

/**
 * The queries over ESPrim's tables: rand objects (TS-0003 §8.4.2, each row one {@link EsprimRand.Role}) and the
 * replay fingerprints of received ESPrim objects. Callers run inside a transaction.
 */
@ApplicationScoped
class RandStore {

    private final EntityManager em;

    RandStore(EntityManager em) {
        this.em = em;
    }

    /**
     * The newest rand object of {@code entityId} in {@code role} towards {@code peer} that expires after
     * {@code validAfter} (and, when {@code notAfterOrNull} is set, no later than it).
     */
    Optional<EsprimRand> newest(
            String tenantId,
            String entityId,
            EsprimRand.Role role,
            String peer,
            Instant validAfter,
            Instant notAfterOrNull) {
        String where = "tenantId = ?1 and entityId = ?2 and role = ?3 and peer = ?4 and expiresAt > ?5";
        PanacheQuery<EsprimRand> q = notAfterOrNull == null
                ? EsprimRand.find(where + " order by expiresAt desc", tenantId, entityId, role, peer, validAfter)
                : EsprimRand.find(
                        where + " and expiresAt <= ?6 order by expiresAt desc",
                        tenantId,
                        entityId,
                        role,
                        peer,
                        validAfter,
                        notAfterOrNull);
        return q.firstResultOptional();
    }

    /** The entity's newest shared receiver rand object expiring after {@code validAfter}. */
    Optional<EsprimRand> newestShared(String tenantId, String entityId, Instant validAfter) {
        return EsprimRand.find(
                        "tenantId = ?1 and entityId = ?2 and role = ?3 and shared = true and expiresAt > ?4 "
                                + "order by expiresAt desc",
                        tenantId,
                        entityId,
                        EsprimRand.Role.RECEIVER,
                        validAfter)
                .firstResultOptional();
    }

    /** How many receiver rand objects for one originator the entity holds that are still live at {@code now}. */
    long liveUnsharedReceivers(String tenantId, String entityId, Instant now) {
        return EsprimRand.count(
                "tenantId = ?1 and entityId = ?2 and role = ?3 and shared = false and expiresAt > ?4",
                tenantId,
                entityId,
                EsprimRand.Role.RECEIVER,
                now);
    }

    EsprimRand find(String tenantId, String entityId, EsprimRand.Role role, String randId) {
        return EsprimRand.findById(new EsprimRand.Key(tenantId, entityId, role, randId));
    }

    void insert(EsprimRand r) {
        r.persist();
    }

    void upsert(EsprimRand r) {
        em.merge(r);
    }

    /** Drops the rand objects kept when originating between {@code origin} and {@code receiverId}. */
    void forgetOriginated(String tenantId, String origin, String receiverId) {
        EsprimRand.delete(
                "tenantId = ?1 and entityId = ?2 and peer = ?3 and role in (?4, ?5)",
                tenantId,
                origin,
                receiverId,
                EsprimRand.Role.PEER_RECEIVER,
                EsprimRand.Role.OWN_ORIGINATOR);
    }

    /**
     * Records many replay fingerprints in one statement; the ones that were not there before come back (keyed
     * without their expiry). A fingerprint already present is left as it is.
     */
    java.util.Set<ReplayLedger.Fingerprint> rememberNewFingerprints(java.util.List<ReplayLedger.Fingerprint> rows) {
        StringBuilder sql =
                new StringBuilder("insert into esprim_seen (tenant_id, entity_id, fingerprint, expires_at) values ");
        for (int i = 0; i < rows.size(); i++) {
            int p = 4 * i;
            sql.append(i == 0 ? "" : ", ")
                    .append("(?")
                    .append(p + 1)
                    .append(", ?")
                    .append(p + 2)
                    .append(", ?")
                    .append(p + 3)
                    .append(", ?")
                    .append(p + 4)
                    .append(")");
        }
        sql.append(" on conflict do nothing returning tenant_id, entity_id, fingerprint");
        var q = em.createNativeQuery(sql.toString());
        for (int i = 0; i < rows.size(); i++) {
            ReplayLedger.Fingerprint f = rows.get(i);
            q.setParameter(4 * i + 1, f.tenantId())
                    .setParameter(4 * i + 2, f.entityId())
                    .setParameter(4 * i + 3, f.value())
                    .setParameter(4 * i + 4, f.until());
        }
        java.util.Set<ReplayLedger.Fingerprint> fresh = new java.util.HashSet<>();
        for (Object row : q.getResultList()) {
            Object[] r = (Object[]) row;
            fresh.add(new ReplayLedger.Fingerprint((String) r[0], (String) r[1], (String) r[2], null));
        }
        return fresh;
    }

    /** Deletes rand objects and replay fingerprints that expired before {@code now}; how many rows went. */
    int purgeExpired(Instant now) {
        long a = EsprimRand.delete("expiresAt < ?1", now);
        int b = em.createNativeQuery("delete from esprim_seen where expires_at < ?1")
                .setParameter(1, now)
                .executeUpdate();
        return (int) a + b;
    }
}
