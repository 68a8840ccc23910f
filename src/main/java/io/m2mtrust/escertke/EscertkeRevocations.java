package io.m2mtrust.escertke;

import io.m2mtrust.security.ClientRevoked;
import io.m2mtrust.security.IdentityRevoked;
import io.m2mtrust.security.Revocation;
import io.m2mtrust.security.RevocationEffects;
import io.m2mtrust.security.RevocationListener;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.List;

/**
 * ESCertKE's part of every revocation: keys established with a revoked identity (either side) or a revoked client
 * stop being usable; a revoked certificate makes this replica re-read trust anchors and end-point credentials.
 */
@ApplicationScoped
class EscertkeRevocations implements RevocationListener {

    private final EscertkeStore keys;
    private final EscertkeService service;

    EscertkeRevocations(EscertkeStore keys, EscertkeService service) {
        this.keys = keys;
        this.service = service;
    }

    @Override
    public RevocationEffects revoke(Revocation event) {
        int n = 0;
        if (event instanceof IdentityRevoked i) {
            n = keys.revokeBoundTo(i.tenantId(), i.identities(), true);
        } else if (event instanceof ClientRevoked c) {
            n = keys.revokeBoundTo(c.tenantId(), List.of(c.clientId()), false);
        }
        return RevocationEffects.of(RevocationEffects.ESCERTKE_KEYS, n);
    }

    @Override
    public void forget(Revocation event) {
        service.forgetHere(event.tenantId());
    }
}
