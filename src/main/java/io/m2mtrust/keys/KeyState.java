package io.m2mtrust.keys;

/**
 * The life of a versioned key in the HSM (a tenant key version, an enrolment group's epoch): the PRIMARY version
 * makes new things, ACTIVE ones still open and verify what they made, RETIRED ones no longer do (their HSM object
 * is destroyed), DESTROYED ones went with their owner (crypto-shredding).
 */
public enum KeyState {
    PRIMARY,
    ACTIVE,
    RETIRED,
    DESTROYED;

    /** Whether the key still works (PRIMARY or ACTIVE). */
    public boolean usable() {
        return this == PRIMARY || this == ACTIVE;
    }
}
