package io.m2mtrust.audit;

import io.m2mtrust.hsm.HsmKeyLabel;

import java.security.PublicKey;
import java.util.Optional;

/**
 * What the audit log needs from the key service to sign and verify chain heads. Defined here and implemented by
 * {@code keys} so that {@code audit} sits below {@code keys} (which audits every key change).
 */
public interface AuditSigningKeys {

    /** The key that signs a chain's head now: the tenant's primary SIGN key, or the platform key. */
    HsmKeyLabel signingKeyOf(String chain);

    /** The public key of a SIGN key version, kept after its HSM object is destroyed; empty if unknown. */
    Optional<PublicKey> signingPublicKey(HsmKeyLabel label);
}
