package io.m2mtrust.testsupport;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.m2mtrust.devstack.KeycloakServer;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The admin API of packaged services as the platform admin of the real Keycloak (a fresh token every minute), over
 * HTTP/1.1 as a client behind an L7 balancer speaks it (the JDK client would otherwise offer an h2c upgrade that a
 * balancer passes on as a tunnel, pinning the connection to one replica); and the oneM2M calls those tests make.
 */
public final class AdminClient {

    public static final ObjectMapper JSON = new ObjectMapper();
    public static final HttpClient HTTP = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(3))
            .build();

    /** The policy fields an admin may write (the rest of the GET answer is read-only). */
    static final Set<String> WRITABLE_POLICY = Set.of(
            "allowedSuids",
            "joseAlgs",
            "joseEncs",
            "tlsCipherSuites",
            "defaultKeyLifetimeSeconds",
            "maxKeyLifetimeSeconds",
            "maxEsdataTargets",
            "requestQuotaPerSecond",
            "allowHostMemoryKeys",
            "requestBurst",
            "hsmQuotaPerSecond",
            "hsmBurst");

    private final KeycloakServer kc;
    private String token;
    private long tokenAt;

    public AdminClient(KeycloakServer kc) {
        this.kc = kc;
    }

    private synchronized String token() throws IOException, InterruptedException {
        if (token == null
                || System.nanoTime() - tokenAt > Duration.ofSeconds(60).toNanos()) {
            token = kc.passwordGrant("olivia", "olivia-demo-password");
            tokenAt = System.nanoTime();
        }
        return token;
    }

    /** One call; {@code headers} are name, value pairs. */
    public HttpResponse<String> call(String method, String url, Object body, String... headers) throws Exception {
        return callAs(token(), method, url, body, headers);
    }

    /** One call with a given bearer token (one issued earlier, a forged one); {@code headers} are name, value pairs. */
    public static HttpResponse<String> callAs(String token, String method, String url, Object body, String... headers)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json")
                .method(
                        method,
                        body == null
                                ? HttpRequest.BodyPublishers.noBody()
                                : HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A tenant's policy as read ({@code GET …/policy}), reduced to what a {@code PUT} takes. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> writablePolicy(String json) throws IOException {
        Map<String, Object> doc = JSON.readValue(json, Map.class);
        doc.keySet().retainAll(WRITABLE_POLICY);
        return doc;
    }

    /** The body that imports an ESPrim pre-provisioned key (SUID 13) for {@code Csensor} and {@code /id-in}, 1 h. */
    public static Map<String, Object> preprovisionedKey(String keyId, byte[] value) {
        return Map.of(
                "keyId", keyId,
                "suid", 13,
                "holders", List.of("Csensor", "/id-in"),
                "keyValue", Base64.getEncoder().encodeToString(value),
                "expiresAt", Instant.now().plusSeconds(3600).toString());
    }

    /** An ESPrim Notify ({@code m2m:seci}) from {@code Csensor} to the proxy's {@code /onem2m/{tenant}/cse-in}. */
    public static HttpResponse<String> esprimNotify(String base, String tenant, Object seci, String ri)
            throws Exception {
        return HTTP.send(
                HttpRequest.newBuilder(URI.create(base + "/onem2m/" + tenant + "/cse-in"))
                        .timeout(Duration.ofSeconds(30))
                        .header("X-M2M-Origin", "Csensor")
                        .header("X-M2M-RI", ri)
                        .header("X-M2M-RVI", "3")
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(Map.of("m2m:seci", seci))))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** The oneM2M response status code of an answer, or "none". */
    public static String rsc(HttpResponse<String> r) {
        return r.headers().firstValue("X-M2M-RSC").orElse("none");
    }
}
