package io.m2mtrust.testsupport;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Walks Keycloak's own HTML pages the way a person's browser would (cookies, forms, links), for the steps a new
 * user takes once: following an invitation link, or signing in with a temporary password, and choosing a password.
 */
public final class KeycloakPages {

    private static final Pattern FORM_ACTION =
            Pattern.compile("<form[^>]*action=\"([^\"]+)\"", Pattern.CASE_INSENSITIVE);
    private static final Pattern PROCEED =
            Pattern.compile("href=\"([^\"]*(?:login-actions|action-token)[^\"]*)\"", Pattern.CASE_INSENSITIVE);

    private final HttpClient http =
            HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
    /**
     * Cookies by name. Keycloak marks its cookies Secure even on http://localhost (browsers treat localhost as a
     * secure context); the JDK's CookieManager would never send them back over http, so they are kept here.
     */
    private final Map<String, String> cookies = new LinkedHashMap<>();

    /** Follows an invitation e-mail's link and sets {@code newPassword}; returns Keycloak's last page. */
    public String completeInvitation(String link, String newPassword) throws Exception {
        return walk(link, null, null, newPassword, null);
    }

    /**
     * Signs in to the console client with a temporary password (authorization code flow with PKCE, as the console
     * does) and sets {@code newPassword} when Keycloak asks; returns where Keycloak finally redirects (with the code).
     */
    public String firstSignIn(
            String realmUrl, String consoleUrl, String username, String temporaryPassword, String newPassword)
            throws Exception {
        byte[] v = new byte[32];
        new SecureRandom().nextBytes(v);
        String verifier = Base64.getUrlEncoder().withoutPadding().encodeToString(v);
        String challenge = Base64.getUrlEncoder()
                .withoutPadding()
                .encodeToString(
                        MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII)));
        String redirect = consoleUrl + "/console/";
        String auth =
                realmUrl + "/protocol/openid-connect/auth?client_id=m2m-trust-console&response_type=code&scope=openid"
                        + "&redirect_uri=" + enc(redirect) + "&code_challenge=" + challenge
                        + "&code_challenge_method=S256&state=s1&nonce=n1";
        return walk(auth, username, temporaryPassword, newPassword, redirect);
    }

    private String walk(String start, String username, String password, String newPassword, String stopAt)
            throws Exception {
        String url = start;
        String page = null;
        String method = "GET";
        Map<String, String> form = null;
        for (int step = 0; step < 12; step++) {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url));
            if (!cookies.isEmpty()) {
                b.header(
                        "Cookie",
                        cookies.entrySet().stream()
                                .map(e -> e.getKey() + "=" + e.getValue())
                                .collect(Collectors.joining("; ")));
            }
            if ("POST".equals(method)) {
                b.header("Content-Type", "application/x-www-form-urlencoded")
                        .POST(HttpRequest.BodyPublishers.ofString(form.entrySet().stream()
                                .map(e -> enc(e.getKey()) + "=" + enc(e.getValue()))
                                .collect(Collectors.joining("&"))));
            }
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            for (String c : r.headers().allValues("Set-Cookie")) {
                String pair = c.split(";", 2)[0];
                int eq = pair.indexOf('=');
                if (eq > 0) {
                    cookies.put(
                            pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
                }
            }
            if (r.statusCode() == 302 || r.statusCode() == 303) {
                String next = URI.create(url)
                        .resolve(r.headers().firstValue("Location").orElseThrow())
                        .toString();
                if (stopAt != null && next.startsWith(stopAt)) {
                    return next;
                }
                url = next;
                method = "GET";
                continue;
            }
            page = r.body();
            Matcher action = FORM_ACTION.matcher(page);
            if (page.contains("name=\"password-new\"")) {
                url = html(action(action, page));
                form = new LinkedHashMap<>(Map.of("password-new", newPassword, "password-confirm", newPassword));
                method = "POST";
            } else if (username != null && page.contains("name=\"password\"") && page.contains("name=\"username\"")) {
                url = html(action(action, page));
                form = new LinkedHashMap<>(Map.of("username", username, "password", password));
                method = "POST";
                username = null; // once
            } else {
                Matcher proceed = PROCEED.matcher(page);
                if (stopAt == null && page.contains("account has been updated")) {
                    return page;
                }
                if (!proceed.find()) {
                    return page;
                }
                url = URI.create(url).resolve(html(proceed.group(1))).toString();
                method = "GET";
            }
        }
        throw new AssertionError("Keycloak's pages did not end within 12 steps; last page:\n" + page);
    }

    private static String action(Matcher m, String page) {
        if (!m.find()) {
            throw new AssertionError("no form on Keycloak's page:\n" + page);
        }
        return m.group(1);
    }

    private static String html(String s) {
        return s.replace("&amp;", "&");
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
