package io.m2mtrust.esprim;

import static io.m2mtrust.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;

import io.m2mtrust.testsupport.Api;
import io.m2mtrust.testsupport.MiniCse;
import io.m2mtrust.testsupport.ProxyFixtures;
import io.m2mtrust.testsupport.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.response.Response;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.security.SecureRandom;
import java.util.List;
import java.util.Map;

/**
 * Two proxies talk ESPrim: tenant "b" is the originator for a legacy AE that speaks plain oneM2M, tenant "a"
 * is the receiver in front of a CSE. Both hold the same pre-provisioned pairwiseESPrimKey; everything between
 * them is a type-3 rand request and type-5 ESPrim objects over HTTP.
 */
@QuarkusTest
class EsprimTwoProxiesTest {

    static final String A = "esprim-a";
    static final String B = "esprim-b";
    static final String KID = "pair-ab@keys.esprim.example";
    static final String LEGACY = "Clegacy";
    static MiniCse cse;

    @BeforeEach
    void twoProxies() {
        if (cse != null) {
            return;
        }
        try {
            cse = MiniCse.start("/id-in", "cse-in");
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
        byte[] pairwise = new byte[32];
        new SecureRandom().nextBytes(pairwise);
        for (String t : List.of(A, B)) {
            Api.createTenant(t);
            ProxyFixtures.pairwiseKey(t, KID, List.of(LEGACY, "/id-in"), pairwise);
        }
        as(Tokens.tenantAdmin(A))
                .body(Map.of("cseUrl", cse.url(), "cseId", "/id-in", "cseBase", "cse-in"))
                .put("/api/v1/tenants/" + A + "/proxy")
                .then()
                .statusCode(200);
        as(Tokens.tenantAdmin(A))
                .body(Map.of("entityId", "/id-in", "resourcePath", "cse-in", "esprimRequired", true))
                .put("/api/v1/tenants/" + A + "/proxy/entities")
                .then()
                .statusCode(200);
        // b's own CSE is not used here; the remote is a's proxy
        as(Tokens.tenantAdmin(B))
                .body(Map.of("cseUrl", "http://127.0.0.1:1", "cseId", "/id-b", "cseBase", "cse-b"))
                .put("/api/v1/tenants/" + B + "/proxy")
                .then()
                .statusCode(200);
        as(Tokens.tenantAdmin(B))
                .body(Map.of(
                        "name",
                        "a-cse",
                        "receiverId",
                        "/id-in",
                        "url",
                        "http://localhost:" + RestAssured.port + "/onem2m/" + A + "/cse-in",
                        "keyId",
                        KID))
                .put("/api/v1/tenants/" + B + "/proxy/remotes")
                .then()
                .statusCode(200);
    }

    @AfterAll
    static void stop() {
        if (cse != null) {
            cse.close();
        }
    }

    @Test
    void a_legacy_ae_creates_and_retrieves_on_a_remote_cse_through_two_proxies() {
        Response created = RestAssured.given()
                .header("X-M2M-Origin", LEGACY)
                .header("X-M2M-RI", "create-1")
                .header("X-M2M-RVI", "3")
                .contentType("application/json;ty=2")
                .body(Map.of("m2m:ae", Map.of("rn", "Clegacy", "api", "Nlegacy", "rr", false, "srv", List.of("3"))))
                .post("/onem2m-out/" + B + "/a-cse/cse-in");
        assertThat(created.statusCode()).as(created.asString()).isEqualTo(201);
        assertThat(created.header("X-M2M-RSC")).isEqualTo("2001");
        assertThat(created.header("X-M2M-RI")).isEqualTo("create-1");
        assertThat(created.jsonPath().getString("'m2m:ae'.api")).isEqualTo("Nlegacy");
        assertThat(cse.exists("cse-in/Clegacy")).isTrue();
        MiniCse.Seen seen = cse.seen().get(cse.seen().size() - 1);
        assertThat(seen.origin()).isEqualTo(LEGACY);
        assertThat(seen.requestId()).isEqualTo("create-1");

        Response got = RestAssured.given()
                .header("X-M2M-Origin", LEGACY)
                .header("X-M2M-RI", "get-1")
                .header("X-M2M-RVI", "3")
                .get("/onem2m-out/" + B + "/a-cse/cse-in/Clegacy");
        assertThat(got.statusCode()).isEqualTo(200);
        assertThat(got.header("X-M2M-RSC")).isEqualTo("2000");
        assertThat(got.jsonPath().getString("'m2m:ae'.rn")).isEqualTo("Clegacy");
        // a's CSE requires ESPrim: the same retrieve sent plain to a is refused
        Response plain = RestAssured.given()
                .header("X-M2M-Origin", LEGACY)
                .header("X-M2M-RI", "get-2")
                .get("/onem2m/" + A + "/cse-in/Clegacy");
        assertThat(plain.header("X-M2M-RSC")).isEqualTo("4107");
    }

    @Test
    void the_originator_refuses_what_it_cannot_protect() {
        // an originator the key is not bound to
        Response notHolder = RestAssured.given()
                .header("X-M2M-Origin", "Cstranger")
                .header("X-M2M-RI", "x-1")
                .get("/onem2m-out/" + B + "/a-cse/cse-in");
        assertThat(notHolder.header("X-M2M-RSC")).isEqualTo("4112");
        // no such remote
        Response none = RestAssured.given()
                .header("X-M2M-Origin", LEGACY)
                .header("X-M2M-RI", "x-2")
                .get("/onem2m-out/" + B + "/nowhere/cse-in");
        assertThat(none.header("X-M2M-RSC")).isEqualTo("4004");
        // no request id
        Response noRi = RestAssured.given().header("X-M2M-Origin", LEGACY).get("/onem2m-out/" + B + "/a-cse/cse-in");
        assertThat(noRi.header("X-M2M-RSC")).isEqualTo("4000");
    }
}
