package io.m2mtrust.keys;

import io.m2mtrust.hsm.HsmKeyLabel;
import io.m2mtrust.hsm.KeyPurpose;

import java.time.Instant;

/**
 * One version of a tenant key as other packages see it: which purpose, which version, its state (PRIMARY, ACTIVE,
 * RETIRED, DESTROYED) and its HSM label — never key material.
 */
public record KeyVersionInfo(
        String tenantId,
        KeyPurpose purpose,
        int version,
        String state,
        HsmKeyLabel label,
        Instant createdAt,
        Instant retiredAt,
        boolean usableForOpen) {

    static KeyVersionInfo of(TenantKeyVersion v) {
        return new KeyVersionInfo(
                v.tenantId,
                v.purpose,
                v.version,
                v.state.name(),
                v.label(),
                v.createdAt,
                v.retiredAt,
                v.usableForOpen());
    }
}
