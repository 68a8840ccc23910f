package io.m2mtrust.security;

import java.util.List;

/**
 * Keys of one family revoked by their owner; whatever was derived from or registered under them goes too:
 * {@link Kind#ENROLMENT} — enrolment keys (Ke) by KeID, under which client registrations were made (TS-0003
 * §8.3.5.2.3); {@link Kind#PREPROVISIONED} — pre-provisioned ESPrim/ESData keys by key id, from which sessions in
 * memory were derived.
 */
public record KeyRevoked(String tenantId, Kind kind, List<String> keyIds, String cause) implements Revocation {

    public enum Kind {
        /** Ke, named by its KeID. */
        ENROLMENT,
        /** A pre-provisioned symmetric key (TS-0003 §8.2.2), named by its key id. */
        PREPROVISIONED
    }

    public KeyRevoked {
        keyIds = List.copyOf(keyIds);
    }
}
