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

    /**
     * TS-0003 §10.2.2/§10.2.3: over TLS the CBC_SHA256 suites are mandatory to implement, over DTLS the CCM_8 ones
     * (RFC 6655, RFC 7251); GCM variants optional. Each listener negotiates those of the list it implements.
     */
    public static final Set<String> KNOWN_TLS_SUITES = Set.of(
            "TLS_PSK_WITH_AES_128_CBC_SHA256",
            "TLS_PSK_WITH_AES_128_GCM_SHA256",
            "TLS_PSK_WITH_AES_128_CCM_8",
            "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8");

    /** A policy keeps at least one of these: the suites every TS-0003 peer implements over TLS or DTLS. */
    static final List<String> MANDATORY_TLS_SUITES = List.of(
            "TLS_PSK_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
            "TLS_PSK_WITH_AES_128_CCM_8", "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8");

    private PolicyRules() {}

    public static PolicyDocument defaults() {
        return new PolicyDocument(
                KNOWN_SUIDS.stream().sorted().toList(),
                JOSE_ALGS_IN_ORDER,
                JOSE_ENCS_IN_ORDER,
                List.of(
                        "TLS_PSK_WITH_AES_128_CBC_SHA256",
                        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
                        "TLS_PSK_WITH_AES_128_CCM_8",
                        "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8"),
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
        if (MANDATORY_TLS_SUITES.stream().noneMatch(d.tlsCipherSuites()::contains)) {
            errors.add(ApiProblem.fieldError(
                    "tlsCipherSuites",
                    "must keep a mandatory suite (one of " + String.join(", ", MANDATORY_TLS_SUITES) + ")"));
        }
        if (d.defaultKeyLifetimeSeconds() > d.maxKeyLifetimeSeconds()) {
            errors.add(ApiProblem.fieldError("defaultKeyLifetimeSeconds", "must not exceed maxKeyLifetimeSeconds"));
        }
        if (!errors.isEmpty()) {
            throw ApiProblem.invalid(errors);
        }
    }
}
