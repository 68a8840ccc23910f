package io.m2mtrust.hsm;

import static io.m2mtrust.testsupport.Api.as;
import static io.m2mtrust.testsupport.Api.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import io.m2mtrust.testsupport.Api;
import io.m2mtrust.testsupport.TestHsm;
import io.m2mtrust.testsupport.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * A real token outage: SoftHSM's token directory is moved away (as root, file permissions would not
 * stop SoftHSM) and back. Readiness goes DOWN, HSM-backed writes answer 503 and write nothing, and
 * readiness comes back UP without a restart.
 */
@QuarkusTest
class HsmOutageTest {

    @Test
    void token_outage_makes_readiness_down_writes_503_and_recovers_without_restart() throws Exception {
        String t = Api.createTenant("outage-co");
        Api.awaitReadiness(s -> s == 200, Duration.ofSeconds(10));
        int auditBefore = auditCount(t);

        Path dir = TestHsm.tokenDirectory();
        Path away = dir.resolveSibling(dir.getFileName() + ".away");
        Files.move(dir, away);
        try {
            Api.awaitReadiness(s -> s == 503, Duration.ofSeconds(15));
            String body = RestAssured.get("/q/health/ready").asString();
            assertThat(body).contains("\"hsm\"").contains("DOWN");

            assertProblem(
                    as(Tokens.platformAdmin())
                            .body(Map.of("id", "outage-new", "name", "x"))
                            .post("/api/v1/tenants"),
                    503,
                    "hsm-unavailable");
            io.restassured.response.Response rotate =
                    as(Tokens.tenantAdmin(t)).post("/api/v1/tenants/" + t + "/keys/kek/rotate");
            assertProblem(rotate, 503, "hsm-unavailable");
            assertThat(rotate.header("Retry-After")).isEqualTo("5");
            // reads that need only the database still work
            as(Tokens.tenantAdmin(t))
                    .get("/api/v1/tenants/" + t + "/policy")
                    .then()
                    .statusCode(200);
            assertThat(as(Tokens.platformAdmin()).get("/api/v1/hsm").jsonPath().getBoolean("up"))
                    .isFalse();
        } finally {
            Files.move(away, dir);
        }
        Api.awaitReadiness(s -> s == 200, Duration.ofSeconds(30));

        // nothing was half-written while the HSM was away
        assertProblem(as(Tokens.platformAdmin()).get("/api/v1/tenants/outage-new"), 404, "not-found");
        assertThat(as(Tokens.auditor(t))
                        .get("/api/v1/tenants/" + t + "/keys")
                        .jsonPath()
                        .getList("version"))
                .containsOnly(1);
        assertThat(auditCount(t)).isEqualTo(auditBefore);

        // and the service works again, with the same keys
        as(Tokens.tenantAdmin(t))
                .post("/api/v1/tenants/" + t + "/keys/kek/rotate")
                .then()
                .statusCode(200);
        Api.createTenant("outage-new");
        assertThat(as(Tokens.auditor(t))
                        .get("/api/v1/tenants/" + t + "/audit/verify")
                        .jsonPath()
                        .getBoolean("intact"))
                .isTrue();
        assertThat(as(Tokens.platformAdmin()).get("/api/v1/hsm").jsonPath().getInt("reopens"))
                .isPositive();
    }

    private static int auditCount(String t) {
        return as(Tokens.auditor(t))
                .get("/api/v1/tenants/" + t + "/audit?limit=1000")
                .jsonPath()
                .getList("seq")
                .size();
    }
}
