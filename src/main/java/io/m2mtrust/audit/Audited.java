package io.m2mtrust.audit;

/**
 * What an audited change made, and how its SUCCESS link reads: the detail (never key material) and, when the
 * change made something with a name of its own (an HSM label, a new version), that name as the link's target.
 */
public record Audited<T>(T result, String targetOrNull, String detail) {

    public static <T> Audited<T> of(T result, String detail) {
        return new Audited<>(result, null, detail);
    }

    /** Chained on {@code target} instead of the target the attempt was announced with. */
    public static <T> Audited<T> at(String target, T result, String detail) {
        return new Audited<>(result, target, detail);
    }
}
