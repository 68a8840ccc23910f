package io.m2mtrust.esprim;

import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Optional;

/**
 * Rand objects this service keeps when it originates ESPrim for a local entity (TS-0003 §8.4.2): the remote
 * receiver's rand object it was given, and its own originator rand object. Each call is its own transaction.
 */
@ApplicationScoped
public class OriginatorRands {

    private final EntityManager em;

    OriginatorRands(EntityManager em) {
        this.em = em;
    }

    /** The newest receiver rand object of {@code receiverId} for {@code origin} still valid after {@code validAfter}. */
    public Optional<RandObject> peerReceiver(String tenantId, String origin, String receiverId, Instant validAfter) {
        return QuarkusTransaction.requiringNew()
                .call(() -> em.createQuery(
                                "from EsprimRand where tenantId = ?1 and entityId = ?2 and role = ?3 and peer = ?4 and expiresAt > ?5 order by expiresAt desc",
                                EsprimRand.class)
                        .setParameter(1, tenantId)
                        .setParameter(2, origin)
                        .setParameter(3, EsprimRand.Role.PEER_RECEIVER)
                        .setParameter(4, receiverId)
                        .setParameter(5, validAfter)
                        .setMaxResults(1)
                        .getResultStream()
                        .findFirst()
                        .map(EsprimRand::toRandObject));
    }

    /**
     * The newest own originator rand object of {@code origin} towards {@code receiverId} valid after {@code
     * validAfter} and expiring no later than {@code notAfter} (the receiver's rand object).
     */
    public Optional<RandObject> ownOriginator(
            String tenantId, String origin, String receiverId, Instant validAfter, Instant notAfter) {
        return QuarkusTransaction.requiringNew()
                .call(() -> em.createQuery(
                                "from EsprimRand where tenantId = ?1 and entityId = ?2 and role = ?3 and peer = ?4 and expiresAt > ?5 and expiresAt <= ?6 "
                                        + "order by expiresAt desc",
                                EsprimRand.class)
                        .setParameter(1, tenantId)
                        .setParameter(2, origin)
                        .setParameter(3, EsprimRand.Role.OWN_ORIGINATOR)
                        .setParameter(4, receiverId)
                        .setParameter(5, validAfter)
                        .setParameter(6, notAfter)
                        .setMaxResults(1)
                        .getResultStream()
                        .findFirst()
                        .map(EsprimRand::toRandObject));
    }

    public void storePeerReceiver(String tenantId, String origin, String receiverId, RandObject r) {
        store(tenantId, origin, EsprimRand.Role.PEER_RECEIVER, receiverId, r);
    }

    public void storeOwnOriginator(String tenantId, String origin, String receiverId, RandObject r) {
        store(tenantId, origin, EsprimRand.Role.OWN_ORIGINATOR, receiverId, r);
    }

    /** Drops both rand objects between {@code origin} and {@code receiverId} (the receiver refused them). */
    public void forget(String tenantId, String origin, String receiverId) {
        QuarkusTransaction.requiringNew()
                .run(() -> em.createQuery("delete from EsprimRand where tenantId = ?1 and entityId = ?2 and peer = ?3 "
                                + "and role in (?4, ?5)")
                        .setParameter(1, tenantId)
                        .setParameter(2, origin)
                        .setParameter(3, receiverId)
                        .setParameter(4, EsprimRand.Role.PEER_RECEIVER)
                        .setParameter(5, EsprimRand.Role.OWN_ORIGINATOR)
                        .executeUpdate());
    }

    private void store(String tenantId, String origin, EsprimRand.Role role, String peer, RandObject r) {
        EsprimRand e = new EsprimRand();
        e.tenantId = tenantId;
        e.entityId = origin;
        e.role = role;
        e.randId = r.id();
        e.peer = peer;
        e.shared = false;
        e.randValue = r.value();
        e.keyGenAlgs = r.keyGenAlgs().toArray(Integer[]::new);
        e.protocolAlgs = r.protocolAlgs().toArray(Integer[]::new);
        e.expiresAt = r.expiry();
        e.createdAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
        QuarkusTransaction.requiringNew().run(() -> em.merge(e));
    }
}
