package io.m2mtrust.registration;

import io.m2mtrust.security.IdentityRevoked;
import io.m2mtrust.security.KeyRevoked;
import io.m2mtrust.security.Revocation;
import io.m2mtrust.security.RevocationEffects;
import io.m2mtrust.security.RevocationListener;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * Registration's part of a revocation: the client registrations of a revoked identity, and those made under a
 * revoked enrolment key (Ke), are deleted — and with them their Km and registered keys.
 */
@ApplicationScoped
class RegistrationRevocations implements RevocationListener {

    private final RegistrationStore registrations;

    RegistrationRevocations(RegistrationStore registrations) {
        this.registrations = registrations;
    }

    @Override
    public RevocationEffects revoke(Revocation event) {
        int n = 0;
        if (event instanceof IdentityRevoked i) {
            n = registrations.deleteOfClients(i.tenantId(), i.identities());
        } else if (event instanceof KeyRevoked k && k.kind() == KeyRevoked.Kind.ENROLMENT) {
            n = registrations.deleteUnderEnrolments(k.tenantId(), k.keyIds());
        }
        return RevocationEffects.of(RevocationEffects.REGISTRATIONS, n);
    }
}
