package io.m2mtrust.security;

import java.util.List;

/**
 * Identities (KpmIDs, CSE-/AE-IDs, certificate subjects) no longer trusted at all, e.g. by a device's cascading
 * revoke: enrolments of these enrolees, client registrations of these clients and ESCertKE keys with these
 * identities on either side are revoked.
 */
public record IdentityRevoked(String tenantId, List<String> identities, String cause) implements Revocation {

    public IdentityRevoked {
        identities = List.copyOf(identities);
    }
}
