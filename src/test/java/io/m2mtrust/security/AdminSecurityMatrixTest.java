package io.m2mtrust.security;

import static io.m2mtrust.testsupport.Api.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import io.m2mtrust.testsupport.Api;
import io.m2mtrust.testsupport.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Every admin endpoint: no token 401, no role 403, another tenant's resource 404, auditor writes 403,
 * platform-only actions 403 for tenant roles. The bodies are valid, so only authorisation can refuse.
 */
@QuarkusTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AdminSecurityMatrixTest {

    static final String MINE = "sec-mine";
    static final String OTHER = "sec-other";

    record Endpoint(String method, String path, Object body, boolean write, boolean platformOnly) {
        Response call(RequestSpecification r) {
            if (body != null) {
                r = r.body(body);
            }
            r = r.header("If-Match", "\"v0\"");
            return switch (method) {
                case "GET" -> r.get(path);
                case "POST" -> r.post(path);
                case "PUT" -> r.put(path);
                case "DELETE" -> r.delete(path);
                default -> throw new IllegalArgumentException(method);
            };
        }

        @Override
        public String toString() {
            return method + " " + path;
        }
    }

    static Stream<Endpoint> endpoints() {
        Map<String, Object> policy = Map.of(
                "allowedSuids",
                List.of(12),
                "joseAlgs",
                List.of("dir"),
                "joseEncs",
                List.of("A128GCM"),
                "tlsCipherSuites",
                List.of("TLS_PSK_WITH_AES_128_CBC_SHA256"),
                "defaultKeyLifetimeSeconds",
                3600,
                "maxKeyLifetimeSeconds",
                7200,
                "maxEsdataTargets",
                4,
                "requestQuotaPerSecond",
                10,
                "allowHostMemoryKeys",
                false);
        String t = "/api/v1/tenants/" + OTHER;
        return Stream.of(
                new Endpoint("GET", "/api/v1/tenants", null, false, false),
                new Endpoint("POST", "/api/v1/tenants", Map.of("id", "sec-new", "name", "n"), true, true),
                new Endpoint("GET", t, null, false, false),
                new Endpoint("PUT", t, Map.of("name", "x", "status", "ACTIVE"), true, true),
                new Endpoint("DELETE", t, null, true, true),
                new Endpoint("GET", t + "/policy", null, false, false),
                new Endpoint("PUT", t + "/policy", policy, true, false),
                new Endpoint(
                        "POST",
                        t + "/policy/simulate",
                        Map.of("operation", "ESPRIM_REQUEST", "originator", "Ca", "target", "/id-in"),
                        false,
                        false),
                new Endpoint("GET", t + "/keys", null, false, false),
                new Endpoint("POST", t + "/keys/sign/rotate", null, true, false),
                new Endpoint("POST", t + "/keys/sign/versions/1/retire", null, true, false),
                new Endpoint("GET", t + "/audit", null, false, false),
                new Endpoint("GET", t + "/audit/verify", null, false, false),
                new Endpoint("GET", t + "/enrolment-groups", null, false, false),
                new Endpoint("POST", t + "/enrolment-groups", Map.of("id", "sec-group", "name", "g"), true, false),
                new Endpoint("GET", t + "/enrolment-groups/g1", null, false, false),
                new Endpoint("GET", t + "/enrolment-groups/g1/devices", null, false, false),
                new Endpoint("GET", t + "/enrolment-groups/g1/devices/d1/lineage", null, false, false),
                new Endpoint("POST", t + "/enrolment-groups/g1/devices/d1/revoke-all", null, true, false),
                new Endpoint("DELETE", t + "/enrolment-groups/g1", null, true, false),
                new Endpoint("GET", t + "/enrolment-groups/g1/keys", null, false, false),
                new Endpoint("POST", t + "/enrolment-groups/g1/rotate", null, true, false),
                new Endpoint("POST", t + "/enrolment-groups/g1/keys/1/retire", null, true, false),
                new Endpoint(
                        "POST", t + "/enrolment-groups/g1/devices", Map.of("deviceIds", List.of("d1")), true, false),
                new Endpoint(
                        "POST",
                        t + "/enrolment-groups/g1/ranges",
                        Map.of("prefix", "d", "width", 3, "first", 0, "last", 9),
                        true,
                        false),
                new Endpoint("POST", t + "/enrolment-groups/g1/devices/d1/deny", null, true, false),
                new Endpoint("POST", t + "/enrolment-groups/g1/devices/d1/allow", null, true, false),
                new Endpoint("POST", t + "/enrolment-groups/g1/devices/d1/kpm-export", null, true, false),
                new Endpoint(
                        "PUT",
                        t + "/enrolment-groups/g1/certificate-profile",
                        Map.of("subjectType", "CSE_ID", "subjectTemplate", "{device}.x.example"),
                        true,
                        false),
                new Endpoint("DELETE", t + "/enrolment-groups/g1/certificate-profile", null, true, false),
                new Endpoint("GET", t + "/ca", null, false, false),
                new Endpoint("POST", t + "/ca", null, true, false),
                new Endpoint("GET", t + "/ca/1/crl", null, false, false),
                new Endpoint("GET", t + "/certificates", null, false, false),
                new Endpoint("POST", t + "/certificates/4abc/revoke", Map.of("reason", "keyCompromise"), true, false),
                new Endpoint("GET", t + "/mef-clients", null, false, false),
                new Endpoint("DELETE", t + "/mef-clients/mcr-x", null, true, false),
                new Endpoint("GET", t + "/mef-clients/mcr-x/commands", null, false, false),
                new Endpoint("POST", t + "/mef-clients/mcr-x/commands", Map.of("cmdClass", "CERT_PROV"), true, false),
                new Endpoint("GET", t + "/mef-keys", null, false, false),
                new Endpoint("DELETE", t + "/mef-keys/" + "0".repeat(32), null, true, false),
                new Endpoint(
                        "POST",
                        t + "/esdata/dry-run",
                        Map.of(
                                "endPoint",
                                "x",
                                "request",
                                Map.of("payload", "AA==", "contentSecurity", 1, "macWith", "k")),
                        false,
                        false),
                new Endpoint("GET", t + "/endpoints", null, false, false),
                new Endpoint(
                        "POST",
                        t + "/endpoints",
                        Map.of("id", "ep-x", "subjectType", "AE_ID", "subjectId", "https://in.x.example/c/Cx"),
                        true,
                        false),
                new Endpoint("DELETE", t + "/endpoints/ep-x", null, true, false),
                new Endpoint(
                        "POST",
                        t + "/endpoints/ep-x/esdata/protect",
                        Map.of("payload", "AA==", "sign", true, "contentSecurity", 1),
                        true,
                        false),
                new Endpoint(
                        "POST",
                        t + "/endpoints/ep-x/esdata/unprotect",
                        Map.of("envelope", "a.b.c", "contentSecurity", 1),
                        true,
                        false),
                new Endpoint("GET", t + "/maf-clients", null, false, false),
                new Endpoint("DELETE", t + "/maf-clients/acr-x", null, true, false),
                new Endpoint("GET", t + "/maf-keys", null, false, false),
                new Endpoint("DELETE", t + "/maf-keys/" + "0".repeat(32), null, true, false),
                new Endpoint("GET", t + "/enrolment-targets", null, false, false),
                new Endpoint(
                        "PUT",
                        t + "/enrolment-targets/cse-x",
                        Map.of("targetFqdn", "cse.example.com", "allowedSuids", List.of(22)),
                        true,
                        false),
                new Endpoint("DELETE", t + "/enrolment-targets/cse-x", null, true, false),
                new Endpoint("GET", t + "/proxy", null, false, false),
                new Endpoint(
                        "PUT",
                        t + "/proxy",
                        Map.of("cseUrl", "http://127.0.0.1:9", "cseId", "/id-x", "cseBase", "cse-x"),
                        true,
                        false),
                new Endpoint("GET", t + "/proxy/entities", null, false, false),
                new Endpoint(
                        "PUT",
                        t + "/proxy/entities",
                        Map.of("entityId", "/id-x", "resourcePath", "cse-x"),
                        true,
                        false),
                new Endpoint("DELETE", t + "/proxy/entities?entityId=/id-x", null, true, false),
                new Endpoint("GET", t + "/proxy/remotes", null, false, false),
                new Endpoint(
                        "PUT",
                        t + "/proxy/remotes",
                        Map.of(
                                "name",
                                "r",
                                "receiverId",
                                "/id-r",
                                "url",
                                "http://127.0.0.1:9/x",
                                "keyId",
                                "k@x.example"),
                        true,
                        false),
                new Endpoint("DELETE", t + "/proxy/remotes/r", null, true, false),
                new Endpoint("POST", t + "/proxy/remotes/r/escertke", Map.of("from", "Cx"), true, false),
                new Endpoint("GET", t + "/escertke/trust-anchors", null, false, false),
                new Endpoint("PUT", t + "/escertke/trust-anchors", Map.of("id", "a", "certificate", "x"), true, false),
                new Endpoint("DELETE", t + "/escertke/trust-anchors/a", null, true, false),
                new Endpoint("GET", t + "/escertke/keys", null, false, false),
                new Endpoint("DELETE", t + "/escertke/keys/k@x.example", null, true, false),
                new Endpoint("GET", t + "/proxy/esdata-rules", null, false, false),
                new Endpoint(
                        "PUT",
                        t + "/proxy/esdata-rules",
                        Map.of("id", "r", "containerPath", "cse-o/c", "endpoint", "e", "sign", true),
                        true,
                        false),
                new Endpoint("DELETE", t + "/proxy/esdata-rules/r", null, true, false),
                new Endpoint("GET", t + "/preprovisioned-keys", null, false, false),
                new Endpoint(
                        "POST",
                        t + "/preprovisioned-keys",
                        Map.of(
                                "keyId",
                                "k@keys.x.example",
                                "suid",
                                14,
                                "holders",
                                List.of("a.x.example"),
                                "keyValue",
                                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                                "expiresAt",
                                "2099-01-01T00:00:00Z"),
                        true,
                        false),
                new Endpoint("DELETE", t + "/preprovisioned-keys/k@keys.x.example", null, true, false),
                new Endpoint("GET", t + "/imported-kpms", null, false, false),
                new Endpoint(
                        "POST",
                        t + "/imported-kpms",
                        Map.of(
                                "kpmId",
                                "x@mef." + OTHER + ".m2m-trust.local",
                                "kpm",
                                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
                        true,
                        false),
                new Endpoint("DELETE", t + "/imported-kpms/x", null, true, false),
                // tenant users (reads are covered against the real Keycloak: provisioning is off in this boot)
                new Endpoint(
                        "POST",
                        t + "/users",
                        Map.of(
                                "username",
                                "u-x",
                                "roles",
                                List.of("tenant-auditor"),
                                "temporaryPassword",
                                "Temp-123456789"),
                        true,
                        false),
                new Endpoint(
                        "PUT",
                        t + "/users/00000000-0000-0000-0000-000000000000",
                        Map.of("enabled", true, "roles", List.of()),
                        true,
                        false),
                new Endpoint("POST", t + "/users/00000000-0000-0000-0000-000000000000/invitation", null, true, false),
                new Endpoint("GET", "/api/v1/hsm", null, false, true));
    }

    @BeforeEach
    void tenants() {
        Api.ensureTenant(MINE);
        if (Api.as(Tokens.platformAdmin()).get("/api/v1/tenants/" + OTHER).statusCode() == 404) {
            Api.createTenant(OTHER);
            Api.as(Tokens.platformAdmin())
                    .body(Map.of("id", "g1", "name", "group one"))
                    .post("/api/v1/tenants/" + OTHER + "/enrolment-groups")
                    .then()
                    .statusCode(201);
            Api.as(Tokens.platformAdmin())
                    .body(Map.of("deviceIds", List.of("d1")))
                    .post("/api/v1/tenants/" + OTHER + "/enrolment-groups/g1/devices")
                    .then()
                    .statusCode(200);
            Api.as(Tokens.platformAdmin())
                    .post("/api/v1/tenants/" + OTHER + "/ca")
                    .then()
                    .statusCode(201);
            Api.as(Tokens.platformAdmin())
                    .body(Map.of("cseUrl", "http://127.0.0.1:9", "cseId", "/id-o", "cseBase", "cse-o"))
                    .put("/api/v1/tenants/" + OTHER + "/proxy")
                    .then()
                    .statusCode(200);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("endpoints")
    void without_token_is_401(Endpoint e) {
        Response r = e.call(Api.anonymous());
        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(r.header("WWW-Authenticate")).startsWith("Bearer");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("endpoints")
    void token_without_any_m2m_role_is_403(Endpoint e) {
        assertProblem(e.call(Api.as(Tokens.noRoles())), 403, "forbidden");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("endpoints")
    void other_tenants_admin_gets_404_or_403_for_platform_actions(Endpoint e) {
        Response r = e.call(Api.as(Tokens.tenantAdmin(MINE)));
        if (e.platformOnly()) {
            assertProblem(r, 403, "forbidden");
        } else if (e.path().equals("/api/v1/tenants")) {
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.jsonPath().getList("id")).containsExactly(MINE);
        } else {
            assertProblem(r, 404, "not-found");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("endpoints")
    void auditor_of_the_tenant_may_read_and_never_write(Endpoint e) {
        Response r = e.call(Api.as(Tokens.auditor(OTHER)));
        if (e.write() || e.platformOnly()) {
            assertProblem(r, 403, "forbidden");
        } else {
            assertThat(r.statusCode()).as(r.asString()).isEqualTo(200);
        }
    }

    @Test
    void tenant_role_without_tenant_claim_is_403() {
        String token = Tokens.token("lost", List.of("tenant-admin"), null);
        assertProblem(Api.as(token).get("/api/v1/tenants/" + MINE), 403, "forbidden");
    }

    @Test
    void expired_token_is_401() {
        String token = Tokens.claims("late", List.of("platform-admin"), null)
                .issuedAt(System.currentTimeMillis() / 1000 - 7200)
                .expiresAt(System.currentTimeMillis() / 1000 - 3600)
                .jws()
                .keyId("1")
                .sign("privateKey.jwk");
        io.restassured.response.Response r = Api.as(token).get("/api/v1/tenants");
        assertProblem(r, 401, "unauthenticated");
        assertThat(r.jsonPath().getString("detail")).isEqualTo("the bearer token has expired");
    }

    @Test
    void token_for_another_audience_is_401() {
        String token = Tokens.claims("elsewhere", List.of("platform-admin"), null)
                .audience("some-other-api")
                .jws()
                .keyId("1")
                .sign("privateKey.jwk");
        io.restassured.response.Response r = Api.as(token).get("/api/v1/tenants");
        assertProblem(r, 401, "unauthenticated");
        assertThat(r.jsonPath().getString("detail")).startsWith("audience mismatch");
    }

    @Test
    void token_from_another_issuer_is_401() {
        String token = Tokens.claims("forged", List.of("platform-admin"), null)
                .issuer("https://evil.example.com")
                .jws()
                .keyId("1")
                .sign("privateKey.jwk");
        io.restassured.response.Response r = Api.as(token).get("/api/v1/tenants");
        assertProblem(r, 401, "unauthenticated");
        // the reason, both issuers as spelled, never the token
        assertThat(r.jsonPath().getString("detail"))
                .startsWith("issuer mismatch")
                .contains("\"https://evil.example.com\"")
                .contains("\"" + Tokens.ISSUER + "\"");
        assertThat(r.asString()).doesNotContain(token).doesNotContain(token.split("\\.")[1]);
        assertThat(r.headers().getValues("WWW-Authenticate"))
                .containsExactly("Bearer error=\"invalid_token\", error_description=\"issuer mismatch\"");
        // an issuer with control characters and quotes is quoted printable and bounded (no log or answer injection)
        String hostile = Tokens.claims("forged", List.of("platform-admin"), null)
                .issuer("https://evil.example.com/\r\n\"x".repeat(30))
                .jws()
                .keyId("1")
                .sign("privateKey.jwk");
        String detail = Api.as(hostile).get("/api/v1/tenants").jsonPath().getString("detail");
        assertThat(detail)
                .doesNotContain("\r")
                .doesNotContain("\n")
                .contains("…")
                .hasSizeLessThan(600);
    }

    @Test
    void unsigned_alg_none_token_is_401() {
        String header =
                Base64.getUrlEncoder().withoutPadding().encodeToString("{\"alg\":\"none\",\"typ\":\"JWT\"}".getBytes());
        String valid = Tokens.platformAdmin();
        String payload = valid.split("\\.")[1];
        assertThat(Api.as(header + "." + payload + ".").get("/api/v1/tenants").statusCode())
                .isEqualTo(401);
    }

    @Test
    void token_with_a_tampered_payload_is_401() {
        String[] parts = Tokens.tenantAdmin(MINE).split("\\.");
        String forged = Base64.getUrlEncoder()
                .withoutPadding()
                .encodeToString(new String(Base64.getUrlDecoder().decode(parts[1]))
                        .replace(MINE, OTHER)
                        .getBytes());
        assertThat(Api.as(parts[0] + "." + forged + "." + parts[2])
                        .get("/api/v1/tenants/" + OTHER)
                        .statusCode())
                .isEqualTo(401);
    }
}
