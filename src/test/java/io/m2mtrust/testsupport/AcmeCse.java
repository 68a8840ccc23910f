package io.m2mtrust.testsupport;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The ACME oneM2M CSE (Eclipse-licensed reference CSE in Python, {@code pip install acmecse}) as a real,
 * standards-conforming CSE for the proxy tests: an IN-CSE {@code /id-in} with CSEBase {@code cse-in}, HTTP
 * binding only, in-memory database, started headless on a free port. The Python that has {@code acmecse}
 * installed is named by {@code M2M_ACMECSE_PYTHON}; {@code src/bin/test} prepares it (src/bin/lib/acmecse.sh).
 */
public final class AcmeCse implements AutoCloseable {

    public static final String CSE_ID = "/id-in";
    public static final String CSE_BASE = "cse-in";

    private final Process process;
    private final int port;
    private final int coapPort;
    private final Path log;

    private AcmeCse(Process process, int port, int coapPort, Path log) {
        this.process = process;
        this.port = port;
        this.coapPort = coapPort;
        this.log = log;
    }

    /** The Python with acmecse installed, or a clear failure saying how to get it. */
    public static Path python() {
        String env = System.getenv("M2M_ACMECSE_PYTHON");
        if (env == null || !Files.isExecutable(Path.of(env))) {
            throw new IllegalStateException(
                    "M2M_ACMECSE_PYTHON does not name a Python with acmecse installed; run the tests with"
                            + " `bash src/bin/test`, which installs the ACME CSE into a virtualenv (src/bin/lib/acmecse.sh)");
        }
        return Path.of(env);
    }

    /**
     * Starts ACME on a free port. The port is picked, released and then bound by ACME, so another socket may take
     * it in between (an outgoing connection's ephemeral port): ACME then exits at once with status 0 and nothing but
     * its banner. That case is retried on a new port, twice at most.
     */
    public static AcmeCse start(Path workDir) throws Exception {
        return start(workDir, false);
    }

    /** The same, with ACME's CoAP binding (TS-0008, plain UDP) on a free port too when {@code coap}. */
    public static AcmeCse start(Path workDir, boolean coap) throws Exception {
        for (int attempt = 1; ; attempt++) {
            try {
                return startOnce(workDir, attempt, coap);
            } catch (PortTaken e) {
                if (attempt == 3) {
                    throw new IllegalStateException(
                            "the ACME CSE stopped before it answered, three times; its output:\n" + e.getMessage());
                }
            }
        }
    }

    private static final class PortTaken extends Exception {
        PortTaken(String output) {
            super(output);
        }
    }

