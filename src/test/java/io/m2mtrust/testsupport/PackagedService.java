package io.m2mtrust.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.m2mtrust.devstack.KeycloakServer;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The packaged service ({@code target/quarkus-app/quarkus-run.jar}) as its own process, on the test's SoftHSM2 token
 * (the environment's {@code SOFTHSM2_CONF} and PIN) and the database and OIDC server it is given. For tests that need
 * real processes: restarts, several replicas, a kill.
 */
public final class PackagedService implements AutoCloseable {

    static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    static final ObjectMapper JSON = new ObjectMapper();

    public final String name;
    public final int httpPort;
    public final int devicePort;
    public final Path log;
    private final Map<String, String> env;
    private final List<String> jvmOptions;
    private Process process;

    private PackagedService(String name, Map<String, String> env, Path log, List<String> jvmOptions)
            throws IOException {
        this.name = name;
        this.jvmOptions = List.copyOf(jvmOptions);
        this.httpPort = freePort();
        this.devicePort = freePort();
        this.log = log;
        this.env = new HashMap<>(env);
        this.env.put("M2M_HTTP_PORT", Integer.toString(httpPort));
        this.env.put("M2M_DEVICE_TLS_PORT", Integer.toString(devicePort));
        this.env.put("M2M_DEVICE_DTLS_PORT", "0"); // several replicas on one host: each its own UDP port
        this.env.put("M2M_CLUSTER_REPLICA_ID", name);
    }

    /** The environment that points the service at an embedded PostgreSQL and the real Keycloak of a test. */
    public static Map<String, String> environment(EmbeddedPostgres pg, KeycloakServer kc) {
        Map<String, String> env = new HashMap<>();
        env.put("M2M_DB_URL", pg.getJdbcUrl("postgres", "m2mtrust"));
        env.put("M2M_DB_USER", "postgres");
        env.put("M2M_OIDC_URL", kc.realmUrl());
        env.put("M2M_KEYCLOAK_URL", kc.baseUrl());
        env.put("M2M_KEYCLOAK_PROVISIONER_SECRET", kc.provisionerSecret());
        return env;
    }

    /** Starts the service (not waiting for it): {@code env} names the database, OIDC and whatever else it needs. */
    public static PackagedService start(String name, Map<String, String> env, Path logDir) throws IOException {
        return start(name, env, logDir, List.of());
    }

    /** {@link #start(String, Map, Path)} with more JVM options (e.g. native memory tracking for a soak). */
    public static PackagedService start(String name, Map<String, String> env, Path logDir, List<String> jvmOptions)
            throws IOException {
        Files.createDirectories(logDir);
        PackagedService s = new PackagedService(name, env, logDir.resolve(name + ".log"), jvmOptions);
        s.launch();
        return s;
    }

    private void launch() throws IOException {
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m",
                // PKCS#11 ECDH and HSM recovery, SunPKCS11's session count: as the chart's JDK_JAVA_OPTIONS (ADR 0002)
                "--add-opens=jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED",
                "--add-opens=jdk.crypto.cryptoki/sun.security.pkcs11=ALL-UNNAMED"));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-jar", "target/quarkus-app/quarkus-run.jar"));
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().putAll(env);
        process = pb.start();
    }

    /** Starts it again after {@link #stop} or {@link #kill}, on the same ports. */
    public void restart() throws IOException {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException(name + " is still running");
        }
        launch();
    }

    public String base() {
        return "http://127.0.0.1:" + httpPort;
    }

    public boolean alive() {
        return process != null && process.isAlive();
    }

    public long pid() {
        return process.pid();
    }

    /** Waits until readiness is UP; fails with the log's tail when the process ends or time runs out. */
    public PackagedService awaitReady(Duration within) throws Exception {
        long end = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < end) {
            if (!process.isAlive()) {
                throw new IllegalStateException(name + " stopped:\n" + tail());
            }
            if (ready()) {
                return this;
            }
            Thread.sleep(250);
        }
        throw new IllegalStateException(name + " did not get ready:\n" + tail());
    }

    /** Whether readiness answers 200 now. */
    public boolean ready() {
        try {
            return HTTP.send(
                                    HttpRequest.newBuilder(URI.create(base() + "/q/health/ready"))
                                            .timeout(Duration.ofSeconds(2))
                                            .build(),
                                    HttpResponse.BodyHandlers.discarding())
                            .statusCode()
                    == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The data of one readiness check ("cluster", "hsm", …), or null when it cannot be read. */
    public JsonNode readinessData(String check) {
        try {
            HttpResponse<String> r = HTTP.send(
                    HttpRequest.newBuilder(URI.create(base() + "/q/health/ready"))
                            .timeout(Duration.ofSeconds(2))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            for (JsonNode c : JSON.readTree(r.body()).path("checks")) {
                if (check.equals(c.path("name").asText())) {
                    return c.path("data");
                }
            }
            return null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** SIGKILL: no shutdown hook, no drain (a crashed pod). */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    /** SIGTERM: the normal stop (drain, then exit); returns the exit code. */
    public int stop() throws InterruptedException {
        process.destroy();
        return process.waitFor();
    }

    public String tail() {
        try {
            String all = Files.readString(log);
            return all.length() > 6000 ? all.substring(all.length() - 6000) : all;
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }

    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
