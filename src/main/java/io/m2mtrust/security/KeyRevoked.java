package io.m2mtrust.security;

import java.util.List;

/**
 * Keys of one family revoked by their owner; whatever was derived from or registered under them goes too. Today:
 * {@link Kind#ENROLMENT} — enrolment keys (Ke) by KeID, under which client registrations were made (TS-0003
 * §8.3.5.2.3).
 */
public record KeyRevoked(String tenantId, Kind kind, List<String> keyIds, String cause) implements Revocation {

    public enum Kind {
        /** Ke, named by its KeID. */
        ENROLMENT
    }

    public KeyRevoked {
        keyIds = List.copyOf(keyIds);
    }
}
