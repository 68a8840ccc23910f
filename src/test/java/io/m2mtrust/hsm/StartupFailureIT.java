package io.m2mtrust.hsm;

import static org.assertj.core.api.Assertions.assertThat;

import io.m2mtrust.testsupport.TestHsm;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The packaged service (target/quarkus-app) started with a wrong PKCS#11 library, slot or PIN stops
 * with one clear ERROR line and a non-zero exit, before it serves anything.
 */
class StartupFailureIT {

    static EmbeddedPostgres pg;

    @BeforeAll
    static void database() throws Exception {
        pg = EmbeddedPostgres.builder().start();
        try (Connection c = pg.getPostgresDatabase().getConnection();
                Statement s = c.createStatement()) {
            s.execute("create database m2mtrust");
        }
    }

    @AfterAll
    static void stop() throws IOException {
        pg.close();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "wrong PIN,      /usr/lib/softhsm/libsofthsm2.so, 0, wrong-pin-000, wrong HSM PIN",
        "wrong library,  /opt/nowhere/libpkcs11.so,        0, ,              does not exist",
        "wrong slot,     /usr/lib/softhsm/libsofthsm2.so, 9, ,              could not open the configured slot"
    })
    void misconfigured_hsm_stops_start_up_with_one_clear_line(
            String what, String library, int slot, String pin, String expected) throws Exception {
        Path cfg = Files.createTempFile("m2m-p11-", ".cfg");
        Files.writeString(cfg, "name = it\nlibrary = " + library + "\nslotListIndex = " + slot + "\n");
        Started run = start(cfg, pin != null ? pin : TestHsm.settings().pin().orElseThrow(), "off");
        Process p = run.process();
        String out = run.output();
        List<String> errors = out.lines().filter(l -> l.contains("ERROR")).toList();
        assertThat(p.exitValue()).as(out).isEqualTo(78);
        assertThat(errors).as(out).hasSize(1);
        assertThat(errors.get(0)).contains("HSM start-up failed").contains(expected);
        assertThat(out).doesNotContain("\tat ").doesNotContain("Listening on");
        if (pin != null) {
            assertThat(out).doesNotContain(pin);
        }
    }

    @org.junit.jupiter.api.Test
    void keycloak_provisioning_without_keycloaks_address_stops_start_up_and_says_what_to_set() throws Exception {
        Started run = start(
                TestHsm.settings().providerConfig(), TestHsm.settings().pin().orElseThrow(), "keycloak");
        assertThat(run.process().exitValue()).as(run.output()).isNotZero();
        assertThat(run.output())
                .contains("m2m.identity.provisioning=keycloak needs Keycloak's address: set M2M_KEYCLOAK_URL")
                .doesNotContain("Listening on");
    }

    record Started(Process process, String output) {}

    /** Starts the packaged service with this HSM configuration and PIN, no OIDC, and waits for it to stop by itself. */
    private static Started start(Path hsmConfig, String pin, String provisioning) throws Exception {
        Path log = Files.createTempFile("m2m-startup-", ".log");
        ProcessBuilder pb = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-jar",
                        "target/quarkus-app/quarkus-run.jar")
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().put("M2M_HSM_PROVIDER_CONFIG", hsmConfig.toString());
        pb.environment().put("M2M_HSM_PIN", pin);
        pb.environment().remove("M2M_HSM_PIN_FILE");
        pb.environment().put("M2M_DB_URL", pg.getJdbcUrl("postgres", "m2mtrust"));
        pb.environment().put("M2M_DB_USER", "postgres");
        pb.environment().put("M2M_HTTP_PORT", "0");
        pb.environment().put("QUARKUS_OIDC_TENANT_ENABLED", "false"); // no identity provider needed to reach the HSM
        pb.environment().put("QUARKUS_OIDC_CONSOLE_TENANT_ENABLED", "false");
        pb.environment().put("M2M_IDENTITY_PROVISIONING", provisioning);
        pb.environment().remove("M2M_KEYCLOAK_URL");
        Process p = pb.start();
        boolean stopped = p.waitFor(90, TimeUnit.SECONDS);
        String out = Files.readString(log, StandardCharsets.UTF_8);
        if (!stopped) {
            p.destroyForcibly();
        }
        assertThat(stopped).as("the service stops by itself; output:\n" + out).isTrue();
        return new Started(p, out);
    }
}