    private static AcmeCse startOnce(Path workDir, int attempt, boolean coap) throws Exception {
        Files.createDirectories(workDir);
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        int coapPort = 0;
        if (coap) {
            try (java.net.DatagramSocket s = new java.net.DatagramSocket(0)) {
                coapPort = s.getLocalPort();
            }
        }
        // [basic.config] is what ACME's own onboarding dialog writes; every other setting keeps its default
        // (acme.ini.default). An IN-CSE has no registrar: the empty registrar CSE-ID says so.
        Files.writeString(
                workDir.resolve("acme.ini"),
                """
                [basic.config]
                cseType=IN
                cseID=id-in
                cseName=cse-in
                adminID=CAdmin
                serviceProviderID=//acme.example.com
                networkInterface=127.0.0.1
                cseHost=127.0.0.1
                httpPort=%d
                databaseType=memory
                logLevel=info
                consoleTheme=dark
                consoleType=simple
                secret=acme-cse-for-m2m-trust-tests-only
                registrarCseHost=127.0.0.1
                registrarCsePort=0
                registrarCseID=
                registrarCseName=

                [logging]
                enableFileLogging=true
                stackTraceOnError=true
                """.formatted(port)
                        + (coap ? "\n[coap]\nenable=true\nport=" + coapPort + "\nlistenIF=127.0.0.1\n" : ""));
        Path log = workDir.resolve(attempt == 1 ? "acme.log" : "acme-" + attempt + ".log");
        // --config takes a bare file name, looked up in the base directory
        ProcessBuilder pb = new ProcessBuilder(
                        python().toString(),
                        "-m",
                        "acmecse",
                        "--config",
                        "acme.ini",
                        "--base-directory",
                        workDir.toAbsolutePath().toString(),
                        "--headless",
                        "--http",
                        "--no-mqtt",
                        coap ? "--coap" : "--no-coap",
                        "--no-ws",
                        "--no-remote-cse",
                        "--db-type",
                        "memory",
                        "--http-port",
                        String.valueOf(port))
                .directory(workDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        AcmeCse cse = new AcmeCse(pb.start(), port, coapPort, log);
        cse.awaitReady(Duration.ofSeconds(60));
        return cse;
    }

    /**
     * Puts this CSE behind {@code tenant}'s proxy (its CSEBase a protected entity) and pre-provisions the pairwise
     * ESPrim key {@code kid} (SUID 13) between {@code originator} and the CSE, valid for an hour.
     */
    public void putBehindProxy(String tenant, String kid, String originator, byte[] pairwise) {
        Api.as(Tokens.tenantAdmin(tenant))
                .body(java.util.Map.of("cseUrl", url(), "cseId", CSE_ID, "cseBase", CSE_BASE, "timeoutMs", 5000))
                .put("/api/v1/tenants/" + tenant + "/proxy")
                .then()
                .statusCode(200);
        Api.as(Tokens.tenantAdmin(tenant))
                .body(java.util.Map.of("entityId", CSE_ID, "resourcePath", CSE_BASE))
                .put("/api/v1/tenants/" + tenant + "/proxy/entities")
                .then()
                .statusCode(200);
        ProxyFixtures.pairwiseKey(tenant, kid, java.util.List.of(originator, CSE_ID), pairwise);
    }

    public String url() {
        return "http://127.0.0.1:" + port;
    }

    /** ACME's CoAP binding, when started with it. */
    public String coapUrl() {
        if (coapPort == 0) {
            throw new IllegalStateException("this ACME CSE was started without its CoAP binding");
        }
        return "coap://127.0.0.1:" + coapPort;
    }

    private void awaitReady(Duration limit) throws Exception {
        HttpClient http =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                if (process.exitValue()
                        == 0) { // gone before it answered, without an error on its console: e.g. its port was taken
                    throw new PortTaken(tail() + "\n" + fileLog());
                }
                throw new IllegalStateException(
                        "the ACME CSE exited with " + process.exitValue() + "; its output:\n" + tail());
            }
            try {
                HttpResponse<String> r = http.send(
                        HttpRequest.newBuilder(URI.create(url() + "/" + CSE_BASE))
                                .timeout(Duration.ofSeconds(2))
                                .header("X-M2M-Origin", "CAdmin")
                                .header("X-M2M-RI", "ready")
                                .header("X-M2M-RVI", "3")
                                .header("Accept", "application/json")
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // still starting
            }
            Thread.sleep(250);
        }
        close();
        throw new IllegalStateException("the ACME CSE did not answer within " + limit + "; its output:\n" + tail());
    }

    /** The end of ACME's own log file (headless, it logs errors there rather than on its console). */
    private String fileLog() {
        Path dir = log.getParent().resolve("logs");
        try (var files = Files.list(dir)) {
            Path file = files.filter(f -> f.toString().endsWith(".log"))
                    .max(java.util.Comparator.comparing(f -> f.toFile().lastModified()))
                    .orElseThrow();
            List<String> lines = Files.readAllLines(file);
            return file.getFileName() + ":\n"
                    + String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException | java.util.NoSuchElementException e) {
            return "(no log file in " + dir + ")";
        }
    }

    private String tail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() {
        process.descendants().forEach(ProcessHandle::destroy);
        process.destroy();
        try {
            if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
