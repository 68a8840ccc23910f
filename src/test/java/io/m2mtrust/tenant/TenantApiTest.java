package io.m2mtrust.tenant;

import static io.m2mtrust.testsupport.Api.as;
import static io.m2mtrust.testsupport.Api.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import io.m2mtrust.hsm.HsmKeyLabel;
import io.m2mtrust.hsm.Pkcs11Token;
import io.m2mtrust.testsupport.Api;
import io.m2mtrust.testsupport.TestHsm;
import io.m2mtrust.testsupport.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.Map;

@QuarkusTest
class TenantApiTest {

    @Inject
    Pkcs11Token token;

    @Test
    void platform_admin_creates_a_tenant_with_hsm_keys_policy_and_audit() {
        Response r = as(Tokens.platformAdmin())
                .body(Map.of("id", "acme-energy", "name", "ACME Energy"))
                .post("/api/v1/tenants");
        assertThat(r.statusCode()).as(r.asString()).isEqualTo(201);
        assertThat(r.header("Location")).endsWith("/api/v1/tenants/acme-energy");
        assertThat(r.header("ETag")).matches("\"v\\d+\"");
        assertThat(r.jsonPath().getString("status")).isEqualTo("ACTIVE");

        assertThat(token.labels("acme-energy"))
                .extracting(HsmKeyLabel::value)
                .containsExactlyInAnyOrder(
                        "m2m/acme-energy/kek/v1", "m2m/acme-energy/derive/v1", "m2m/acme-energy/sign/v1");
        as(Tokens.tenantAdmin("acme-energy"))
                .get("/api/v1/tenants/acme-energy/policy")
                .then()
                .statusCode(200);
        assertThat(as(Tokens.auditor("acme-energy"))
                        .get("/api/v1/tenants/acme-energy/audit")
                        .jsonPath()
                        .getList("action"))
                .containsExactly("key.create", "key.create", "key.create", "tenant.create");
    }

