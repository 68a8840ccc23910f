package io.m2mtrust.testsupport;

import io.smallrye.jwt.build.Jwt;
import io.smallrye.jwt.build.JwtClaimsBuilder;

import java.util.List;
import java.util.Map;

/** Bearer tokens signed by the WireMock OIDC server's key (quarkus-test-oidc-server). */
public final class Tokens {

    public static final String ISSUER = "https://server.example.com";
    public static final String AUDIENCE = "m2m-trust-api";

    private Tokens() {}

    public static String platformAdmin() {
        return token("olivia-operator", List.of("platform-admin"), null);
    }

    public static String tenantAdmin(String tenant) {
        return token("ada-" + tenant, List.of("tenant-admin"), tenant);
    }

    public static String auditor(String tenant) {
        return token("audrey-" + tenant, List.of("tenant-auditor"), tenant);
    }

    public static String noRoles() {
        return token("nobody", List.of("offline_access"), null);
    }

    public static String token(String user, List<String> roles, String tenant) {
        return claims(user, roles, tenant).jws().keyId("1").sign("privateKey.jwk");
    }

    public static JwtClaimsBuilder claims(String user, List<String> roles, String tenant) {
        JwtClaimsBuilder b = Jwt.preferredUserName(user)
                .subject(user + "-sub")
                .issuer(ISSUER)
                .audience(AUDIENCE)
                .claim("realm_access", Map.of("roles", roles));
        if (tenant != null) {
            b.claim("tenant", tenant);
        }
        return b;
    }
}
