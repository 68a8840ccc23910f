package io.m2mtrust.console;

import jakarta.ws.rs.core.NewCookie;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * CSRF protection for console forms (double-submit): each form page sets a random token in a
 * {@code SameSite=Strict}, {@code HttpOnly} cookie scoped to /console and in a hidden field; a POST is accepted
 * only when both are present and equal. Another site can neither read the cookie nor make the browser send it.
 */
final class ConsoleCsrf {

    static final String COOKIE = "m2m-console-csrf";
    private static final SecureRandom RANDOM = new SecureRandom();

    private ConsoleCsrf() {}

    static String newToken() {
        byte[] b = new byte[24];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    static NewCookie cookie(String token, boolean secure) {
        return new NewCookie.Builder(COOKIE)
                .value(token)
                .path("/console")
                .httpOnly(true)
                .secure(secure)
                .sameSite(NewCookie.SameSite.STRICT)
                .build();
    }

    static boolean valid(String cookie, String field) {
        if (cookie == null || field == null || cookie.length() != 48 || field.length() != 48) {
            return false;
        }
        return MessageDigest.isEqual(
                cookie.getBytes(StandardCharsets.US_ASCII), field.getBytes(StandardCharsets.US_ASCII));
    }
}
