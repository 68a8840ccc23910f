package io.m2mtrust.web;

import static io.m2mtrust.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;

import io.m2mtrust.testsupport.Api;
import io.m2mtrust.testsupport.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.response.Response;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

/**
 * What schemathesis found in the admin API (issue 21, docs/fuzzing.md "Admin API"), kept as tests: each was a 500 or
 * an answer that the API's own OpenAPI document did not describe.
 */
@QuarkusTest
class HostileAdminInputTest {

    static final String T = "hostile-api";

    @Test
    void a_relative_url_is_a_validation_problem_not_a_500() {
        Api.ensureTenant(T);
        Response r = as(Tokens.tenantAdmin(T))
                .body(Map.of("cseUrl", "cse-in", "cseId", "/id-in", "cseBase", "cse-in"))
                .put("/api/v1/tenants/" + T + "/proxy");
        Api.assertProblem(r, 400, "validation");
        assertThat(r.jsonPath().getList("errors.field")).contains("cseUrl");
        Response remote = as(Tokens.tenantAdmin(T))
                .body(Map.of("name", "r1", "receiverId", "/id-r", "url", "no-scheme"))
                .put("/api/v1/tenants/" + T + "/proxy/remotes");
        assertThat(remote.statusCode()).as(remote.asString()).isBetween(400, 499);
    }

    @Test
    void the_same_range_twice_is_a_conflict_not_a_500() {
        Api.ensureTenant(T);
        String groups = "/api/v1/tenants/" + T + "/enrolment-groups";
        as(Tokens.tenantAdmin(T)).body(Map.of("id", "twice", "name", "twice")).post(groups);
        Map<String, Object> range = Map.of("prefix", "m-", "width", 4, "first", 1, "last", 10);
        assertThat(as(Tokens.tenantAdmin(T))
                        .body(range)
                        .post(groups + "/twice/ranges")
                        .statusCode())
                .isIn(201, 409); // 409 when the test ran before in this database
        Api.assertProblem(as(Tokens.tenantAdmin(T)).body(range).post(groups + "/twice/ranges"), 409, "conflict");
    }

    @Test
    void nul_characters_are_refused_in_query_path_and_json() {
        Api.ensureTenant(T);
        Response query = as(Tokens.tenantAdmin(T))
                .urlEncodingEnabled(false)
                .delete("/api/v1/tenants/" + T + "/proxy/entities?entityId=a%00b");
        Api.assertProblem(query, 400, "validation");
        Response path = as(Tokens.tenantAdmin(T))
                .urlEncodingEnabled(false)
                .delete("/api/v1/tenants/" + T + "/preprovisioned-keys/k%00y");
        Api.assertProblem(path, 400, "validation");
        Response json = as(Tokens.tenantAdmin(T))
                .body("{\"id\":\"g\\u0000\",\"name\":\"n\"}")
                .post("/api/v1/tenants/" + T + "/enrolment-groups");
        assertThat(json.statusCode()).isEqualTo(400);
        assertThat(json.contentType()).startsWith("application/problem+json");
    }

    @Test
    @SuppressWarnings("unchecked")
    void no_token_is_a_bodiless_401_with_the_bearer_challenge_as_documented() {
        Response r = Api.anonymous().get("/api/v1/tenants/" + T + "/policy");
        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(r.header("WWW-Authenticate")).isEqualTo("Bearer");
        assertThat(r.asString()).isEmpty();
        Map<String, Object> unauthorized = RestAssured.given()
                .get("/q/openapi?format=json")
                .jsonPath()
                .getMap("paths.'/api/v1/tenants/{tenant}/policy'.get.responses.'401'");
        assertThat(unauthorized).containsKey("description").doesNotContainKey("content");
    }

    @Test
    @SuppressWarnings("unchecked")
    void every_operation_documents_its_errors_as_problem_details() {
        Map<String, Object> doc =
                RestAssured.given().get("/q/openapi?format=json").jsonPath().getMap("");
        Map<String, Map<String, Map<String, Object>>> paths =
                (Map<String, Map<String, Map<String, Object>>>) doc.get("paths");
        int operations = 0;
        for (Map.Entry<String, Map<String, Map<String, Object>>> p : paths.entrySet()) {
            for (Map.Entry<String, Map<String, Object>> op : p.getValue().entrySet()) {
                if (!List.of("get", "put", "post", "delete", "patch").contains(op.getKey())) {
                    continue;
                }
                operations++;
                Map<String, Object> responses =
                        (Map<String, Object>) op.getValue().get("responses");
                assertThat(responses).as(op.getKey() + " " + p.getKey()).containsKey("default");
                if (p.getKey().startsWith("/api/")) {
                    assertThat(responses.get("default").toString()).contains("application/problem+json");
                }
            }
        }
        assertThat(operations).isGreaterThan(60);
    }
}
