package io.m2mtrust.esprim;

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
        var query = em.createQuery(
                        "from EsprimRand where tenantId = ?1 and entityId = ?2 and role = ?3 and peer = ?4 "
                                + "and expiresAt > ?5"
                                + (notAfterOrNull == null ? "" : " and expiresAt <= ?6")
                                + " order by expiresAt desc",
                        EsprimRand.class)
                .setParameter(1, tenantId)
                .setParameter(2, entityId)
                .setParameter(3, role)
                .setParameter(4, peer)
                .setParameter(5, validAfter);
        if (notAfterOrNull != null) {
            query.setParameter(6, notAfterOrNull);
        }
        return query.setMaxResults(1).getResultStream().findFirst();
    }

    /** The entity's newest shared receiver rand object expiring after {@code validAfter}. */
    Optional<EsprimRand> newestShared(String tenantId, String entityId, Instant validAfter) {
        return em.createQuery(
                        "from EsprimRand where tenantId = ?1 and entityId = ?2 and role = ?3 and shared = true "
                                + "and expiresAt > ?4 order by expiresAt desc",
                        EsprimRand.class)
                .setParameter(1, tenantId)
                .setParameter(2, entityId)
                .setParameter(3, EsprimRand.Role.RECEIVER)
                .setParameter(4, validAfter)
                .setMaxResults(1)
                .getResultStream()
                .findFirst();
    }

    /** How many receiver rand objects for one originator the entity holds that are still live at {@code now}. */
    long liveUnsharedReceivers(String tenantId, String entityId, Instant now) {
        return em.createQuery(
                        "select count(r) from EsprimRand r where r.tenantId = ?1 and r.entityId = ?2 and r.role = ?3 "
                                + "and r.shared = false and r.expiresAt > ?4",
                        Long.class)
                .setParameter(1, tenantId)
                .setParameter(2, entityId)
                .setParameter(3, EsprimRand.Role.RECEIVER)
                .setParameter(4, now)
                .getSingleResult();
    }

    EsprimRand find(String tenantId, String entityId, EsprimRand.Role role, String randId) {
        return em.find(EsprimRand.class, new EsprimRand.Key(tenantId, entityId, role, randId));
    }

    void insert(EsprimRand r) {
        em.persist(r);
    }

    void upsert(EsprimRand r) {
        em.merge(r);
    }

    /** Drops the rand objects kept when originating between {@code origin} and {@code receiverId}. */
    void forgetOriginated(String tenantId, String origin, String receiverId) {
        em.createQuery("delete from EsprimRand where tenantId = ?1 and entityId = ?2 and peer = ?3 "
                        + "and role in (?4, ?5)")
                .setParameter(1, tenantId)
                .setParameter(2, origin)
                .setParameter(3, receiverId)
                .setParameter(4, EsprimRand.Role.PEER_RECEIVER)
                .setParameter(5, EsprimRand.Role.OWN_ORIGINATOR)
                .executeUpdate();
    }

    /** Records a replay fingerprint; a unique violation (a fingerprint seen before) surfaces to the caller. */
    void rememberFingerprint(String tenantId, String entityId, String fingerprint, Instant until) {
        em.createNativeQuery("insert into esprim_seen (tenant_id, entity_id, fingerprint, expires_at) "
                        + "values (?1, ?2, ?3, ?4)")
                .setParameter(1, tenantId)
                .setParameter(2, entityId)
                .setParameter(3, fingerprint)
                .setParameter(4, until)
                .executeUpdate();
    }

    /** Deletes rand objects and replay fingerprints that expired before {@code now}; how many rows went. */
    int purgeExpired(Instant now) {
        int a = em.createQuery("delete from EsprimRand where expiresAt < ?1")
                .setParameter(1, now)
                .executeUpdate();
        int b = em.createNativeQuery("delete from esprim_seen where expires_at < ?1")
                .setParameter(1, now)
                .executeUpdate();
        return a + b;
    }
}