    @Test
    void duplicate_tenant_is_409_and_changes_nothing() {
        Api.createTenant("dup-co");
        int audit = auditCount("dup-co");
        Response r = as(Tokens.platformAdmin())
                .body(Map.of("id", "dup-co", "name", "Again"))
                .post("/api/v1/tenants");
        assertProblem(r, 409, "conflict");
        assertThat(auditCount("dup-co")).isEqualTo(audit);
        assertThat(token.labels("dup-co")).hasSize(3);
        assertThat(as(Tokens.platformAdmin())
                        .get("/api/v1/tenants/dup-co")
                        .jsonPath()
                        .getString("name"))
                .isEqualTo("Tenant dup-co");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "A",
                "ab",
                "Upper-Case",
                "has_underscore",
                "-lead",
                "trail-",
                "double--hyphen",
                "toolong-toolong-toolong-toolong-toolong-x",
                "sp ace",
                "ünicode"
            })
    void invalid_tenant_ids_are_400_and_create_nothing(String id) {
        Response r =
                as(Tokens.platformAdmin()).body(Map.of("id", id, "name", "x")).post("/api/v1/tenants");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.contentType()).startsWith("application/problem+json");
        assertThat(as(Tokens.platformAdmin()).get("/api/v1/tenants").jsonPath().getList("id"))
                .doesNotContain(id);
    }

    @Test
    void invalid_tenant_id_in_the_path_is_400() {
        assertProblem(as(Tokens.platformAdmin()).get("/api/v1/tenants/Not_Valid"), 400, "invalid-tenant-id");
    }

    @Test
    void unknown_tenant_is_404() {
        assertProblem(as(Tokens.platformAdmin()).get("/api/v1/tenants/never-was"), 404, "not-found");
    }

    @Test
    void malformed_json_is_400_problem() {
        Response r = as(Tokens.platformAdmin()).body("{\"id\": \"broken\", ").post("/api/v1/tenants");
        assertProblem(r, 400, "malformed-json");
    }

    @Test
    void unknown_fields_are_400_problem() {
        Response r = as(Tokens.platformAdmin())
                .body(Map.of("id", "unk-field", "name", "x", "isAdmin", true))
                .post("/api/v1/tenants");
        assertProblem(r, 400, "unknown-field");
        assertThat(r.jsonPath().getString("detail")).contains("isAdmin");
        assertProblem(as(Tokens.platformAdmin()).get("/api/v1/tenants/unk-field"), 404, "not-found");
    }

    @Test
    void missing_fields_are_400_with_field_errors() {
        Response r = as(Tokens.platformAdmin()).body(Map.of("id", "no-name")).post("/api/v1/tenants");
        assertProblem(r, 400, "validation");
        assertThat(r.jsonPath().getList("errors.field")).contains("name");
    }

    @Test
    void oversized_body_is_413_problem() {
        String big = "x".repeat(70 * 1024);
        Response r = as(Tokens.platformAdmin())
                .body(Map.of("id", "big-body", "name", big))
                .post("/api/v1/tenants");
        assertProblem(r, 413, "payload-too-large");
        assertProblem(as(Tokens.platformAdmin()).get("/api/v1/tenants/big-body"), 404, "not-found");
        // beyond the transport backstop the connection is refused outright, still writing nothing
        Response huge = as(Tokens.platformAdmin())
                .body(Map.of("id", "huge-body", "name", "y".repeat(1_100_000)))
                .post("/api/v1/tenants");
        assertThat(huge.statusCode()).isEqualTo(413);
    }

    @Test
    void wrong_media_type_is_415_problem() {
        Response r = io.restassured.RestAssured.given()
                .auth()
                .oauth2(Tokens.platformAdmin())
                .contentType("text/plain")
                .body("id=x")
                .post("/api/v1/tenants");
        assertProblem(r, 415, "http-415");
    }

    @Test
    void update_needs_if_match_and_refuses_stale_versions() {
        Api.createTenant("upd-co");
        Map<String, String> body = Map.of("name", "Renamed", "status", "SUSPENDED");
        assertProblem(
                as(Tokens.platformAdmin()).body(body).put("/api/v1/tenants/upd-co"), 428, "precondition-required");
        String etag = as(Tokens.platformAdmin()).get("/api/v1/tenants/upd-co").header("ETag");
        Response ok =
                as(Tokens.platformAdmin()).header("If-Match", etag).body(body).put("/api/v1/tenants/upd-co");
        assertThat(ok.statusCode()).as(ok.asString()).isEqualTo(200);
        assertThat(ok.header("ETag")).isNotEqualTo(etag);
        assertThat(ok.jsonPath().getString("status")).isEqualTo("SUSPENDED");
        Response stale = as(Tokens.platformAdmin())
                .header("If-Match", etag)
                .body(Map.of("name", "Lost update", "status", "ACTIVE"))
                .put("/api/v1/tenants/upd-co");
        assertProblem(stale, 412, "precondition-failed");
        assertProblem(
                as(Tokens.platformAdmin())
                        .header("If-Match", ok.header("ETag"))
                        .body(Map.of("name", "x", "status", "DELETED"))
                        .put("/api/v1/tenants/upd-co"),
                400,
                "validation");
        assertThat(as(Tokens.platformAdmin())
                        .get("/api/v1/tenants/upd-co")
                        .jsonPath()
                        .getString("name"))
                .isEqualTo("Renamed");
    }

    @Test
    void database_failure_after_key_generation_destroys_the_new_keys_and_leaves_no_tenant() throws Exception {
        // a real PostgreSQL failure in the middle of creation: a trigger refuses this tenant's policy row
        sql("create or replace function refuse_policy() returns trigger language plpgsql as "
                + "$$ begin raise exception 'injected failure'; end $$");
        sql("create trigger refuse_policy before insert on tenant_policy for each row "
                + "when (new.tenant_id = 'half-made') execute function refuse_policy()");
        try {
            Response r = as(Tokens.platformAdmin())
                    .body(Map.of("id", "half-made", "name", "x"))
                    .post("/api/v1/tenants");
            assertProblem(r, 500, "internal");
            assertThat(token.labels("half-made")).isEmpty();
            assertProblem(as(Tokens.platformAdmin()).get("/api/v1/tenants/half-made"), 404, "not-found");
        } finally {
            sql("drop trigger refuse_policy on tenant_policy");
        }
        // the same request succeeds later
        Api.createTenant("half-made");
        assertThat(token.labels("half-made")).hasSize(3);
    }

    private static void sql(String statement) throws Exception {
        try (var c = io.m2mtrust.testsupport.PostgresResource.postgres()
                        .getDatabase("postgres", "m2mtrust")
                        .getConnection();
                var s = c.createStatement()) {
            s.execute(statement);
        }
    }

    @Test
    void concurrent_creations_of_one_id_make_exactly_one_tenant_with_one_set_of_keys() throws Exception {
        var pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            var futures = new java.util.ArrayList<java.util.concurrent.Future<Integer>>();
            for (int i = 0; i < 4; i++) {
                futures.add(pool.submit(() -> as(Tokens.platformAdmin())
                        .body(Map.of("id", "race-co", "name", "Race"))
                        .post("/api/v1/tenants")
                        .statusCode()));
            }
            java.util.List<Integer> codes = new java.util.ArrayList<>();
            for (var f : futures) {
                codes.add(f.get());
            }
            assertThat(codes).containsOnly(201, 409);
            assertThat(codes).filteredOn(c -> c == 201).hasSize(1);
        } finally {
            pool.shutdown();
        }
        assertThat(token.labels("race-co")).hasSize(3);
        Response v = as(Tokens.platformAdmin()).get("/api/v1/tenants/race-co/audit/verify");
        assertThat(v.jsonPath().getBoolean("intact")).isTrue();
        assertThat(v.jsonPath().getBoolean("headSignatureValid")).isTrue();
    }

    @Test
    void deleting_a_tenant_shreds_its_keys_and_keeps_a_readable_tombstone_and_audit_chain() throws Exception {
        Api.createTenant("shred-me");
        assertThat(token.labels("shred-me")).hasSize(3);
        as(Tokens.platformAdmin()).delete("/api/v1/tenants/shred-me").then().statusCode(204);

        assertThat(token.labels("shred-me")).isEmpty();
        assertThat(TestHsm.pkcs11ToolListObjects()).doesNotContain("m2m/shred-me/");
        assertThat(as(Tokens.platformAdmin())
                        .get("/api/v1/tenants/shred-me")
                        .jsonPath()
                        .getString("status"))
                .isEqualTo("DELETED");
        // requests for the destroyed tenant's keys and policy
        assertProblem(as(Tokens.platformAdmin()).get("/api/v1/tenants/shred-me/keys"), 410, "gone");
        assertProblem(as(Tokens.platformAdmin()).post("/api/v1/tenants/shred-me/keys/kek/rotate"), 410, "gone");
        // the tenant's own tokens stop working (403 tenant-inactive), whatever they ask for
        assertProblem(
                as(Tokens.tenantAdmin("shred-me")).get("/api/v1/tenants/shred-me/policy"), 403, "tenant-inactive");
        assertProblem(as(Tokens.platformAdmin()).delete("/api/v1/tenants/shred-me"), 410, "gone");
        // the id is never reused
        assertProblem(
                as(Tokens.platformAdmin())
                        .body(Map.of("id", "shred-me", "name", "again"))
                        .post("/api/v1/tenants"),
                409,
                "conflict");
        // the chain is still verifiable: the delete event was signed before the signing key was destroyed
        Response v = as(Tokens.platformAdmin()).get("/api/v1/tenants/shred-me/audit/verify");
        assertThat(v.jsonPath().getBoolean("intact")).as(v.asString()).isTrue();
        assertThat(as(Tokens.platformAdmin())
                        .get("/api/v1/tenants/shred-me/audit")
                        .jsonPath()
                        .getList("action"))
                .last()
                .isEqualTo("tenant.delete");
    }

    @Test
    void a_suspended_tenants_own_tokens_are_refused_within_the_status_cache_and_come_back_on_reactivation()
            throws Exception {
        Api.createTenant("pause-api");
        String admin = Tokens.tenantAdmin("pause-api");
        as(admin).get("/api/v1/tenants/pause-api/policy").then().statusCode(200);
        String etag =
                as(Tokens.platformAdmin()).get("/api/v1/tenants/pause-api").header("ETag");
        Response s = as(Tokens.platformAdmin())
                .header("If-Match", etag)
                .body(Map.of("name", "Tenant pause-api", "status", "SUSPENDED"))
                .put("/api/v1/tenants/pause-api");
        assertThat(s.statusCode()).isEqualTo(200);
        // refused from the commit on (the door reads the tenant's status with the row the request loads anyway)
        assertProblem(as(admin).get("/api/v1/tenants/pause-api/policy"), 403, "tenant-inactive");
        assertProblem(as(Tokens.auditor("pause-api")).get("/api/v1/tenants/pause-api/audit"), 403, "tenant-inactive");
        assertProblem(as(admin).get("/api/v1/tenants"), 403, "tenant-inactive");
        // the platform still reads and changes it
        assertThat(as(Tokens.platformAdmin())
                        .get("/api/v1/tenants/pause-api/policy")
                        .statusCode())
                .isEqualTo(200);
        as(Tokens.platformAdmin())
                .header("If-Match", s.header("ETag"))
                .body(Map.of("name", "Tenant pause-api", "status", "ACTIVE"))
                .put("/api/v1/tenants/pause-api")
                .then()
                .statusCode(200);
        as(admin).get("/api/v1/tenants/pause-api/policy").then().statusCode(200);
    }

    @Test
    void without_keycloak_provisioning_a_first_admin_or_a_user_is_a_clear_409_and_nothing_is_made() {
        // this boot runs with m2m.identity.provisioning=off (an operator whose people live in another identity
        // provider)
        Response r = as(Tokens.platformAdmin())
                .body(Map.of(
                        "id",
                        "no-idp-co",
                        "name",
                        "n",
                        "firstAdmin",
                        Map.of("username", "nina", "temporaryPassword", "Temp-Nina-1234567")))
                .post("/api/v1/tenants");
        assertProblem(r, 409, "identity-provisioning-off");
        assertThat(r.asString()).doesNotContain("Temp-Nina-1234567");
        assertProblem(as(Tokens.platformAdmin()).get("/api/v1/tenants/no-idp-co"), 404, "not-found");
        assertThat(token.labels("no-idp-co")).isEmpty();
        Api.createTenant("no-idp-co");
        assertProblem(
                as(Tokens.tenantAdmin("no-idp-co")).get("/api/v1/tenants/no-idp-co/users"),
                409,
                "identity-provisioning-off");
        assertProblem(
                as(Tokens.tenantAdmin("no-idp-co"))
                        .body(Map.of(
                                "username",
                                "nina",
                                "roles",
                                List.of("tenant-admin"),
                                "temporaryPassword",
                                "Temp-Nina-1234567"))
                        .post("/api/v1/tenants/no-idp-co/users"),
                409,
                "identity-provisioning-off");
    }

    private static int auditCount(String tenant) {
        return as(Tokens.platformAdmin())
                .get("/api/v1/tenants/" + tenant + "/audit?limit=1000")
                .jsonPath()
                .getList("seq")
                .size();
    }
}
