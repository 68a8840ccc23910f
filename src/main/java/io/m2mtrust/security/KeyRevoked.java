package io.m2mtrust.security;

import java.util.List;

/**
 * Keys of one family revoked by their owner; whatever was derived from or registered under them goes too:
 * {@link Kind#ENROLMENT} — enrolment keys (Ke) by KeID, under which client registrations were made (TS-0003
 * §8.3.5.2.3); {@link Kind#PREPROVISIONED} and {@link Kind#ESCERTKE} — pre-provisioned and ESCertKE-established
 * ESPrim/ESData keys by key id, from which sessions in memory were derived.
 */
public record KeyRevoked(String tenantId, Kind kind, List<String> keyIds, String cause) implements Revocation {

    public enum Kind {
        /** Ke, named by its KeID. */
        ENROLMENT,
        /** A pre-provisioned symmetric key (TS-0003 §8.2.2), named by its key id. */
        PREPROVISIONED,
        /** A key established by ESCertKE (TS-0003 §8.7), named by its key id. */
        ESCERTKE
    }

    public KeyRevoked {
        keyIds = List.copyOf(keyIds);
    }
}
