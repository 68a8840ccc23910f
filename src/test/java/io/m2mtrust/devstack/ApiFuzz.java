package io.m2mtrust.devstack;

import io.m2mtrust.testsupport.PackagedService;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The admin API fuzzed from its own OpenAPI document with schemathesis (issue 21; src/bin/api-fuzz): a real PostgreSQL,
 * the real Keycloak with the repo's realm, the packaged service on the script's SoftHSM2 token, a seeded tenant "demo";
 * then schemathesis runs as the tenant's admin (every tenant path with {@code tenant=demo}) and as the platform admin,
 * in rounds of a few minutes with a fresh token each. Checks: no 5xx, answers that conform to the documented schemas,
 * status codes and content types. The exit status is schemathesis's; its JUnit reports are in target/api-fuzz.
 */
public final class ApiFuzz {

    private ApiFuzz() {}

    public static void main(String[] args) throws Exception {
        int minutes = args.length > 0 ? Integer.parseInt(args[0]) : 4;
        String schemathesis = System.getenv("M2M_SCHEMATHESIS");
        Path work = Path.of("target/api-fuzz");
        Files.createDirectories(work);
        EmbeddedPostgres pg = LocalStack.postgres(work.resolve("pgdata"));
        KeycloakServer kc = KeycloakServer.start(
                Path.of("target/keycloak"),
                KeycloakServer.javaHome().orElseThrow(() -> new IllegalStateException("Keycloak needs Java 21+")),
                Path.of(System.getProperty("m2m.keycloak.zip")),
                System.getProperty("m2m.keycloak.version"));
        Map<String, String> env = PackagedService.environment(pg, kc);
        env.put("M2M_DEVICE_DTLS_ENABLED", "false");
        PackagedService service = PackagedService.start("api-fuzz", env, work);
        int status = 1;
        try {
            service.awaitReady(Duration.ofMinutes(3));
            String base = service.base();
            LocalStack.seedTenant(base, kc.passwordGrant("olivia", "olivia-demo-password"), "demo", "Demo");
            Files.writeString(work.resolve("schemathesis.toml"), """
                    # every {tenant} path parameter names the seeded tenant (random ones only reach 404)
                    [parameters]
                    tenant = "demo"
                    """);
            status = 0;
            // rounds of at most four minutes (a token of the local realm lives five); the tenant admin's rounds first:
            // the platform admin may suspend the tenant or disable its users, which the fuzzer is free to do
            int rounds = Math.max(1, (minutes + 3) / 4);
            int seconds = Math.max(30, minutes * 60 / rounds / 2);
            for (String[] user : List.of(
                    new String[] {"ada", "ada-demo-password", "tenant-admin"},
                    new String[] {"olivia", "olivia-demo-password", "platform-admin"})) {
                for (int round = 0; round < rounds; round++) {
                    String token;
                    try {
                        token = kc.passwordGrant(user[0], user[1]);
                    } catch (IllegalStateException refused) {
                        System.out.println(">> " + user[0] + " can no longer sign in (the fuzzer changed the account):"
                                + " no more rounds as " + user[2]);
                        break;
                    }
                    List<String> cmd = new ArrayList<>(List.of(
                            schemathesis,
                            "--config-file",
                            work.resolve("schemathesis.toml").toString(),
                            "run",
                            base + "/q/openapi?format=json",
                            "--url",
                            base,
                            "-H",
                            "Authorization: Bearer " + token,
                            "--checks",
                            "not_a_server_error,response_schema_conformance,status_code_conformance,"
                                    + "content_type_conformance",
                            "--max-time",
                            Integer.toString(seconds),
                            "--workers",
                            "2",
                            "--report",
                            "junit",
                            "--report-dir",
                            work.resolve("reports-" + user[2] + "-" + round).toString()));
                    System.out.println(
                            ">> schemathesis as " + user[2] + ", round " + (round + 1) + ", " + seconds + " s");
                    int s = new ProcessBuilder(cmd).inheritIO().start().waitFor();
                    status = Math.max(status, s);
                }
            }
        } finally {
            service.close();
            kc.close();
            pg.close();
        }
        System.exit(status);
    }
}
