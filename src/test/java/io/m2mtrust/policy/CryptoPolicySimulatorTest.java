package io.m2mtrust.policy;

import static io.m2mtrust.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;

import io.m2mtrust.testsupport.Api;
import io.m2mtrust.testsupport.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/** The crypto-policy simulator answers which key and algorithm would serve, or why none would — and changes nothing. */
@QuarkusTest
class CryptoPolicySimulatorTest {

    static final String T = "simulator-co";
    static final String SIM = "/api/v1/tenants/" + T + "/policy/simulate";

    static JsonPath simulate(String op, String originator, String target) {
        return as(Tokens.auditor(T))
                .body(Map.of("operation", op, "originator", originator, "target", target))
                .post(SIM)
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
    }

    @Test
    void esprim_and_esdata_choices_and_refusals_are_explained() {
        Api.createTenant(T);
        as(Tokens.tenantAdmin(T))
                .body(Map.of("cseUrl", "http://127.0.0.1:9", "cseId", "/id-in", "cseBase", "cse-in"))
                .put("/api/v1/tenants/" + T + "/proxy")
                .then()
                .statusCode(200);
        as(Tokens.tenantAdmin(T))
                .body(Map.of("entityId", "/id-in", "resourcePath", "cse-in", "esprimRequired", true))
                .put("/api/v1/tenants/" + T + "/proxy/entities")
                .then()
                .statusCode(200);
        String later = Instant.now().plusSeconds(3600).toString();
        String value = Base64.getEncoder().encodeToString(new byte[32]);
        as(Tokens.tenantAdmin(T))
                .body(Map.of(
                        "keyId",
                        "p13@keys.sim.example",
                        "suid",
                        13,
                        "holders",
                        List.of("Csensor", "/id-in"),
                        "keyValue",
                        value,
                        "expiresAt",
                        later))
                .post("/api/v1/tenants/" + T + "/preprovisioned-keys")
                .then()
                .statusCode(201);
        as(Tokens.tenantAdmin(T))
                .body(Map.of(
                        "keyId",
                        "p14@keys.sim.example",
                        "suid",
                        14,
                        "holders",
                        List.of("app.sim.example", "meter.sim.example"),
                        "keyValue",
                        value,
                        "expiresAt",
                        later))
                .post("/api/v1/tenants/" + T + "/preprovisioned-keys")
                .then()
                .statusCode(201);
        long auditBefore = as(Tokens.auditor(T))
                .get("/api/v1/tenants/" + T + "/audit?limit=1000")
                .jsonPath()
                .getList("")
                .size();

        JsonPath ok = simulate("ESPRIM_REQUEST", "Csensor", "/id-in");
        assertThat(ok.getBoolean("wouldSucceed")).isTrue();
        assertThat(ok.getString("keyId")).isEqualTo("p13@keys.sim.example");
        assertThat(ok.getInt("suid")).isEqualTo(13);
        assertThat(ok.getString("algorithm")).contains("A256GCM").contains("§10.3.8");
        assertThat(ok.getString("sealedUnder")).startsWith("m2m/" + T + "/kek/v");
        assertThat(ok.getList("notes", String.class)).anyMatch(n -> n.contains("4107"));

        JsonPath stranger = simulate("ESPRIM_REQUEST", "Cstranger", "/id-in");
        assertThat(stranger.getBoolean("wouldSucceed")).isFalse();
        assertThat(stranger.getList("notes", String.class)).anyMatch(n -> n.contains("no key is shared"));
        assertThat(simulate("ESPRIM_REQUEST", "Csensor", "/id-elsewhere").getList("notes", String.class))
                .anyMatch(n -> n.contains("not an entity"));

        JsonPath esdata = simulate("ESDATA_PROTECT", "app.sim.example", "meter.sim.example");
        assertThat(esdata.getBoolean("wouldSucceed")).isTrue();
        assertThat(esdata.getString("keyId")).isEqualTo("p14@keys.sim.example");
        assertThat(esdata.getString("algorithm")).startsWith("dir");

        // the policy stops allowing SUID 13: the same request is explained as refused
        Response pol = as(Tokens.tenantAdmin(T)).get("/api/v1/tenants/" + T + "/policy");
        Map<String, Object> doc = pol.jsonPath().getMap("");
        doc.put("allowedSuids", List.of(14, 15, 23, 33));
        as(Tokens.tenantAdmin(T))
                .header("If-Match", pol.header("ETag"))
                .body(doc)
                .put("/api/v1/tenants/" + T + "/policy")
                .then()
                .statusCode(200);
        JsonPath refused = simulate("ESPRIM_REQUEST", "Csensor", "/id-in");
        assertThat(refused.getBoolean("wouldSucceed")).isFalse();
        assertThat(refused.getString("candidates[0].problem")).contains("SUID 13 is not allowed");

        assertThat(simulate("KEY_RETRIEVAL", "Cnobody", "app.sim.example").getList("notes", String.class))
                .anyMatch(n -> n.contains("registered no keys"));
        // a dry run: nothing was written (the policy change is the only new event)
        long auditAfter = as(Tokens.auditor(T))
                .get("/api/v1/tenants/" + T + "/audit?limit=1000")
                .jsonPath()
                .getList("")
                .size();
        assertThat(auditAfter).isEqualTo(auditBefore + 1);
        // bad input
        as(Tokens.auditor(T))
                .body(Map.of("operation", "TELEPORT", "originator", "a", "target", "b"))
                .post(SIM)
                .then()
                .statusCode(400);
        as(Tokens.auditor(T))
                .body(Map.of("operation", "ESPRIM_REQUEST", "originator", "a"))
                .post(SIM)
                .then()
                .statusCode(400);
        as(Tokens.tenantAdmin("someone-else"))
                .body(Map.of("operation", "ESPRIM_REQUEST", "originator", "a", "target", "b"))
                .post(SIM)
                .then()
                .statusCode(404);
    }
}
