package io.m2mtrust.security;

/**
 * A feature that holds credentials bound to what a {@link Revocation} names (Leshan's {@code
 * EditableSecurityStore.remove(endpoint, infosAreCompromised)}, Hono's credentials-change notification). One
 * listener per owning feature; it touches only its own rows and caches.
 */
public interface RevocationListener {

    /**
     * Revokes this feature's rows for {@code event} inside the publisher's transaction (so the whole cascade commits
     * or none of it does); may publish further revocations and include their effects. Returns what it revoked.
     */
    RevocationEffects revoke(Revocation event);

    /** Drops what this replica cached about {@code event}; runs after the commit, and must not throw. */
    default void forget(Revocation event) {}
}
