package io.m2mtrust.esprim;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.m2mtrust.devstack.KeycloakServer;
import io.m2mtrust.testsupport.IndependentEsprim;
import io.m2mtrust.testsupport.MiniCse;
import io.m2mtrust.testsupport.RestartablePostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Replay protection survives a restart: the packaged service (real Keycloak for the admin API, embedded
 * PostgreSQL, the test SoftHSM2 token) accepts an ESPrim object, is stopped and started again on the same
 * database, and then refuses the same object (4000, replayed) while the session it belonged to still works.
 */
class EsprimRestartIT {

    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static RestartablePostgres pg;
    static KeycloakServer kc;
    static MiniCse cse;

    @BeforeAll
    static void start() throws Exception {
        pg = RestartablePostgres.start(Path.of("target/esprim-restart-it/pgdata"));
        kc = KeycloakServer.startForTests(Path.of("target/keycloak-it"));
        cse = MiniCse.start("/id-in", "cse-in");
    }

    @AfterAll
    static void stop() throws IOException {
        if (cse != null) {
            cse.close();
        }
        if (kc != null) {
            kc.close();
        }
        if (pg != null) {
            pg.close();
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** The packaged service on the shared database; returns the process and its base URL. */
    static Map.Entry<Process, String> service(Path log) throws Exception {
        int http = freePort();
        ProcessBuilder pb = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-jar",
                        "target/quarkus-app/quarkus-run.jar")
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().put("M2M_DB_URL", pg.current().getJdbcUrl("postgres", "m2mtrust"));
        pb.environment().put("M2M_DB_USER", "postgres");
        pb.environment().put("M2M_OIDC_URL", kc.realmUrl());
        pb.environment().put("M2M_KEYCLOAK_URL", kc.baseUrl());
        pb.environment().put("M2M_KEYCLOAK_PROVISIONER_SECRET", kc.provisionerSecret());
        pb.environment().put("M2M_HTTP_PORT", Integer.toString(http));
        pb.environment().put("M2M_DEVICE_TLS_PORT", Integer.toString(freePort()));
        pb.environment().put("M2M_DEVICE_DTLS_PORT", "0");
        Process p = pb.start();
        String base = "http://localhost:" + http;
        long end = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (System.nanoTime() < end) {
            if (!p.isAlive()) {
                throw new IllegalStateException("the service stopped: " + Files.readString(log));
            }
            try {
                if (HTTP.send(
                                        HttpRequest.newBuilder(URI.create(base + "/q/health/ready"))
                                                .build(),
                                        HttpResponse.BodyHandlers.discarding())
                                .statusCode()
                        == 200) {
                    return Map.entry(p, base);
                }
            } catch (IOException notYet) {
                // starting
            }
            Thread.sleep(300);
        }
        p.destroyForcibly();
        throw new IllegalStateException("the service did not get ready: " + Files.readString(log));
    }

    static HttpResponse<String> admin(String token, String method, String url, Object body) throws Exception {
        return HTTP.send(
                HttpRequest.newBuilder(URI.create(url))
                        .header("Authorization", "Bearer " + token)
                        .header("Content-Type", "application/json")
                        .method(
                                method,
                                body == null
                                        ? HttpRequest.BodyPublishers.noBody()
                                        : HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> notify(String url, Object seci, String ri) throws Exception {
        return HTTP.send(
                HttpRequest.newBuilder(URI.create(url))
                        .header("X-M2M-Origin", "Csensor")
                        .header("X-M2M-RI", ri)
                        .header("X-M2M-RVI", "3")
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(Map.of("m2m:seci", seci))))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static String object(byte[] session, String ori, String rri, Map<String, Object> oro, String rqi) {
        return IndependentEsprim.esprimObject(
                session,
                "restart-1@keys.restart.example",
                ori,
                rri,
                oro,
                "{\"op\":2,\"to\":\"cse-in\",\"fr\":\"Csensor\",\"rqi\":\"" + rqi + "\",\"rvi\":\"3\"}");
    }

    @Test
    void a_replayed_esprim_object_is_refused_after_the_service_restarts_and_the_session_goes_on() throws Exception {
        Path log1 = Files.createTempFile("m2m-restart-1-", ".log");
        Map.Entry<Process, String> first = service(log1);
        String base = first.getValue();
        String token = kc.passwordGrant("olivia", "olivia-demo-password");
        String t = base + "/api/v1/tenants/restart-co";
        assertThat(admin(token, "POST", base + "/api/v1/tenants", Map.of("id", "restart-co", "name", "restart"))
                        .statusCode())
                .isEqualTo(201);
        assertThat(admin(
                                token,
                                "PUT",
                                t + "/proxy",
                                Map.of("cseUrl", cse.url(), "cseId", "/id-in", "cseBase", "cse-in"))
                        .statusCode())
                .isEqualTo(200);
        assertThat(admin(token, "PUT", t + "/proxy/entities", Map.of("entityId", "/id-in", "resourcePath", "cse-in"))
                        .statusCode())
                .isEqualTo(200);
        byte[] pairwise = new byte[32];
        new SecureRandom().nextBytes(pairwise);
        assertThat(admin(
                                token,
                                "POST",
                                t + "/preprovisioned-keys",
                                Map.of(
                                        "keyId",
                                        "restart-1@keys.restart.example",
                                        "suid",
                                        13,
                                        "holders",
                                        List.of("Csensor", "/id-in"),
                                        "keyValue",
                                        Base64.getEncoder().encodeToString(pairwise),
                                        "expiresAt",
                                        Instant.now().plusSeconds(3600).toString()))
                        .statusCode())
                .isEqualTo(201);

        String proxy = base + "/onem2m/restart-co/cse-in";
        JsonNode rr = JSON.readTree(notify(proxy, Map.of("sit", 3), "r-1").body())
                .get("m2m:seci")
                .get("ero");
        Map<String, Object> oro =
                IndependentEsprim.originatorRand("oRestart", rr.get("esrx").asText());
        byte[] session = IndependentEsprim.sessionKey(pairwise, rr.get("esrv").asText(), (String) oro.get("esrv"));
        String m1 = object(session, "oRestart", rr.get("esri").asText(), oro, "q-1");
        assertThat(notify(proxy, Map.of("sit", 5, "epo", m1), "o-1").headers().firstValue("X-M2M-RSC"))
                .hasValue("2000");

        first.getKey().destroy(); // SIGTERM: a normal stop
        first.getKey().waitFor();

        Path log2 = Files.createTempFile("m2m-restart-2-", ".log");
        Map.Entry<Process, String> second = service(log2);
        try {
            String proxy2 = second.getValue() + "/onem2m/restart-co/cse-in";
            HttpResponse<String> replay = notify(proxy2, Map.of("sit", 5, "epo", m1), "o-2");
            assertThat(replay.headers().firstValue("X-M2M-RSC"))
                    .as(replay.body())
                    .hasValue("4000");
            assertThat(replay.body()).contains("replayed");
            // the session (rand objects in PostgreSQL) goes on after the restart
            HttpResponse<String> next = notify(
                    proxy2,
                    Map.of(
                            "sit",
                            5,
                            "epo",
                            object(session, "oRestart", rr.get("esri").asText(), oro, "q-2")),
                    "o-3");
            assertThat(next.headers().firstValue("X-M2M-RSC")).as(next.body()).hasValue("2000");
        } finally {
            second.getKey().destroy();
            second.getKey().waitFor();
        }
    }
}
