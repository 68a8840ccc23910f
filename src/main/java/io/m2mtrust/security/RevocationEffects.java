package io.m2mtrust.security;

import java.util.Map;
import java.util.TreeMap;

/** How many rows of each kind a revocation revoked, for the publisher's audit entry and answer. */
public record RevocationEffects(Map<String, Integer> counts) {

    public static final String ENROLMENTS = "enrolments";
    public static final String REGISTRATIONS = "registrations";
    public static final String ESCERTKE_KEYS = "escertkeKeys";

    public static final RevocationEffects NONE = new RevocationEffects(Map.of());

    public RevocationEffects {
        counts = Map.copyOf(counts);
    }

    public static RevocationEffects of(String kind, int count) {
        return count == 0 ? NONE : new RevocationEffects(Map.of(kind, count));
    }

    public RevocationEffects plus(RevocationEffects other) {
        Map<String, Integer> sum = new TreeMap<>(counts);
        other.counts.forEach((k, v) -> sum.merge(k, v, Integer::sum));
        return new RevocationEffects(sum);
    }

    public int count(String kind) {
        return counts.getOrDefault(kind, 0);
    }
}
