package io.m2mtrust.security;

import static io.m2mtrust.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;

import io.m2mtrust.testsupport.Api;
import io.m2mtrust.testsupport.RealKeycloakProfile;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import java.util.Map;

/**
 * The one end-to-end OIDC test: tokens from the real Keycloak distribution (password grant, the
 * repo's realm with its audience and tenant mappers) against the admin API.
 */
@QuarkusTest
@TestProfile(RealKeycloakProfile.class)
class RealKeycloakTest {

    @Test
    void real_keycloak_tokens_get_200_403_and_404_as_the_roles_say() throws Exception {
        var kc = RealKeycloakProfile.keycloak;
        String olivia = kc.passwordGrant("olivia", "olivia-demo-password");
        String ada = kc.passwordGrant("ada", "ada-demo-password");
        String audrey = kc.passwordGrant("audrey", "audrey-demo-password");
        String bob = kc.passwordGrant("bob", "bob-demo-password");

        // platform-admin creates the tenants the realm's users are bound to (the console test in the same Quarkus boot
        // may have made them already: 409, never reused)
        assertThat(as(olivia)
                        .body(Map.of("id", "demo", "name", "Demo"))
                        .post("/api/v1/tenants")
                        .statusCode())
                .isIn(200, 201, 409);
        assertThat(as(olivia)
                        .body(Map.of("id", "other-co", "name", "Other"))
                        .post("/api/v1/tenants")
                        .statusCode())
                .isIn(200, 201, 409);
        assertThat(as(olivia).get("/api/v1/tenants/demo").statusCode()).isEqualTo(200);

        // tenant-admin of demo: reads and writes demo
        var policy = as(ada).get("/api/v1/tenants/demo/policy");
        assertThat(policy.statusCode()).isEqualTo(200);
        assertThat(as(ada).post("/api/v1/tenants/demo/keys/derive/rotate").statusCode())
                .isEqualTo(200);
        // ...cannot create tenants
        Api.assertProblem(as(ada).body(Map.of("id", "nope-co", "name", "x")).post("/api/v1/tenants"), 403, "forbidden");
        // auditor reads, cannot write
        assertThat(as(audrey)
                        .get("/api/v1/tenants/demo/audit/verify")
                        .jsonPath()
                        .getBoolean("intact"))
                .isTrue();
        Api.assertProblem(as(audrey).post("/api/v1/tenants/demo/keys/derive/rotate"), 403, "forbidden");
        // another tenant's admin gets 404 for demo
        Api.assertProblem(as(bob).get("/api/v1/tenants/demo/policy"), 404, "not-found");
        assertThat(as(bob).get("/api/v1/tenants/other-co/policy").statusCode()).isEqualTo(200);
        // the audit names the Keycloak user
        assertThat(as(audrey)
                        .get("/api/v1/tenants/demo/audit")
                        .jsonPath()
                        .getList("actor")
                        .toString())
                .contains("ada");
        // a token Keycloak did not sign
        String tampered = ada.substring(0, ada.length() - 4) + "AAAA";
        var refused =
                Api.anonymous().header("Authorization", "Bearer " + tampered).get("/api/v1/tenants/demo");
        assertThat(refused.statusCode()).isEqualTo(401);
        assertThat(refused.asString()).doesNotContain(tampered).doesNotContain(ada.substring(0, 40));
    }

    @Test
    void a_token_fetched_at_127_0_0_1_is_accepted_by_the_service_configured_with_localhost() throws Exception {
        var kc = RealKeycloakProfile.keycloak;
        // the local realm's issuer is fixed to localhost (KeycloakServer --hostname), however the client spells the
        // host
        String ada = kc.passwordGrant("ada", "ada-demo-password", "127.0.0.1");
        String payload = new String(
                java.util.Base64.getUrlDecoder().decode(ada.split("\\.")[1]), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(payload).contains("\"iss\":\"" + kc.realmUrl() + "\"");
        assertThat(as(olivia(kc))
                        .body(Map.of("id", "demo", "name", "Demo"))
                        .post("/api/v1/tenants")
                        .statusCode())
                .isIn(200, 201, 409);
        assertThat(as(ada).get("/api/v1/tenants/demo/policy").statusCode()).isEqualTo(200);
    }

    private static String olivia(io.m2mtrust.devstack.KeycloakServer kc) throws Exception {
        return kc.passwordGrant("olivia", "olivia-demo-password");
    }
}
