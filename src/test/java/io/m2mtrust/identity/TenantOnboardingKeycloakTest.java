package io.m2mtrust.identity;

import static io.m2mtrust.testsupport.Api.as;
import static io.m2mtrust.testsupport.Api.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.m2mtrust.hsm.Pkcs11Token;
import io.m2mtrust.testsupport.Api;
import io.m2mtrust.testsupport.KeycloakPages;
import io.m2mtrust.testsupport.MailSink;
import io.m2mtrust.testsupport.RealKeycloakProfile;
import io.m2mtrust.testsupport.TestHsm;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Tenant onboarding against the real Keycloak distribution with the repo's realm: the tenant's group and first admin
 * made by m2m-trust's service account, invitations e-mailed by Keycloak to a real SMTP server, first sign-ins through
 * Keycloak's own pages, tokens from the password grant, and Keycloak stopped (for m2m-trust) half-way through a
 * creation.
 */
@QuarkusTest
@TestProfile(RealKeycloakProfile.class)
class TenantOnboardingKeycloakTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Inject
    Pkcs11Token token;

    @Inject
    TenantIdentitySync identitySync;

    @AfterEach
    void keycloakBack() {
        RealKeycloakProfile.adminPath.restore();
    }

    @Test
    void a_tenant_onboarded_through_m2m_trust_runs_its_own_people_and_loses_access_when_deleted() throws Exception {
        var kc = RealKeycloakProfile.keycloak;
        String olivia = kc.passwordGrant("olivia", "olivia-demo-password");

        // a platform admin creates the tenant with its first admin: Keycloak e-mails the invitation
        Response created = as(olivia)
                .body(Map.of(
                        "id",
                        "onboard-co",
                        "name",
                        "Onboard Co",
                        "firstAdmin",
                        Map.of("email", "fiona@onboard.example", "firstName", "Fiona")))
                .post("/api/v1/tenants");
        assertThat(created.statusCode()).as(created.asString()).isEqualTo(201);
        assertThat(created.jsonPath().getString("firstAdmin.username")).isEqualTo("fiona@onboard.example");
        assertThat(created.jsonPath().getString("firstAdmin.invitation")).isEqualTo("SENT");
        assertThat(groupPaths())
                .contains("/tenants/onboard-co", "/tenants/onboard-co/admins", "/tenants/onboard-co/auditors");

        // she follows the link, chooses her password on Keycloak's page, and signs in (password grant)
        var invitation = RealKeycloakProfile.mail
                .awaitTo("fiona@onboard.example", Duration.ofSeconds(20))
                .orElseThrow(() -> new AssertionError("Keycloak sent no invitation"));
        new KeycloakPages().completeInvitation(MailSink.actionLink(invitation), "Fiona-chose-this-1");
        String fiona = kc.passwordGrant("fiona@onboard.example", "Fiona-chose-this-1");
        JsonNode claims = claims(fiona);
        assertThat(claims.get("tenant").asText()).isEqualTo("onboard-co");
        assertThat(claims.get("realm_access").get("roles").toString())
                .contains("tenant-admin")
                .doesNotContain("platform-admin");

        // she sees only her tenant
        assertThat(as(fiona).get("/api/v1/tenants").jsonPath().getList("id")).containsExactly("onboard-co");
        assertProblem(as(fiona).get("/api/v1/tenants/demo"), 404, "not-found");
        assertProblem(as(fiona).body(Map.of("id", "fiona-co", "name", "x")).post("/api/v1/tenants"), 403, "forbidden");

        // she adds an auditor with a temporary password: never echoed
        Response added = as(fiona)
                .body(Map.of(
                        "username",
                        "arthur",
                        "email",
                        "arthur@onboard.example",
                        "roles",
                        List.of("tenant-auditor"),
                        "temporaryPassword",
                        "Temp-Arthur-123456"))
                .post("/api/v1/tenants/onboard-co/users");
        assertThat(added.statusCode()).as(added.asString()).isEqualTo(201);
        assertThat(added.asString()).doesNotContain("Temp-Arthur-123456");
        assertThat(added.jsonPath().getList("roles")).containsExactly("tenant-auditor");
        assertThat(added.jsonPath().getList("pendingActions")).contains("UPDATE_PASSWORD");
        assertThat(added.jsonPath().getString("invitation")).isEqualTo("TEMPORARY_PASSWORD");
        String arthurId = added.jsonPath().getString("id");
        assertThat(added.header("Location")).endsWith("/api/v1/tenants/onboard-co/users/" + arthurId);

        // the temporary password alone does not give a token: Keycloak asks for a new one at the first sign-in
        assertThat(kc.tryPasswordGrant("arthur", "Temp-Arthur-123456").statusCode())
                .isEqualTo(400);
        String redirected = new KeycloakPages()
                .firstSignIn(
                        kc.realmUrl(),
                        RealKeycloakProfile.consoleUrl,
                        "arthur",
                        "Temp-Arthur-123456",
                        "Arthur-chose-this-1");
        assertThat(redirected).contains("code=");
        String arthur = kc.passwordGrant("arthur", "Arthur-chose-this-1");
        assertThat(claims(arthur).get("tenant").asText()).isEqualTo("onboard-co");

        // the auditor reads and cannot write
        assertThat(as(arthur).get("/api/v1/tenants/onboard-co/policy").statusCode())
                .isEqualTo(200);
        Response people = as(arthur).get("/api/v1/tenants/onboard-co/users");
        assertThat(people.statusCode()).isEqualTo(200);
        assertThat(people.jsonPath().getList("username")).containsExactlyInAnyOrder("fiona@onboard.example", "arthur");
        assertThat(people.jsonPath()
                        .getList("findAll { it.username == 'arthur' }.roles")
                        .toString())
                .contains("tenant-auditor");
        assertProblem(
                as(arthur)
                        .body(Map.of(
                                "username",
                                "eve-co",
                                "roles",
                                List.of("tenant-admin"),
                                "temporaryPassword",
                                "Temp-Eve-12345678"))
                        .post("/api/v1/tenants/onboard-co/users"),
                403,
                "forbidden");
        assertProblem(
                as(arthur)
                        .body(Map.of("enabled", true, "roles", List.of("tenant-admin")))
                        .put("/api/v1/tenants/onboard-co/users/" + arthurId),
                403,
                "forbidden");
        assertProblem(as(arthur).post("/api/v1/tenants/onboard-co/keys/derive/rotate"), 403, "forbidden");

        // never platform-admin, never oneself out
        Response grant = as(fiona)
                .body(Map.of("enabled", true, "roles", List.of("platform-admin")))
                .put("/api/v1/tenants/onboard-co/users/" + arthurId);
        assertProblem(grant, 400, "validation");
        String fionaId = people.jsonPath().getString("find { it.username == 'fiona@onboard.example' }.id");
        assertProblem(
                as(fiona)
                        .body(Map.of("enabled", false, "roles", List.of("tenant-admin")))
                        .put("/api/v1/tenants/onboard-co/users/" + fionaId),
                409,
                "conflict");
        assertProblem(
                as(fiona)
                        .body(Map.of("enabled", true, "roles", List.of("tenant-auditor")))
                        .put("/api/v1/tenants/onboard-co/users/" + fionaId),
                409,
                "conflict");
        String oliviaId = claims(olivia).get("sub").asText();
        assertProblem(as(fiona).get("/api/v1/tenants/onboard-co/users/" + oliviaId), 404, "not-found");

        // a second tenant's admin: 404 on the first tenant and its people, its user names taken are just "taken"
        Response second = as(olivia)
                .body(Map.of(
                        "id",
                        "second-co",
                        "name",
                        "Second Co",
                        "firstAdmin",
                        Map.of("username", "sam", "temporaryPassword", "Temp-Sam-12345678")))
                .post("/api/v1/tenants");
        assertThat(second.statusCode()).as(second.asString()).isEqualTo(201);
        assertThat(second.asString()).doesNotContain("Temp-Sam-12345678");
        new KeycloakPages()
                .firstSignIn(
                        kc.realmUrl(), RealKeycloakProfile.consoleUrl, "sam", "Temp-Sam-12345678", "Sam-chose-this-12");
        String sam = kc.passwordGrant("sam", "Sam-chose-this-12");
        assertProblem(as(sam).get("/api/v1/tenants/onboard-co"), 404, "not-found");
        assertProblem(as(sam).get("/api/v1/tenants/onboard-co/users"), 404, "not-found");
        assertProblem(
                as(sam).body(Map.of("enabled", false, "roles", List.of()))
                        .put("/api/v1/tenants/second-co/users/" + arthurId),
                404,
                "not-found");
        assertProblem(
                as(fiona)
                        .body(Map.of(
                                "username",
                                "sam",
                                "roles",
                                List.of("tenant-auditor"),
                                "temporaryPassword",
                                "Temp-Sam2-12345678"))
                        .post("/api/v1/tenants/onboard-co/users"),
                409,
                "conflict");
        // the same creation repeated: the same tenant, nothing new
        Response again = as(olivia)
                .body(Map.of(
                        "id",
                        "second-co",
                        "name",
                        "Second Co",
                        "firstAdmin",
                        Map.of("username", "sam", "temporaryPassword", "Temp-Sam-12345678")))
                .post("/api/v1/tenants");
        assertThat(again.statusCode()).as(again.asString()).isEqualTo(200);
        assertThat(again.jsonPath().getString("firstAdmin.invitation")).isEqualTo("UNCHANGED");

        // disabling a user in the tenant stops their sign-in; enabling restores it
        as(fiona)
                .body(Map.of("enabled", false, "roles", List.of("tenant-auditor")))
                .put("/api/v1/tenants/onboard-co/users/" + arthurId)
                .then()
                .statusCode(200);
        assertThat(kc.tryPasswordGrant("arthur", "Arthur-chose-this-1").statusCode())
                .isIn(400, 401);
        as(fiona)
                .body(Map.of("enabled", true, "roles", List.of("tenant-auditor")))
                .put("/api/v1/tenants/onboard-co/users/" + arthurId)
                .then()
                .statusCode(200);
        assertThat(kc.tryPasswordGrant("arthur", "Arthur-chose-this-1").statusCode())
                .isEqualTo(200);

        // every action is in the tenant's chain
        List<String> actions = as(fiona)
                .get("/api/v1/tenants/onboard-co/audit?limit=100")
                .jsonPath()
                .getList("action");
        assertThat(actions).contains("tenant.create", "user.create", "user.update");

        // deleting the tenant: the admin's token stops working at once, and Keycloak no longer lets her in
        as(olivia).delete("/api/v1/tenants/onboard-co").then().statusCode(204);
        assertProblem(as(fiona).get("/api/v1/tenants/onboard-co/policy"), 403, "tenant-inactive");
        assertProblem(as(fiona).get("/api/v1/tenants"), 403, "tenant-inactive");
        assertThat(kc.tryPasswordGrant("fiona@onboard.example", "Fiona-chose-this-1")
                        .statusCode())
                .isIn(400, 401);
        assertThat(kc.tryPasswordGrant("arthur", "Arthur-chose-this-1").statusCode())
                .isIn(400, 401);
        assertThat(as(olivia)
                        .get("/api/v1/tenants/onboard-co/audit/verify")
                        .jsonPath()
                        .getBoolean("intact"))
                .isTrue();
    }

    @Test
    void suspension_disables_the_tenants_users_and_reactivation_enables_exactly_those() throws Exception {
        var kc = RealKeycloakProfile.keycloak;
        String olivia = kc.passwordGrant("olivia", "olivia-demo-password");
        as(olivia)
                .body(Map.of(
                        "id",
                        "pause-co",
                        "name",
                        "Pause Co",
                        "firstAdmin",
                        Map.of("username", "paula", "temporaryPassword", "Temp-Paula-1234567")))
                .post("/api/v1/tenants")
                .then()
                .statusCode(201);
        new KeycloakPages()
                .firstSignIn(
                        kc.realmUrl(),
                        RealKeycloakProfile.consoleUrl,
                        "paula",
                        "Temp-Paula-1234567",
                        "Paula-chose-this-1");
        String paula = kc.passwordGrant("paula", "Paula-chose-this-1");
        String quinId = as(paula)
                .body(Map.of(
                        "username",
                        "quin",
                        "roles",
                        List.of("tenant-auditor"),
                        "temporaryPassword",
                        "Temp-Quin-12345678"))
                .post("/api/v1/tenants/pause-co/users")
                .then()
                .statusCode(201)
                .extract()
                .path("id");
        // quin is disabled by paula before the suspension: the re-activation must not enable him
        as(paula)
                .body(Map.of("enabled", false, "roles", List.of("tenant-auditor")))
                .put("/api/v1/tenants/pause-co/users/" + quinId)
                .then()
                .statusCode(200);

        Response t = as(olivia).get("/api/v1/tenants/pause-co");
        Response suspended = as(olivia)
                .header("If-Match", t.header("ETag"))
                .body(Map.of("name", "Pause Co", "status", "SUSPENDED"))
                .put("/api/v1/tenants/pause-co");
        assertThat(suspended.statusCode()).as(suspended.asString()).isEqualTo(200);
        assertProblem(as(paula).get("/api/v1/tenants/pause-co/policy"), 403, "tenant-inactive");
        assertThat(kc.tryPasswordGrant("paula", "Paula-chose-this-1").statusCode())
                .isIn(400, 401);
        // and nobody changes a suspended tenant's people
        assertProblem(
                as(olivia)
                        .body(Map.of(
                                "username",
                                "rita",
                                "roles",
                                List.of("tenant-auditor"),
                                "temporaryPassword",
                                "Temp-Rita-12345678"))
                        .post("/api/v1/tenants/pause-co/users"),
                409,
                "conflict");

        // the ETag the suspension answered is still the tenant's: disabling its users in Keycloak is bookkeeping, not
        // an edit
        as(olivia)
                .header("If-Match", suspended.header("ETag"))
                .body(Map.of("name", "Pause Co", "status", "ACTIVE"))
                .put("/api/v1/tenants/pause-co")
                .then()
                .statusCode(200);
        String again = kc.passwordGrant("paula", "Paula-chose-this-1");
        assertThat(as(again).get("/api/v1/tenants/pause-co/policy").statusCode())
                .isEqualTo(200);
        Response quin = as(again).get("/api/v1/tenants/pause-co/users/" + quinId);
        assertThat(quin.jsonPath().getBoolean("enabled")).as(quin.asString()).isFalse();
        List<String> actions = as(olivia)
                .get("/api/v1/tenants/pause-co/audit?limit=100")
                .jsonPath()
                .getList("action");
        assertThat(actions).contains("tenant.users.disable", "tenant.users.enable");
    }

    @Test
    void a_suspension_while_keycloak_is_away_refuses_tokens_at_once_and_the_reconciler_disables_the_users_later()
            throws Exception {
        var kc = RealKeycloakProfile.keycloak;
        String olivia = kc.passwordGrant("olivia", "olivia-demo-password");
        as(olivia)
                .body(Map.of(
                        "id",
                        "late-co",
                        "name",
                        "Late Co",
                        "firstAdmin",
                        Map.of("username", "lena", "temporaryPassword", "Temp-Lena-1234567")))
                .post("/api/v1/tenants")
                .then()
                .statusCode(201);
        new KeycloakPages()
                .firstSignIn(
                        kc.realmUrl(),
                        RealKeycloakProfile.consoleUrl,
                        "lena",
                        "Temp-Lena-1234567",
                        "Lena-chose-this-12");
        String lena = kc.passwordGrant("lena", "Lena-chose-this-12");

        RealKeycloakProfile.adminPath.cut();
        Response t = as(olivia).get("/api/v1/tenants/late-co");
        as(olivia)
                .header("If-Match", t.header("ETag"))
                .body(Map.of("name", "Late Co", "status", "SUSPENDED"))
                .put("/api/v1/tenants/late-co")
                .then()
                .statusCode(200);
        assertProblem(as(lena).get("/api/v1/tenants/late-co/policy"), 403, "tenant-inactive");
        // Keycloak did not hear of it yet: lena can still get a token, which opens nothing
        assertThat(kc.tryPasswordGrant("lena", "Lena-chose-this-12").statusCode())
                .isEqualTo(200);
        identitySync.reconcile(); // Keycloak still away: nothing changes, nothing breaks
        assertThat(kc.tryPasswordGrant("lena", "Lena-chose-this-12").statusCode())
                .isEqualTo(200);

        RealKeycloakProfile.adminPath.restore();
        identitySync.reconcile();
        assertThat(kc.tryPasswordGrant("lena", "Lena-chose-this-12").statusCode())
                .isIn(400, 401);
        assertThat(as(olivia).get("/api/v1/tenants/late-co/audit").jsonPath().getList("action"))
                .contains("tenant.users.disable");
    }

    @Test
    void keycloak_down_is_a_503_and_keycloak_stopping_half_way_leaves_nothing_half_made() throws Exception {
        var kc = RealKeycloakProfile.keycloak;
        String olivia = kc.passwordGrant("olivia", "olivia-demo-password");
        var path = RealKeycloakProfile.adminPath;

        // Keycloak unreachable from the start: 503, no row, no HSM key
        path.cut();
        Response down = as(olivia)
                .body(Map.of(
                        "id",
                        "kc-down-co",
                        "name",
                        "Down Co",
                        "firstAdmin",
                        Map.of("username", "dora", "temporaryPassword", "Temp-Dora-12345678")))
                .post("/api/v1/tenants");
        assertProblem(down, 503, "identity-provider-unavailable");
        assertThat(down.asString()).doesNotContain("Temp-Dora-12345678");
        assertProblem(as(olivia).get("/api/v1/tenants/kc-down-co"), 404, "not-found");
        assertThat(token.labels("kc-down-co")).isEmpty();
        path.restore();

        // Keycloak stops after the group is made and the keys generated, when the first admin is being created
        path.cutWhenClientSends("POST /admin/realms/m2m-trust/users ");
        Map<String, Object> request = Map.of(
                "id",
                "halfway-co",
                "name",
                "Halfway Co",
                "firstAdmin",
                Map.of("username", "hal", "temporaryPassword", "Temp-Hal-123456789"));
        Response half = as(olivia).body(request).post("/api/v1/tenants");
        assertProblem(half, 503, "identity-provider-unavailable");
        assertThat(path.isCut()).isTrue();
        assertProblem(as(olivia).get("/api/v1/tenants/halfway-co"), 404, "not-found");
        assertThat(token.labels("halfway-co")).isEmpty();
        assertThat(TestHsm.pkcs11ToolListObjects()).doesNotContain("m2m/halfway-co/");
        assertThat(userIds("hal")).isEmpty();
        // the group it could not remove while Keycloak was away is still there...
        assertThat(groupPaths()).contains("/tenants/halfway-co");

        // ...and the same request, once Keycloak is back, adopts it: one group, the tenant, its first admin
        path.restore();
        Response retried = as(olivia).body(request).post("/api/v1/tenants");
        assertThat(retried.statusCode()).as(retried.asString()).isEqualTo(201);
        assertThat(groupPaths().stream()
                        .filter(p -> p.equals("/tenants/halfway-co"))
                        .count())
                .isEqualTo(1);
        assertThat(userIds("hal")).hasSize(1);
        assertThat(token.labels("halfway-co")).hasSize(3);
        List<String> actions =
                as(olivia).get("/api/v1/tenants/halfway-co/audit").jsonPath().getList("action");
        assertThat(actions).contains("tenant.create", "user.create");
    }

    @Test
    void user_requests_are_validated_and_nothing_is_left_behind() throws Exception {
        var kc = RealKeycloakProfile.keycloak;
        String olivia = kc.passwordGrant("olivia", "olivia-demo-password");
        int before = userIds("").size();
        Api.assertProblem(
                as(olivia)
                        .body(Map.of(
                                "id",
                                "val-co",
                                "name",
                                "Val",
                                "firstAdmin",
                                Map.of("username", "Upper Case", "temporaryPassword", "Temp-1234567890")))
                        .post("/api/v1/tenants"),
                400,
                "validation");
        Api.assertProblem(
                as(olivia)
                        .body(Map.of("id", "val-co", "name", "Val", "firstAdmin", Map.of("username", "vic")))
                        .post("/api/v1/tenants"),
                400,
                "validation");
        Response shortPw = as(olivia)
                .body(Map.of(
                        "id",
                        "val-co",
                        "name",
                        "Val",
                        "firstAdmin",
                        Map.of("username", "vic", "temporaryPassword", "short")))
                .post("/api/v1/tenants");
        Api.assertProblem(shortPw, 400, "validation");
        assertThat(shortPw.asString()).doesNotContain("short\"");
        assertProblem(as(olivia).get("/api/v1/tenants/val-co"), 404, "not-found");
        assertThat(userIds("").size()).isEqualTo(before);

        as(olivia)
                .body(Map.of("id", "val-co", "name", "Val"))
                .post("/api/v1/tenants")
                .then()
                .statusCode(201);
        Api.assertProblem(
                as(olivia)
                        .body(Map.of("username", "vic", "roles", List.of(), "temporaryPassword", "Temp-1234567890"))
                        .post("/api/v1/tenants/val-co/users"),
                400,
                "validation");
        Api.assertProblem(
                as(olivia)
                        .body(Map.of(
                                "username",
                                "vic",
                                "roles",
                                List.of("tenant-owner"),
                                "temporaryPassword",
                                "Temp-1234567890"))
                        .post("/api/v1/tenants/val-co/users"),
                400,
                "validation");
        Api.assertProblem(
                as(olivia)
                        .body(
                                "{\"username\": \"vic\", \"roles\": [\"tenant-admin\"], \"temporaryPassword\": \"Temp-1234567890\", \"admin\": true}")
                        .post("/api/v1/tenants/val-co/users"),
                400,
                "unknown-field");
        Api.assertProblem(
                as(olivia).body("{\"username\": ").post("/api/v1/tenants/val-co/users"), 400, "malformed-json");
        Api.assertProblem(as(olivia).get("/api/v1/tenants/val-co/users/not-a-user-id"), 404, "not-found");
        Api.assertProblem(as(olivia).get("/api/v1/tenants/val-co/users?max=100000"), 400, "validation");
        Api.assertProblem(as(olivia).get("/api/v1/tenants/no-such-co/users"), 404, "not-found");
        // oversized: refused before anything reaches Keycloak
        Response huge = as(olivia)
                .body(Map.of(
                        "username",
                        "vic",
                        "roles",
                        List.of("tenant-auditor"),
                        "firstName",
                        "x".repeat(70_000),
                        "temporaryPassword",
                        "Temp-1234567890"))
                .post("/api/v1/tenants/val-co/users");
        assertThat(huge.statusCode()).isEqualTo(413);
        assertThat(userIds("vic")).isEmpty();
    }

    @Test
    void an_invitation_keycloak_cannot_send_leaves_the_user_made_and_is_resent_once_e_mail_works() throws Exception {
        var kc = RealKeycloakProfile.keycloak;
        String olivia = kc.passwordGrant("olivia", "olivia-demo-password");
        int closedPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        kc.useSmtp("127.0.0.1", closedPort);
        Response made;
        Response stillBroken;
        try {
            made = as(olivia)
                    .body(Map.of(
                            "id",
                            "mailless-co",
                            "name",
                            "Mailless Co",
                            "firstAdmin",
                            Map.of("email", "mia@mailless.example")))
                    .post("/api/v1/tenants");
            stillBroken = as(olivia)
                    .post("/api/v1/tenants/mailless-co/users/" + made.jsonPath().getString("firstAdmin.id")
                            + "/invitation");
        } finally {
            kc.useSmtp("127.0.0.1", RealKeycloakProfile.mail.port());
        }
        assertProblem(stillBroken, 502, "invitation-not-sent");
        // the tenant and its admin exist (committed before the e-mail): the answer says the invitation is still owed
        assertThat(made.statusCode()).as(made.asString()).isEqualTo(201);
        assertThat(made.jsonPath().getString("firstAdmin.invitation")).isEqualTo("NOT_SENT");
        assertThat(RealKeycloakProfile.mail.countTo("mia@mailless.example")).isZero();
        String miaId = made.jsonPath().getString("firstAdmin.id");
        Response resent = as(olivia).post("/api/v1/tenants/mailless-co/users/" + miaId + "/invitation");
        assertThat(resent.statusCode()).as(resent.asString()).isEqualTo(200);
        assertThat(resent.jsonPath().getString("invitation")).isEqualTo("SENT");
        assertThat(RealKeycloakProfile.mail.awaitTo("mia@mailless.example", Duration.ofSeconds(20)))
                .isPresent();
        // a user without an e-mail address has nothing to be sent
        String noMail = as(olivia)
                .body(Map.of(
                        "username",
                        "nomail",
                        "roles",
                        List.of("tenant-auditor"),
                        "temporaryPassword",
                        "Temp-NoMail-12345"))
                .post("/api/v1/tenants/mailless-co/users")
                .then()
                .statusCode(201)
                .extract()
                .path("id");
        assertProblem(as(olivia).post("/api/v1/tenants/mailless-co/users/" + noMail + "/invitation"), 409, "conflict");
        assertThat(as(olivia)
                        .get("/api/v1/tenants/mailless-co/audit")
                        .jsonPath()
                        .getList("action"))
                .contains("user.invite");
    }

    private static JsonNode claims(String jwt) throws Exception {
        return JSON.readTree(Base64.getUrlDecoder().decode(jwt.split("\\.")[1]));
    }

    /** Every group path of the realm, read with Keycloak's bootstrap administrator (not m2m-trust's account). */
    private static List<String> groupPaths() throws Exception {
        JsonNode groups = adminGet("/groups?briefRepresentation=true&max=1000&subGroupsCount=true");
        List<String> out = new java.util.ArrayList<>();
        for (JsonNode g : groups) {
            collect(g, out);
        }
        return out;
    }

    private static void collect(JsonNode g, List<String> out) throws Exception {
        out.add(g.get("path").asText());
        if (g.path("subGroupCount").asInt(0) > 0) {
            for (JsonNode c : adminGet("/groups/" + g.get("id").asText() + "/children?max=1000")) {
                collect(c, out);
            }
        }
    }

    private static List<String> userIds(String username) throws Exception {
        JsonNode users = adminGet("/users?max=1000&briefRepresentation=true"
                + (username.isEmpty()
                        ? ""
                        : "&exact=true&username=" + URLEncoder.encode(username, StandardCharsets.UTF_8)));
        List<String> out = new java.util.ArrayList<>();
        users.forEach(u -> out.add(u.get("id").asText()));
        return out;
    }

    private static JsonNode adminGet(String path) throws Exception {
        var kc = RealKeycloakProfile.keycloak;
        HttpResponse<String> r = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create(kc.baseUrl() + "/admin/realms/m2m-trust" + path))
                                .header("Authorization", "Bearer " + kc.bootstrapAdminToken())
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }
}
