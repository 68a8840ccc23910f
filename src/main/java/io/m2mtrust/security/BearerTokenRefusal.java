package io.m2mtrust.security;

import org.eclipse.microprofile.config.ConfigProvider;
import org.jose4j.jwt.JwtClaims;
import org.jose4j.jwt.MalformedClaimException;
import org.jose4j.jwt.consumer.ErrorCodes;
import org.jose4j.jwt.consumer.InvalidJwtException;

/**
 * Why a bearer token was refused, in words a caller can act on (the problem detail of a 401 and the
 * {@code error_description} of RFC 6750 §3): issuer mismatch, audience mismatch, expired, bad signature.
 * Never the token itself; the token's own {@code iss} is quoted (printable ASCII, bounded) because an issuer
 * spelled another way — {@code 127.0.0.1} for {@code localhost} — is the usual cause and invisible otherwise.
 */
public record BearerTokenRefusal(String error, String detail) {

    private static final int MAX_QUOTED = 200;

    public static BearerTokenRefusal of(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof InvalidJwtException jwt) {
                return of(jwt);
            }
        }
        return new BearerTokenRefusal("invalid_token", "the bearer token is missing, malformed or not accepted");
    }

    private static BearerTokenRefusal of(InvalidJwtException jwt) {
        if (jwt.hasErrorCode(ErrorCodes.ISSUER_INVALID) || jwt.hasErrorCode(ErrorCodes.ISSUER_MISSING)) {
            return new BearerTokenRefusal(
                    "issuer mismatch",
                    "issuer mismatch: the token was issued by " + quoted(issuerOf(jwt))
                            + ", this service accepts tokens of " + quoted(expectedIssuer())
                            + " only (the issuer is compared as spelled: "
                            + "localhost and 127.0.0.1 are different issuers)");
        }
        if (jwt.hasExpired()) {
            return new BearerTokenRefusal("token expired", "the bearer token has expired");
        }
        if (jwt.hasErrorCode(ErrorCodes.AUDIENCE_INVALID) || jwt.hasErrorCode(ErrorCodes.AUDIENCE_MISSING)) {
            return new BearerTokenRefusal("audience mismatch", "audience mismatch: the token is not for this service");
        }
        if (jwt.hasErrorCode(ErrorCodes.SIGNATURE_INVALID) || jwt.hasErrorCode(ErrorCodes.SIGNATURE_MISSING)) {
            return new BearerTokenRefusal(
                    "invalid signature", "the bearer token's signature does not verify with the issuer's keys");
        }
        return new BearerTokenRefusal("invalid_token", "the bearer token is not accepted");
    }

    /** The {@code WWW-Authenticate} challenge (RFC 6750 §3): {@code error="invalid_token"} and the reason. */
    public String challenge() {
        return "Bearer error=\"invalid_token\", error_description=\"" + error + "\"";
    }

    private static String issuerOf(InvalidJwtException jwt) {
        try {
            JwtClaims claims =
                    jwt.getJwtContext() == null ? null : jwt.getJwtContext().getJwtClaims();
            return claims == null ? null : claims.getIssuer();
        } catch (MalformedClaimException e) {
            return null;
        }
    }

    private static String expectedIssuer() {
        var config = ConfigProvider.getConfig();
        return config.getOptionalValue("quarkus.oidc.token.issuer", String.class)
                .or(() -> config.getOptionalValue("quarkus.oidc.auth-server-url", String.class))
                .orElse(null);
    }

    /** Printable ASCII only, at most 200 characters, in quotes: a claim from an unverified token never reaches a log or answer raw. */
    static String quoted(String value) {
        if (value == null) {
            return "(none)";
        }
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < value.length() && i < MAX_QUOTED; i++) {
            char c = value.charAt(i);
            b.append(c >= 0x20 && c < 0x7f && c != '"' && c != '\\' ? c : '?');
        }
        return b.append(value.length() > MAX_QUOTED ? "…\"" : "\"").toString();
    }
}
