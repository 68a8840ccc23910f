package io.m2mtrust.policy;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Size;

import java.util.Arrays;
import java.util.List;

/**
 * The policy as clients read and write it. Ranges here are checked by Bean Validation; the
 * enumerations and cross-field rules by {@link PolicyRules}.
 */
public record PolicyDocument(
        @NotNull @Size(min = 1, max = 32) List<@NotNull Integer> allowedSuids,
        @NotNull @Size(min = 1, max = 32) List<@NotNull String> joseAlgs,
        @NotNull @Size(min = 1, max = 8) List<@NotNull String> joseEncs,
        @NotNull @Size(min = 1, max = 16) List<@NotNull String> tlsCipherSuites,

        @NotNull @Min(60) @Max(PolicyRules.TEN_YEARS_SECONDS)
        Long defaultKeyLifetimeSeconds,

        @NotNull @Min(60) @Max(PolicyRules.TEN_YEARS_SECONDS)
        Long maxKeyLifetimeSeconds,

        @NotNull @Min(1) @Max(1000) Integer maxEsdataTargets,
        @NotNull @Min(1) @Max(1_000_000) Integer requestQuotaPerSecond,
        @NotNull Boolean allowHostMemoryKeys,

        /** Absent: twice {@code requestQuotaPerSecond}. */
        @Min(1) @Max(10_000_000) Integer requestBurst,

        /** Absent: {@code requestQuotaPerSecond}. */
        @Min(1) @Max(1_000_000) Integer hsmQuotaPerSecond,

        /** Absent: twice {@code hsmQuotaPerSecond}. */
        @Min(1) @Max(10_000_000) Integer hsmBurst) {

    /** A document without the quota fields: they take their defaults (as one written before they existed). */
    public PolicyDocument(
            List<Integer> allowedSuids,
            List<String> joseAlgs,
            List<String> joseEncs,
            List<String> tlsCipherSuites,
            Long defaultKeyLifetimeSeconds,
            Long maxKeyLifetimeSeconds,
            Integer maxEsdataTargets,
            Integer requestQuotaPerSecond,
            Boolean allowHostMemoryKeys) {
        this(
                allowedSuids,
                joseAlgs,
                joseEncs,
                tlsCipherSuites,
                defaultKeyLifetimeSeconds,
                maxKeyLifetimeSeconds,
                maxEsdataTargets,
                requestQuotaPerSecond,
                allowHostMemoryKeys,
                null,
                null,
                null);
    }

    public static PolicyDocument of(TenantPolicy p) {
        return new PolicyDocument(
                Arrays.asList(p.allowedSuids),
                Arrays.asList(p.joseAlgs),
                Arrays.asList(p.joseEncs),
                Arrays.asList(p.tlsCipherSuites),
                p.defaultKeyLifetimeSeconds,
                p.maxKeyLifetimeSeconds,
                p.maxEsdataTargets,
                p.requestQuotaPerSecond,
                p.allowHostMemoryKeys,
                p.requestBurst,
                p.hsmQuotaPerSecond,
                p.hsmBurst);
    }

    void applyTo(TenantPolicy p) {
        p.allowedSuids = allowedSuids.stream().distinct().sorted().toArray(Integer[]::new);
        p.joseAlgs = joseAlgs.stream().distinct().toArray(String[]::new);
        p.joseEncs = joseEncs.stream().distinct().toArray(String[]::new);
        p.tlsCipherSuites = tlsCipherSuites.stream().distinct().toArray(String[]::new);
        p.defaultKeyLifetimeSeconds = defaultKeyLifetimeSeconds;
        p.maxKeyLifetimeSeconds = maxKeyLifetimeSeconds;
        p.maxEsdataTargets = maxEsdataTargets;
        p.requestQuotaPerSecond = requestQuotaPerSecond;
        p.requestBurst = requestBurst != null ? requestBurst : 2 * requestQuotaPerSecond;
        p.hsmQuotaPerSecond = hsmQuotaPerSecond != null ? hsmQuotaPerSecond : requestQuotaPerSecond;
        p.hsmBurst = hsmBurst != null ? hsmBurst : 2 * p.hsmQuotaPerSecond;
        p.allowHostMemoryKeys = allowHostMemoryKeys;
    }
}
