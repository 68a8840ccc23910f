package io.m2mtrust.devstack;

import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Optional;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * A real Keycloak from its distribution zip (Maven Central, {@code org.keycloak:keycloak-quarkus-dist}),
 * started in dev mode with the repo's realm imported. Keycloak needs Java 21+: it runs on the JDK named
 * by {@code M2M_KEYCLOAK_JAVA_HOME} or the first Temurin 21+ under /usr/lib/jvm.
 */
public final class KeycloakServer implements AutoCloseable {

    public static final String REALM = "m2m-trust";
    public static final Path REALM_FILE = Path.of("src/main/keycloak/m2m-trust-realm.json");

    private final Process process;
    private final int port;
    private final Path log;

    private String bootstrapPassword;
    private String provisionerSecret;

    private KeycloakServer(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    /** A Java 21+ home for Keycloak, or empty (then the caller says clearly why Keycloak cannot run). */
    public static Optional<Path> javaHome() {
        String env = System.getenv("M2M_KEYCLOAK_JAVA_HOME");
        if (env != null && Files.isExecutable(Path.of(env, "bin", "java"))) {
            return Optional.of(Path.of(env));
        }
        try (Stream<Path> s = Files.list(Path.of("/usr/lib/jvm"))) {
            return s.filter(p -> p.getFileName().toString().matches("(temurin|java|jdk)-?(2[1-9]|[3-9][0-9]).*"))
                    .filter(p -> Files.isExecutable(p.resolve("bin/java")))
                    .sorted(Comparator.reverseOrder())
                    .findFirst();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    public static KeycloakServer start(Path workDir, Path javaHome, Path distZip, String version) throws Exception {
        return start(workDir, javaHome, distZip, version, 0);
    }

    /**
     * For the tests that start packaged services: the version in {@code pom.xml}, its distribution as the build
     * downloaded it ({@code target/keycloak-dist}), a Java 21+ JDK from {@code /usr/lib/jvm}.
     */
    public static KeycloakServer startForTests(Path workDir) throws Exception {
        Path java = javaHome()
                .orElseThrow(() -> new IllegalStateException("Keycloak needs a Java 21+ JDK under /usr/lib/jvm"));
        String version = Files.readString(Path.of("pom.xml"))
                .replaceAll("(?s).*<keycloak.version>([^<]+)</keycloak.version>.*", "$1");
        return start(workDir, java, Path.of("target/keycloak-dist/keycloak-quarkus-dist-" + version + ".zip"), version);
    }

    /** Starts on {@code preferredPort} when it is free (0: any free port). */
    public static KeycloakServer start(Path workDir, Path javaHome, Path distZip, String version, int preferredPort)
            throws Exception {
        Path home = workDir.resolve("keycloak-" + version);
        if (!Files.isExecutable(home.resolve("bin/kc.sh"))) {
            unzip(distZip, workDir);
        }
        deleteRecursively(home.resolve("data"));
        Files.createDirectories(home.resolve("data/import"));
        Files.copy(
                REALM_FILE, home.resolve("data/import/" + REALM + "-realm.json"), StandardCopyOption.REPLACE_EXISTING);

        int port = preferredPort > 0 && isFree(preferredPort) ? preferredPort : freePort();
        int management = freePort();
        Path log = workDir.resolve("keycloak.log");
        // --hostname fixes the issuer: a token fetched at 127.0.0.1 carries iss http://localhost:<port>/realms/… like
        // one fetched at
        // localhost, so the local realm's tokens are accepted however a client spells the host (production issuers are
        // exact)
        ProcessBuilder pb = new ProcessBuilder(
                        home.resolve("bin/kc.sh").toString(),
                        "start-dev",
                        "--http-port=" + port,
                        "--http-management-port=" + management,
                        "--import-realm",
                        "--hostname=http://localhost:" + port,
                        "--cache=local")
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().put("JAVA_HOME", javaHome.toString());
        pb.environment().put("KC_BOOTSTRAP_ADMIN_USERNAME", "kc-bootstrap-admin");
        byte[] pw = new byte[18];
        new SecureRandom().nextBytes(pw);
        pb.environment().put("KC_BOOTSTRAP_ADMIN_PASSWORD", HexFormat.of().formatHex(pw));
        // the realm file takes the provisioner's client secret from the environment: a fresh one per start
        byte[] secret = new byte[24];
        new SecureRandom().nextBytes(secret);
        pb.environment().put("M2M_KEYCLOAK_PROVISIONER_SECRET", HexFormat.of().formatHex(secret));
        KeycloakServer kc = new KeycloakServer(pb.start(), port, log);
        kc.bootstrapPassword = pb.environment().get("KC_BOOTSTRAP_ADMIN_PASSWORD");
        kc.provisionerSecret = pb.environment().get("M2M_KEYCLOAK_PROVISIONER_SECRET");
        kc.awaitRealm(Duration.ofSeconds(240));
        return kc;
    }

    public String realmUrl() {
        return baseUrl() + "/realms/" + REALM;
    }

    /** The server's root (what the Keycloak admin client is pointed at). */
    public String baseUrl() {
        return "http://localhost:" + port;
    }

    public int port() {
        return port;
    }

    /** The client secret of {@code m2m-trust-provisioner}, m2m-trust's service account in the realm. */
    public String provisionerSecret() {
        return provisionerSecret;
    }

    /** A token of Keycloak's bootstrap administrator (master realm), for test set-up only. */
    public String bootstrapAdminToken() throws IOException, InterruptedException {
        String form = "grant_type=password&client_id=admin-cli&username=kc-bootstrap-admin&password="
                + enc(bootstrapPassword);
        HttpResponse<String> t = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create(baseUrl() + "/realms/master/protocol/openid-connect/token"))
                                .header("Content-Type", "application/x-www-form-urlencoded")
                                .POST(HttpRequest.BodyPublishers.ofString(form))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        return new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(t.body())
                .get("access_token")
                .asText();
    }

    /** Points the realm's e-mail (invitations) at an SMTP server. */
    public void useSmtp(String host, int smtpPort) throws Exception {
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        String body = json.writeValueAsString(java.util.Map.of(
                "smtpServer",
                java.util.Map.of(
                        "host",
                        host,
                        "port",
                        Integer.toString(smtpPort),
                        "from",
                        "no-reply@m2m-trust.example",
                        "fromDisplayName",
                        "m2m-trust")));
        HttpResponse<String> put = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create(baseUrl() + "/admin/realms/" + REALM))
                                .header("Authorization", "Bearer " + bootstrapAdminToken())
                                .header("Content-Type", "application/json")
                                .PUT(HttpRequest.BodyPublishers.ofString(body))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        if (put.statusCode() != 204) {
            throw new IllegalStateException(
                    "Keycloak refused the realm's SMTP settings: " + put.statusCode() + " " + put.body());
        }
    }

    /** The password grant's answer: 200 with a token, or Keycloak's refusal (status and error). */
    public HttpResponse<String> tryPasswordGrant(String user, String password)
            throws IOException, InterruptedException {
        String form = "grant_type=password&client_id=m2m-trust-cli&scope=openid&username=" + enc(user) + "&password="
                + enc(password);
        return HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create(realmUrl() + "/protocol/openid-connect/token"))
                                .header("Content-Type", "application/x-www-form-urlencoded")
                                .POST(HttpRequest.BodyPublishers.ofString(form))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
    }

