package io.m2mtrust.esprim;

import io.m2mtrust.cluster.ReplicaCaches;
import io.m2mtrust.security.Revocation;
import io.m2mtrust.security.RevocationEffects;
import io.m2mtrust.security.RevocationListener;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * ESPrim holds no rows a revocation names, but its sessions in memory (this package's receiver and the proxy's
 * originator) were derived from keys it may name: every replica ends the tenant's sessions, and the next primitive
 * resolves its key again (and is refused if it was revoked).
 */
@ApplicationScoped
public class EsprimRevocations implements RevocationListener {

    private final ReplicaCaches caches;

    EsprimRevocations(ReplicaCaches caches) {
        this.caches = caches;
    }

    @Override
    public RevocationEffects revoke(Revocation event) {
        return RevocationEffects.NONE;
    }

    @Override
    public void forget(Revocation event) {
        caches.forgetHere(EsprimReceiver.SESSIONS_TOPIC, event.tenantId());
    }
}
