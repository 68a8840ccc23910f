package io.m2mtrust;

import static org.assertj.core.api.Assertions.assertThat;

import io.m2mtrust.testsupport.Api;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import org.junit.jupiter.api.Test;

@QuarkusTest
class ObservabilityTest {

    @Test
    void metrics_expose_hsm_operation_counts_and_latencies() {
        Api.createTenant("metrics-co"); // signs an audit head in the HSM
        String metrics = RestAssured.get("/q/metrics").asString();
        assertThat(metrics)
                .contains("m2m_hsm_operation_seconds_count{op=\"sign\",outcome=\"ok\"}")
                .contains("m2m_hsm_operation_seconds_sum")
                .contains("m2m_hsm_up 1.0");
    }

    @Test
    void health_and_openapi_are_served() {
        RestAssured.get("/q/health/live").then().statusCode(200);
        String health = RestAssured.get("/q/health/ready").asString();
        assertThat(health).contains("\"hsm\"").contains("Database connections health check");
        String openapi = RestAssured.get("/q/openapi?format=json").asString();
        assertThat(openapi)
                .contains("/api/v1/tenants/{tenant}/policy")
                .contains("/api/v1/tenants/{tenant}/audit/verify")
                .contains("/api/v1/hsm")
                .contains("securitySchemes");
    }

    @Test
    void unknown_api_path_is_a_problem_not_a_stack_trace() {
        var r = Api.as(io.m2mtrust.testsupport.Tokens.platformAdmin()).get("/api/v1/nothing-here");
        Api.assertProblem(r, 404, "http-404");
    }
}
