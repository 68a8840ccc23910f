package io.m2mtrust.esprim;

import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Optional;

/**
 * Rand objects this service keeps when it originates ESPrim for a local entity (TS-0003 §8.4.2): the remote
 * receiver's rand object it was given, and its own originator rand object. Each call is its own transaction.
 */
@ApplicationScoped
public class OriginatorRands {

    private final RandStore store;

    OriginatorRands(RandStore store) {
        this.store = store;
    }

    /** The newest receiver rand object of {@code receiverId} for {@code origin} still valid after {@code validAfter}. */
    public Optional<RandObject> peerReceiver(String tenantId, String origin, String receiverId, Instant validAfter) {
        return QuarkusTransaction.requiringNew()
                .call(() -> store.newest(tenantId, origin, EsprimRand.Role.PEER_RECEIVER, receiverId, validAfter, null)
                        .map(EsprimRand::toRandObject));
    }

    /**
     * The newest own originator rand object of {@code origin} towards {@code receiverId} valid after {@code
     * validAfter} and expiring no later than {@code notAfter} (the receiver's rand object).
     */
    public Optional<RandObject> ownOriginator(
            String tenantId, String origin, String receiverId, Instant validAfter, Instant notAfter) {
        return QuarkusTransaction.requiringNew()
                .call(() -> store.newest(
                                tenantId, origin, EsprimRand.Role.OWN_ORIGINATOR, receiverId, validAfter, notAfter)
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
        QuarkusTransaction.requiringNew().run(() -> store.forgetOriginated(tenantId, origin, receiverId));
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
        QuarkusTransaction.requiringNew().run(() -> store.upsert(e));
    }
}
