package io.m2mtrust.quota;

import io.m2mtrust.tenant.DeviceFqdns;

import java.util.Locale;

/**
 * The buckets a tenant has (ADR 0026): one per device-facing function and service front, at the policy's request rate
 * and burst each, and one for its HSM-bound operations at the policy's HSM rate and burst.
 */
public enum QuotaBucket {
    /** The MEF on the device listeners (enrolment, fetchCredentials, EST, MEF client registration). */
    MEF,
    /** The MAF on the device listeners (client and key registration, key retrieval). */
    MAF,
    /** The tenant's CSE front on the device listeners (MAF-based SAEF Entity B). */
    CSE,
    /** The ESData API (encrypt, decrypt, sign, verify for applications). */
    ESDATA,
    /** The oneM2M proxy (ESPrim, ESCertKE, ESData and pass-through in front of the CSE). */
    PROXY,
    /** Every HSM operation under one of the tenant's keys, whatever asked for it. */
    HSM;

    public static QuotaBucket of(DeviceFqdns.Function function) {
        return switch (function) {
            case MEF -> MEF;
            case MAF -> MAF;
            case SAEF -> CSE;
        };
    }

    /** The name in metrics, problems and the console. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
