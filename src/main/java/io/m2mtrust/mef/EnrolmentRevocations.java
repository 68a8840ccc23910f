package io.m2mtrust.mef;

import io.m2mtrust.security.IdentityRevoked;
import io.m2mtrust.security.KeyRevoked;
import io.m2mtrust.security.Revocation;
import io.m2mtrust.security.RevocationEffects;
import io.m2mtrust.security.RevocationListener;
import io.m2mtrust.security.Revocations;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Provider;

import java.util.List;

/**
 * The MEF's part of an identity's revocation: the enrolee's enrolments are revoked (their Ke no longer opens), and
 * the Ke of every enrolment it ever made is announced revoked, so registrations made under them go too.
 */
@ApplicationScoped
class EnrolmentRevocations implements RevocationListener {

    private final EnrolmentStore enrolments;
    private final Provider<Revocations> revocations;

    EnrolmentRevocations(EnrolmentStore enrolments, Provider<Revocations> revocations) {
        this.enrolments = enrolments;
        this.revocations = revocations;
    }

    @Override
    public RevocationEffects revoke(Revocation event) {
        if (!(event instanceof IdentityRevoked i)) {
            return RevocationEffects.NONE;
        }
        List<String> keIds = enrolments.keIdsOf(i.tenantId(), i.identities());
        RevocationEffects done = RevocationEffects.of(
                RevocationEffects.ENROLMENTS, enrolments.revokeAllOf(i.tenantId(), i.identities()));
        if (!keIds.isEmpty()) {
            done = done.plus(revocations
                    .get()
                    .publish(new KeyRevoked(i.tenantId(), KeyRevoked.Kind.ENROLMENT, keIds, i.cause())));
        }
        return done;
    }
}
