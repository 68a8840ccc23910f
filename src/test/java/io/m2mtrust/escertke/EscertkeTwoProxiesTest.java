package io.m2mtrust.escertke;

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

import java.util.List;
import java.util.Map;

/**
 * End to end between two proxies of two operators (tenants with their own CAs, each trusting the other's CA
 * and its CRL): a legacy AE behind proxy A reaches the CSE behind proxy B; A has no key for B, so it runs
 * ESCertKE first (A initiating for the AE's certificate, B terminating for its CSE's), then protects the
 * primitive with ESPrim under the established key (kid {@code hex@a's FQDN}). Revoking the key at A makes A
 * establish a new one.
 */
@QuarkusTest
class EscertkeTwoProxiesTest {

    static final String A = "escertke-a";
    static final String B = "escertke-b";
    static final String SP_A = "a.escertke.example";
    static final String SP_B = "b.escertke.example";
    static MiniCse cseA;
    static MiniCse cseB;

    @BeforeEach
    void twoOperators() throws Exception {
        if (cseA != null) {
            return;
        }
        cseA = MiniCse.start("/id-a", "cse-a");
        cseB = MiniCse.start("/id-b", "cse-b");
        for (String[] t : List.of(
                new String[] {A, SP_A, "/id-a", "cse-a", cseA.url()},
                new String[] {B, SP_B, "/id-b", "cse-b", cseB.url()})) {
            Api.createTenant(t[0]);
            as(Tokens.tenantAdmin(t[0]))
                    .post("/api/v1/tenants/" + t[0] + "/ca")
                    .then()
                    .statusCode(201);
            as(Tokens.tenantAdmin(t[0]))
                    .body(Map.of("cseUrl", t[4], "cseId", t[2], "cseBase", t[3], "spId", "//" + t[1]))
                    .put("/api/v1/tenants/" + t[0] + "/proxy")
                    .then()
                    .statusCode(200);
        }
        // B protects its CSE, whose certificate (B's CA) names id-b.b.escertke.example
        as(Tokens.tenantAdmin(B))
                .body(Map.of("entityId", "/id-b", "resourcePath", "cse-b", "esprimRequired", true))
                .put("/api/v1/tenants/" + B + "/proxy/entities")
                .then()
                .statusCode(200);
        as(Tokens.tenantAdmin(B))
                .body(Map.of("id", "cse-b", "subjectType", "CSE_ID", "subjectId", "id-b." + SP_B))
                .post("/api/v1/tenants/" + B + "/endpoints")
                .then()
                .statusCode(201);
        // A acts for its legacy AE Clegacy (certificate from A's CA)
        as(Tokens.tenantAdmin(A))
                .body(Map.of("id", "legacy", "subjectType", "AE_ID", "subjectId", "https://" + SP_A + "/id-a/Clegacy"))
                .post("/api/v1/tenants/" + A + "/endpoints")
                .then()
                .statusCode(201);
        // each trusts the other's CA, as published (PEM and CRL at /pki)
        ProxyFixtures.trustCaOf(A, B);
        ProxyFixtures.trustCaOf(B, A);
        as(Tokens.tenantAdmin(A))
                .body(Map.of(
                        "name",
                        "b-cse",
                        "receiverId",
                        "//" + SP_B + "/id-b",
                        "url",
                        "http://localhost:" + RestAssured.port + "/onem2m/" + B + "/cse-b"))
                .put("/api/v1/tenants/" + A + "/proxy/remotes")
                .then()
                .statusCode(200);
    }

    @AfterAll
    static void stop() {
        if (cseA != null) {
            cseA.close();
            cseB.close();
        }
    }

    static Response legacy(String method, String path, String ri) {
        var r = RestAssured.given()
                .header("X-M2M-Origin", "Clegacy")
                .header("X-M2M-RI", ri)
                .header("X-M2M-RVI", "3");
        if ("POST".equals(method)) {
            r = r.contentType("application/json;ty=2")
                    .body(Map.of(
                            "m2m:ae", Map.of("rn", "Clegacy", "api", "Nlegacy", "rr", false, "srv", List.of("3"))));
        }
        return r.request(method, "/onem2m-out/" + A + "/b-cse/" + path);
    }

    @Test
    void escertke_between_two_proxies_then_esprim_under_the_established_key() {
        Response created = legacy("POST", "cse-b", "create-1");
        assertThat(created.statusCode()).as(created.asString()).isEqualTo(201);
        assertThat(created.header("X-M2M-RSC")).isEqualTo("2001");
        // B's CSE saw the inner primitive from the absolute AE-ID the certificate and the key are bound to
        MiniCse.Seen seen = cseB.seen().get(cseB.seen().size() - 1);
        assertThat(seen.origin()).isEqualTo("//" + SP_A + "/id-a/Clegacy");
        assertThat(seen.requestId()).isEqualTo("create-1");

        List<Map<String, Object>> keysA = as(Tokens.auditor(A))
                .get("/api/v1/tenants/" + A + "/escertke/keys")
                .jsonPath()
                .getList("");
        List<Map<String, Object>> keysB = as(Tokens.auditor(B))
                .get("/api/v1/tenants/" + B + "/escertke/keys")
                .jsonPath()
                .getList("");
        assertThat(keysA).hasSize(1);
        assertThat(keysB).hasSize(1);
        String kid = (String) keysA.get(0).get("keyId");
        assertThat(kid).matches("[0-9a-f]{32}@" + SP_A.replace(".", "\\."));
        assertThat(keysB.get(0).get("keyId")).isEqualTo(kid);
        assertThat(keysA.get(0))
                .containsEntry("role", "INITIATOR")
                .containsEntry("peerIdentity", "//" + SP_B + "/id-b");
        assertThat(keysB.get(0))
                .containsEntry("role", "TERMINATOR")
                .containsEntry("localIdentity", "/id-b")
                .containsEntry("peerIdentity", "//" + SP_A + "/id-a/Clegacy");

        // the second primitive reuses the key: no new handshake
        Response got = legacy("GET", "cse-b/Clegacy", "get-1");
        assertThat(got.header("X-M2M-RSC")).as(got.asString()).isEqualTo("2000");
        assertThat(got.jsonPath().getString("'m2m:ae'.api")).isEqualTo("Nlegacy");
        assertThat(as(Tokens.auditor(A))
                        .get("/api/v1/tenants/" + A + "/escertke/keys")
                        .jsonPath()
                        .getList(""))
                .hasSize(1);

        // revoked at A: A establishes a new key with B and goes on
        as(Tokens.tenantAdmin(A))
                .delete("/api/v1/tenants/" + A + "/escertke/keys/" + kid)
                .then()
                .statusCode(204);
        Response again = legacy("GET", "cse-b/Clegacy", "get-2");
        assertThat(again.header("X-M2M-RSC")).as(again.asString()).isEqualTo("2000");
        List<Map<String, Object>> after = as(Tokens.auditor(A))
                .get("/api/v1/tenants/" + A + "/escertke/keys")
                .jsonPath()
                .getList("");
        assertThat(after).hasSize(2);
        assertThat(after.get(0).get("keyId")).isNotEqualTo(kid);
        assertThat(after.get(1)).containsEntry("status", "REVOKED");
    }
}
