package io.m2mtrust.policy;

import io.m2mtrust.common.ApiProblem;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a policy may contain: SUIDs of TS-0004 §6.3.4.2.39, JOSE algorithms that
 * oneM2M ESData/ESPrim use (RFC 7518; never {@code none}), TLS 1.2 suites of TS-0003 §10.2.
 */
public final class PolicyRules {

    public static final long TEN_YEARS_SECONDS = 315_360_000L;

    /** m2m:suid: tens digit = credential kind (1 pre-provisioned, 2 RSPF, 3 MAF, 4 certificate), units = usage. */
    public static final Set<Integer> KNOWN_SUIDS =
            Set.of(10, 11, 12, 13, 14, 15, 21, 22, 23, 24, 25, 32, 33, 34, 35, 40, 41, 42, 43, 44, 45);

    /** Every JOSE algorithm a policy may allow, in the order the default policy lists them. */
    static final List<String> JOSE_ALGS_IN_ORDER = List.of(
            "dir",
            "A128KW",
            "A192KW",
            "A256KW",
            "ECDH-ES+A128KW",
            "ECDH-ES+A192KW",
            "ECDH-ES+A256KW",
            "RSA-OAEP-256",
            "HS256",
            "HS384",
            "HS512",
            "ES256",
            "ES384",
            "ES512",
            "RS256",
            "RS384",
            "RS512");

    public static final Set<String> KNOWN_JOSE_ALGS = Set.copyOf(JOSE_ALGS_IN_ORDER);

    static final List<String> JOSE_ENCS_IN_ORDER = List.of("A128GCM", "A192GCM", "A256GCM");

    public static final Set<String> KNOWN_JOSE_ENCS = Set.copyOf(JOSE_ENCS_IN_ORDER);

    /** TS-0003 §10.2: the PSK suite is mandatory to implement; the certificate suite for ECDHE_ECDSA; GCM variants optional. */
    public static final Set<String> KNOWN_TLS_SUITES = Set.of(
            "TLS_PSK_WITH_AES_128_CBC_SHA256", "TLS_PSK_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");

    private PolicyRules() {}

    public static PolicyDocument defaults() {
        return new PolicyDocument(
                KNOWN_SUIDS.stream().sorted().toList(),
                JOSE_ALGS_IN_ORDER,
                JOSE_ENCS_IN_ORDER,
                List.of("TLS_PSK_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"),
                86_400L,
                31_536_000L,
                16,
                1000,
                false);
    }

    /** Field-level errors for enumerations and cross-field rules; throws a 400 problem if any. */
    public static void check(PolicyDocument d) {
        List<Map<String, String>> errors = new ArrayList<>();
        for (Integer s : d.allowedSuids()) {
            if (!KNOWN_SUIDS.contains(s)) {
                errors.add(ApiProblem.fieldError("allowedSuids", s + " is not a oneM2M SUID"));
            }
        }
        for (String a : d.joseAlgs()) {
            if ("none".equalsIgnoreCase(a)) {
                errors.add(ApiProblem.fieldError("joseAlgs", "'none' is never allowed"));
            } else if (!KNOWN_JOSE_ALGS.contains(a)) {
                errors.add(ApiProblem.fieldError("joseAlgs", "'" + a + "' is not a supported JOSE algorithm"));
            }
        }
        for (String e : d.joseEncs()) {
            if (!KNOWN_JOSE_ENCS.contains(e)) {
                errors.add(ApiProblem.fieldError("joseEncs", "'" + e + "' is not a supported JOSE content encryption"));
            }
        }
        for (String s : d.tlsCipherSuites()) {
            if (!KNOWN_TLS_SUITES.contains(s)) {
                errors.add(ApiProblem.fieldError("tlsCipherSuites", "'" + s + "' is not a TS-0003 TLS 1.2 suite"));
            }
        }
        if (!d.tlsCipherSuites().contains("TLS_PSK_WITH_AES_128_CBC_SHA256")
                && !d.tlsCipherSuites().contains("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256")) {
            errors.add(
                    ApiProblem.fieldError(
                            "tlsCipherSuites",
                            "must keep a mandatory suite (TLS_PSK_WITH_AES_128_CBC_SHA256 or TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256)"));
        }
        if (d.defaultKeyLifetimeSeconds() > d.maxKeyLifetimeSeconds()) {
            errors.add(ApiProblem.fieldError("defaultKeyLifetimeSeconds", "must not exceed maxKeyLifetimeSeconds"));
        }
        if (!errors.isEmpty()) {
            throw ApiProblem.invalid(errors);
        }
    }
}
