package io.m2mtrust.esprim;

import static io.m2mtrust.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;

import io.m2mtrust.testsupport.Api;
import io.m2mtrust.testsupport.MiniCse;
import io.m2mtrust.testsupport.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;

/**
 * ESData by tenant policy in the proxy: a content instance created through it in a ruled container is
 * stored at the CSE signed (in the HSM) and encrypted for the reader's certificate, with cnf suffixed; the
 * listed reader retrieves it in the clear, everyone else gets the envelope.
 */
@QuarkusTest
class ProxyEsDataTest {

    static final String T = "esdata-proxy-co";
    static MiniCse cse;

    @BeforeEach
    void setUp() throws Exception {
        if (cse != null) {
            return;
        }
        cse = MiniCse.start("/id-in", "cse-in");
        Api.createTenant(T);
        as(Tokens.tenantAdmin(T)).post("/api/v1/tenants/" + T + "/ca").then().statusCode(201);
        for (String e : List.of("writer", "reader")) {
            as(Tokens.tenantAdmin(T))
                    .body(Map.of("id", e, "subjectType", "FQDN", "subjectId", e + ".esdata-proxy.example"))
                    .post("/api/v1/tenants/" + T + "/endpoints")
                    .then()
                    .statusCode(201);
        }
        as(Tokens.tenantAdmin(T))
                .body(Map.of("cseUrl", cse.url(), "cseId", "/id-in", "cseBase", "cse-in"))
                .put("/api/v1/tenants/" + T + "/proxy")
                .then()
                .statusCode(200);
        plain(
                        "Cwriter",
                        "cse-in",
                        2,
                        Map.of("m2m:ae", Map.of("rn", "Cwriter", "api", "Nwriter", "rr", false, "srv", List.of("3"))))
                .then()
                .statusCode(201);
        plain("Cwriter", "cse-in/Cwriter", 3, Map.of("m2m:cnt", Map.of("rn", "data")))
                .then()
                .statusCode(201);
        as(Tokens.tenantAdmin(T))
                .body(Map.of(
                        "id",
                        "meter-data",
                        "containerPath",
                        "cse-in/Cwriter/data",
                        "endpoint",
                        "writer",
                        "sign",
                        true,
                        "encryptForCertificatesOf",
                        List.of("reader.esdata-proxy.example"),
                        "contentSecurity",
                        1,
                        "readers",
                        List.of(Map.of("originator", "Creader", "endpoint", "reader"))))
                .put("/api/v1/tenants/" + T + "/proxy/esdata-rules")
                .then()
                .statusCode(200);
    }

    @AfterAll
    static void stop() {
        if (cse != null) {
            cse.close();
        }
    }

    static Response plain(String origin, String path, int ty, Object body) {
        return RestAssured.given()
                .header("X-M2M-Origin", origin)
                .header("X-M2M-RI", "ri-" + System.nanoTime())
                .header("X-M2M-RVI", "3")
                .contentType("application/json;ty=" + ty)
                .body(body)
                .post("/onem2m/" + T + "/" + path);
    }

    static JsonPath get(String origin, String path) {
        Response r = RestAssured.given()
                .header("X-M2M-Origin", origin)
                .header("X-M2M-RI", "g-" + System.nanoTime())
                .get("/onem2m/" + T + "/" + path);
        assertThat(r.statusCode()).as(r.asString()).isEqualTo(200);
        return r.jsonPath();
    }

    @Test
    void content_is_stored_protected_and_the_listed_reader_gets_it_in_the_clear() throws Exception {
        Response made = plain(
                "Cwriter",
                "cse-in/Cwriter/data",
                4,
                Map.of("m2m:cin", Map.of("rn", "r1", "cnf", "application/json:0", "con", "{\"kWh\":4711}")));
        assertThat(made.statusCode()).as(made.asString()).isEqualTo(201);
        // what the CSE holds: the envelope, and cnf says contentSecurity 1 (compact)
        HttpResponse<String> atCse = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create(cse.url() + "/cse-in/Cwriter/data/r1"))
                                .header("X-M2M-Origin", "Cadmin")
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        JsonPath stored = JsonPath.from(atCse.body());
        assertThat(stored.getString("'m2m:cin'.cnf")).isEqualTo("application/json:0:1");
        assertThat(stored.getString("'m2m:cin'.con"))
                .doesNotContain("4711")
                .matches("[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]*){4}");
        // the reader: verified and decrypted (nested: the writer's ES256 inside, encrypted for the reader's
        // certificate)
        JsonPath forReader = get("Creader", "cse-in/Cwriter/data/r1");
        assertThat(forReader.getString("'m2m:cin'.con")).isEqualTo("{\"kWh\":4711}");
        assertThat(forReader.getString("'m2m:cin'.cnf")).isEqualTo("application/json:0");
        // anyone else: the envelope as stored
        assertThat(get("Cstranger", "cse-in/Cwriter/data/r1").getString("'m2m:cin'.con"))
                .isEqualTo(stored.getString("'m2m:cin'.con"));
        // content outside the ruled container is not touched
        plain("Cwriter", "cse-in/Cwriter", 3, Map.of("m2m:cnt", Map.of("rn", "free")))
                .then()
                .statusCode(201);
        plain("Cwriter", "cse-in/Cwriter/free", 4, Map.of("m2m:cin", Map.of("rn", "f1", "con", "open")))
                .then()
                .statusCode(201);
        assertThat(get("Cstranger", "cse-in/Cwriter/free/f1").getString("'m2m:cin'.con"))
                .isEqualTo("open");
    }

    @Test
    void already_marked_content_and_bad_rules_are_refused() {
        Response marked = plain(
                "Cwriter",
                "cse-in/Cwriter/data",
                4,
                Map.of("m2m:cin", Map.of("cnf", "application/json:0:1", "con", "x.y.z")));
        assertThat(marked.header("X-M2M-RSC")).isEqualTo("4000");
        as(Tokens.tenantAdmin(T))
                .body(Map.of("id", "bad", "containerPath", "elsewhere/x", "endpoint", "writer", "sign", true))
                .put("/api/v1/tenants/" + T + "/proxy/esdata-rules")
                .then()
                .statusCode(400);
        as(Tokens.tenantAdmin(T))
                .body(Map.of("id", "none", "containerPath", "cse-in/Cwriter/x", "endpoint", "writer"))
                .put("/api/v1/tenants/" + T + "/proxy/esdata-rules")
                .then()
                .statusCode(400);
        as(Tokens.tenantAdmin(T))
                .body(Map.of("id", "ghost", "containerPath", "cse-in/Cwriter/y", "endpoint", "nobody", "sign", true))
                .put("/api/v1/tenants/" + T + "/proxy/esdata-rules")
                .then()
                .statusCode(404);
        as(Tokens.tenantAdmin(T))
                .body(Map.of("id", "twin", "containerPath", "cse-in/Cwriter/data", "endpoint", "writer", "sign", true))
                .put("/api/v1/tenants/" + T + "/proxy/esdata-rules")
                .then()
                .statusCode(409);
        as(Tokens.auditor(T))
                .get("/api/v1/tenants/" + T + "/proxy/esdata-rules")
                .then()
                .statusCode(200)
                .body("[0].containerPath", org.hamcrest.Matchers.equalTo("cse-in/Cwriter/data"));
    }
}