    /** An access token by the password grant of the public {@code m2m-trust-cli} client. */
    public String passwordGrant(String user, String password) throws IOException, InterruptedException {
        return passwordGrant(user, password, "localhost");
    }

    /** A password grant at {@code http://<host>:<port>} (e.g. 127.0.0.1: the issuer stays localhost's, see start). */
    public String passwordGrant(String user, String password, String host) throws IOException, InterruptedException {
        String form = "grant_type=password&client_id=m2m-trust-cli&scope=openid&username=" + enc(user) + "&password="
                + enc(password);
        String tokenUrl = "http://" + host + ":" + port + "/realms/" + REALM + "/protocol/openid-connect/token";
        HttpResponse<String> r = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create(tokenUrl))
                                .header("Content-Type", "application/x-www-form-urlencoded")
                                .POST(HttpRequest.BodyPublishers.ofString(form))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalStateException(
                    "Keycloak refused the password grant for " + user + ": HTTP " + r.statusCode());
        }
        String body = r.body();
        int i = body.indexOf("\"access_token\":\"") + 16;
        return body.substring(i, body.indexOf('"', i));
    }

    private void awaitRealm(Duration max) throws Exception {
        HttpClient http =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long end = System.nanoTime() + max.toNanos();
        while (System.nanoTime() < end) {
            if (!process.isAlive()) {
                throw new IllegalStateException("Keycloak exited with " + process.exitValue() + "; see " + log);
            }
            try {
                HttpResponse<Void> r = http.send(
                        HttpRequest.newBuilder(URI.create(realmUrl() + "/.well-known/openid-configuration"))
                                .timeout(Duration.ofSeconds(3))
                                .build(),
                        HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // still starting
            }
            Thread.sleep(500);
        }
        close();
        throw new IllegalStateException("Keycloak did not serve realm " + REALM + " within " + max + "; see " + log);
    }

    @Override
    public void close() {
        process.descendants().forEach(ProcessHandle::destroy);
        process.destroy();
        try {
            if (!process.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    static boolean isFree(int port) {
        try (ServerSocket s = new ServerSocket(port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Lets the console client ({@code m2m-trust-console}) redirect to a console at {@code baseUrl} (the realm file
     * allows http://localhost:8080 only): updates its redirect and post-logout URIs with the admin REST API.
     */
    public void allowConsoleAt(String baseUrl) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        String base = "http://localhost:" + port;
        String form = "grant_type=password&client_id=admin-cli&username=kc-bootstrap-admin&password="
                + enc(bootstrapPassword);
        HttpResponse<String> t = http.send(
                HttpRequest.newBuilder(URI.create(base + "/realms/master/protocol/openid-connect/token"))
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .POST(HttpRequest.BodyPublishers.ofString(form))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        String admin = json.readTree(t.body()).get("access_token").asText();
        HttpResponse<String> found = http.send(
                HttpRequest.newBuilder(
                                URI.create(base + "/admin/realms/" + REALM + "/clients?clientId=m2m-trust-console"))
                        .header("Authorization", "Bearer " + admin)
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        com.fasterxml.jackson.databind.node.ObjectNode client = (com.fasterxml.jackson.databind.node.ObjectNode)
                json.readTree(found.body()).get(0);
        client.putArray("redirectUris").add(baseUrl + "/console/*");
        ((com.fasterxml.jackson.databind.node.ObjectNode) client.get("attributes"))
                .put("post.logout.redirect.uris", baseUrl + "/console-signed-out");
        HttpResponse<String> put = http.send(
                HttpRequest.newBuilder(URI.create(base + "/admin/realms/" + REALM + "/clients/"
                                + client.get("id").asText()))
                        .header("Authorization", "Bearer " + admin)
                        .header("Content-Type", "application/json")
                        .PUT(HttpRequest.BodyPublishers.ofString(json.writeValueAsString(client)))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        if (put.statusCode() != 204) {
            throw new IllegalStateException(
                    "Keycloak refused the console client update: " + put.statusCode() + " " + put.body());
        }
    }

    public String bootstrapAdminPassword() {
        return bootstrapPassword;
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static void unzip(Path zip, Path into) throws IOException {
        if (!Files.isRegularFile(zip)) {
            throw new IllegalStateException(
                    "Keycloak distribution " + zip + " is missing: build with Maven (the dependency plugin copies it)");
        }
        Files.createDirectories(into);
        Path root = into.toRealPath();
        try (InputStream in = Files.newInputStream(zip);
                ZipInputStream z = new ZipInputStream(in)) {
            for (ZipEntry e; (e = z.getNextEntry()) != null; ) {
                Path target = root.resolve(e.getName()).normalize();
                if (!target.startsWith(root)) {
                    throw new IOException("zip entry outside the target: " + e.getName());
                }
                if (e.isDirectory()) {
                    Files.createDirectories(target);
                } else {
                    Files.createDirectories(target.getParent());
                    Files.copy(z, target, StandardCopyOption.REPLACE_EXISTING);
                    if (target.toString().endsWith(".sh")) {
                        Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwxr-xr-x"));
                    }
                }
            }
        }
    }

    private static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }
}
