package io.m2mtrust.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import io.restassured.RestAssured;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;

import java.time.Duration;
import java.util.Map;
import java.util.function.IntPredicate;

/** Small helpers for admin API calls in tests. */
public final class Api {

    private Api() {}

    public static RequestSpecification as(String token) {
        return RestAssured.given().auth().oauth2(token).contentType(ContentType.JSON);
    }

    public static RequestSpecification anonymous() {
        return RestAssured.given().contentType(ContentType.JSON);
    }

    /** Creates a tenant as platform admin (201) and returns its id. */
    public static String createTenant(String id) {
        as(Tokens.platformAdmin())
                .body(Map.of("id", id, "name", "Tenant " + id))
                .post("/api/v1/tenants")
                .then()
                .statusCode(201);
        return id;
    }

    /** Creates the tenant unless it exists (for @BeforeEach set-up shared by a class's tests). */
    public static String ensureTenant(String id) {
        if (as(Tokens.platformAdmin()).get("/api/v1/tenants/" + id).statusCode() == 404) {
            createTenant(id);
        }
        return id;
    }

    /** Asserts an RFC 9457 problem with the given status and type suffix, and no stack trace or class name. */
    public static void assertProblem(Response r, int status, String typeSuffix) {
        assertThat(r.statusCode()).as(r.asString()).isEqualTo(status);
        assertThat(r.contentType()).startsWith("application/problem+json");
        assertThat(r.jsonPath().getString("type")).endsWith(typeSuffix);
        assertThat(r.jsonPath().getInt("status")).isEqualTo(status);
        assertThat(r.jsonPath().getString("instance")).startsWith("urn:uuid:");
        assertThat(r.asString())
                .doesNotContain("Exception")
                .doesNotContain("at io.")
                .doesNotContain("io.m2mtrust.");
    }

    /** Polls {@code /q/health/ready} until its status satisfies {@code status}; fails after {@code max}. */
    public static void awaitReadiness(IntPredicate status, Duration max) throws InterruptedException {
        long end = System.nanoTime() + max.toNanos();
        int last = -1;
        while (System.nanoTime() < end) {
            last = RestAssured.get("/q/health/ready").statusCode();
            if (status.test(last)) {
                return;
            }
            Thread.sleep(250);
        }
        throw new AssertionError("readiness did not reach the expected state in " + max + "; last status " + last);
    }
}
