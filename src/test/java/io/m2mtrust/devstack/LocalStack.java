package io.m2mtrust.devstack;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The run command's launcher (src/bin/run): a real PostgreSQL (embedded), the real Keycloak
 * distribution with the repo's realm, then the packaged service on the SoftHSM2 token that the script
 * initialised; seeds a demo tenant and prints the URLs and demo credentials. Ctrl-C stops all three.
 */
public final class LocalStack {

    private LocalStack() {}

    public static void main(String[] args) throws Exception {
        Path work = Path.of("target/local");
        Files.createDirectories(work);
        int httpPort = Integer.parseInt(
                Optional.ofNullable(System.getenv("M2M_HTTP_PORT")).orElse("8080"));

        log("starting PostgreSQL (embedded)");
        EmbeddedPostgres pg = postgres(work.resolve("pgdata"));

        Path javaHome = KeycloakServer.javaHome()
                .orElseThrow(
                        () -> new IllegalStateException(
                                "Keycloak needs Java 21+: install a Temurin 21+ JDK under /usr/lib/jvm or set M2M_KEYCLOAK_JAVA_HOME"));
        log("starting Keycloak " + System.getProperty("m2m.keycloak.version") + " on " + javaHome + " (about 30 s)");
        KeycloakServer kc = KeycloakServer.start(
                Path.of("target/keycloak"),
                javaHome,
                Path.of(System.getProperty("m2m.keycloak.zip")),
                System.getProperty("m2m.keycloak.version"),
                8180);

        log("starting m2m-trust on port " + httpPort);
        ProcessBuilder pb = new ProcessBuilder(List.of(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "--add-opens=jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED",
                        "-jar",
                        "target/quarkus-app/quarkus-run.jar"))
                .inheritIO();
        pb.environment().put("M2M_DB_URL", pg.getJdbcUrl("postgres", "m2mtrust"));
        pb.environment().put("M2M_DB_USER", "postgres");
        pb.environment().put("M2M_OIDC_URL", kc.realmUrl());
        // tenant onboarding: m2m-trust manages tenants' groups and users through its service account in the realm
        pb.environment().put("M2M_KEYCLOAK_URL", kc.baseUrl());
        pb.environment().put("M2M_KEYCLOAK_PROVISIONER_SECRET", kc.provisionerSecret());
        pb.environment().put("M2M_HTTP_PORT", Integer.toString(httpPort));
        Process service = pb.start();

        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            service.destroy();
            try {
                service.waitFor();
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
            kc.close();
            try {
                pg.close();
            } catch (Exception ignored) {
                // stopping anyway
            }
        }));

        String base = "http://localhost:" + httpPort;
        awaitReady(base + "/q/health/ready", service);
        seedTenant(base, kc.passwordGrant("olivia", "olivia-demo-password"), "demo", "Demo tenant");

        System.out.println("""

                ==================================================================================
                 m2m-trust is running (Ctrl-C stops the service, Keycloak and PostgreSQL)

                 Console          %1$s/console                 (sign in with a demo user below)
                 Admin API        %1$s/api/v1/tenants          (bearer tokens from Keycloak)
                 OpenAPI          %1$s/q/openapi
                 Health           %1$s/q/health/ready
                 Metrics          %1$s/q/metrics
                 Keycloak         %2$s
                 Keycloak admin   %3$s/admin   user kc-bootstrap-admin  password %4$s

                 Tokens: the local realm's issuer is fixed to %2$s, so tokens fetched at
                   127.0.0.1 or localhost both work here. A production issuer is compared exactly as configured
                   (M2M_OIDC_URL): a token from another spelling answers 401 "issuer mismatch".

                 Demo users (realm m2m-trust, local only):
                   olivia / olivia-demo-password   platform-admin
                   ada    / ada-demo-password      tenant-admin of tenant "demo"
                   audrey / audrey-demo-password   tenant-auditor of tenant "demo"

                 Try:
                   TOKEN=$(curl -s -d grant_type=password -d client_id=m2m-trust-cli -d username=ada \\
                     -d password=ada-demo-password %2$s/protocol/openid-connect/token | sed 's/.*"access_token":"\\([^"]*\\)".*/\\1/')
                   curl -s -H "Authorization: Bearer $TOKEN" %1$s/api/v1/tenants/demo/policy
                   curl -s -H "Authorization: Bearer $TOKEN" %1$s/api/v1/tenants/demo/users
                 Onboard a tenant with its first admin (as olivia; docs/identity.md), then sign in to the console as fiona:
                   curl -s -H "Authorization: Bearer $OLIVIA_TOKEN" -H 'Content-Type: application/json' %1$s/api/v1/tenants \
                     -d '{"id":"acme","name":"ACME","firstAdmin":{"username":"fiona","temporaryPassword":"Choose-a-new-one-1"}}'
                ==================================================================================
                """.formatted(
                base, kc.realmUrl(), kc.realmUrl().replace("/realms/m2m-trust", ""), kc.bootstrapAdminPassword()));
        System.exit(service.waitFor());
    }

    /** An embedded PostgreSQL in {@code dataDir} (emptied first) with the service's database created. */
    static EmbeddedPostgres postgres(Path dataDir) throws Exception {
        EmbeddedPostgres pg = EmbeddedPostgres.builder()
                .setDataDirectory(dataDir)
                .setCleanDataDirectory(true)
                .start();
        try (Connection c = pg.getPostgresDatabase().getConnection();
                Statement s = c.createStatement()) {
            s.execute("create database m2mtrust");
        }
        return pg;
    }

    /** Creates tenant {@code id} through the admin API as the platform admin whose token is given. */
    static void seedTenant(String base, String platformAdminToken, String id, String name) throws Exception {
        HttpResponse<String> created = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create(base + "/api/v1/tenants"))
                                .header("Authorization", "Bearer " + platformAdminToken)
                                .header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(
                                        "{\"id\":\"" + id + "\",\"name\":\"" + name + "\"}"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        if (created.statusCode() != 201) {
            throw new IllegalStateException(
                    "seeding tenant " + id + " failed: HTTP " + created.statusCode() + " " + created.body());
        }
    }

    private static void awaitReady(String url, Process service) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        long end = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while (System.nanoTime() < end) {
            if (!service.isAlive()) {
                throw new IllegalStateException("m2m-trust exited with status " + service.exitValue());
            }
            try {
                if (http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.discarding())
                                .statusCode()
                        == 200) {
                    return;
                }
            } catch (java.io.IOException notYet) {
                // starting
            }
            Thread.sleep(500);
        }
        throw new IllegalStateException("m2m-trust did not become ready");
    }

    private static void log(String s) {
        System.out.println(">> " + s);
    }
}
