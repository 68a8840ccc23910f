package io.m2mtrust.escertke;

import static io.m2mtrust.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;

import io.m2mtrust.ca.CertificateStore.CertificateSummary;
import io.m2mtrust.ca.Certificates;
import io.m2mtrust.ca.TenantCa;
import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.common.SubjectType;
import io.m2mtrust.testsupport.Api;
import io.m2mtrust.testsupport.MiniCse;
import io.m2mtrust.testsupport.OpenSsl;
import io.m2mtrust.testsupport.TlsFlights;
import io.m2mtrust.testsupport.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.io.OutputStream;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * ESCertKE against a real OpenSSL in both roles: the test relays TLS records between the proxy's Notify
 * messages (securityInfo type 6) and an {@code openssl s_client} (proxy terminating) or {@code openssl s_server}
 * (proxy initiating), with {@code -tls1_2 -cipher ECDHE-ECDSA-AES128-SHA256} and
 * {@code -keymatexport EXPORTER-oneM2M-ESCertKE -keymatexportlen 48}. The handshake completes and the key the
 * proxy stored equals what OpenSSL exported.
 */
@QuarkusTest
class EscertkeOpenSslTest {

    static final String T = "escertke-co";
    static final String SP = "escertke-co.example";
    static MiniCse cse;
    static Path dir;

    @Inject
    TenantCa ca;

    @Inject
    EscertkeService escertke;

    @BeforeEach
    void setUp() throws Exception {
        if (cse != null) {
            return;
        }
        dir = Files.createTempDirectory("escertke");
        cse = MiniCse.start("/id-in", "cse-in");
        terminatingTenant(T, SP, cse);
        // a legacy AE behind the proxy, for the initiating role
        as(Tokens.tenantAdmin(T))
                .body(Map.of("id", "legacy", "subjectType", "AE_ID", "subjectId", "https://" + SP + "/id-in/Clegacy"))
                .post("/api/v1/tenants/" + T + "/endpoints")
                .then()
                .statusCode(201);
        Files.writeString(dir.resolve("ca.pem"), pem(ca.cas(T).get(0).certificate()));
    }

    @AfterAll
    static void stop() {
        if (cse != null) {
            cse.close();
        }
    }

    /**
     * A tenant with a CA whose proxy (SP {@code sp}) fronts {@code cse} and protects its {@code <CSEBase>} /id-in, with
     * the CSE's ESCertKE certificate (CSE-ID id-in.{@code sp}, key in the HSM).
     */
    static void terminatingTenant(String t, String sp, MiniCse cse) {
        Api.createTenant(t);
        as(Tokens.tenantAdmin(t)).post("/api/v1/tenants/" + t + "/ca").then().statusCode(201);
        as(Tokens.tenantAdmin(t))
                .body(Map.of("cseUrl", cse.url(), "cseId", "/id-in", "cseBase", "cse-in", "spId", "//" + sp))
                .put("/api/v1/tenants/" + t + "/proxy")
                .then()
                .statusCode(200);
        as(Tokens.tenantAdmin(t))
                .body(Map.of("entityId", "/id-in", "resourcePath", "cse-in"))
                .put("/api/v1/tenants/" + t + "/proxy/entities")
                .then()
                .statusCode(200);
        as(Tokens.tenantAdmin(t))
                .body(Map.of("id", "cse", "subjectType", "CSE_ID", "subjectId", "id-in." + sp))
                .post("/api/v1/tenants/" + t + "/endpoints")
                .then()
                .statusCode(201);
    }

    // ---------------------------------------------------------------- certificates for OpenSSL

    static KeyPair p256() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    static String pem(Object o) throws Exception {
        StringWriter w = new StringWriter();
        try (JcaPEMWriter p = new JcaPEMWriter(w)) {
            p.writeObject(o);
        }
        return w.toString();
    }

    /** A key pair and a tenant-CA certificate for {@code san}, as PEM files for OpenSSL: [cert, key]. */
    Path[] peer(String name, SubjectType type, String san) throws Exception {
        KeyPair kp = p256();
        CertificateSummary c =
                ca.issue(T, new TenantCa.IssueRequest(type, san, kp.getPublic(), "openssl-" + name), "test");
        Path cert = dir.resolve(name + ".pem");
        Path key = dir.resolve(name + ".key");
        Files.writeString(cert, pem(Certificates.parse(c.der())));
        Files.writeString(
                key, pem(new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(kp.getPrivate(), null).generate()));
        return new Path[] {cert, key};
    }

    // ---------------------------------------------------------------- the proxy terminating, OpenSSL initiating

    static Response notify(String from, byte[] records) {
        return RestAssured.given()
                .header("X-M2M-Origin", from)
                .header("X-M2M-RI", "eck-" + System.nanoTime())
                .header("X-M2M-RVI", "3")
                .contentType("application/json")
                .body(Map.of(
                        "m2m:seci", Map.of("sit", 6, "eckm", Base64.getEncoder().encodeToString(records))))
                .post("/onem2m/" + T + "/cse-in");
    }

    static byte[] eckm(Response r) {
        assertThat(r.header("X-M2M-RSC")).as(r.asString()).isEqualTo("2000");
        assertThat(r.jsonPath().getInt("'m2m:seci'.sit")).isEqualTo(6);
        return Base64.getDecoder().decode(r.jsonPath().getString("'m2m:seci'.eckm"));
    }

    @Test
    void e2e_sec_info_advertises_certificate_based_keys_for_an_entity_with_an_escertke_certificate() {
        Response cb = RestAssured.given()
                .header("X-M2M-Origin", "Cany")
                .header("X-M2M-RI", "cb-1")
                .get("/onem2m/" + T + "/cse-in");
        assertThat(cb.jsonPath().getList("'m2m:cb'.esi.esf", Integer.class)).contains(13, 23, 33, 43, 44, 45);
    }

    @Test
    void openssl_s_client_initiates_and_the_proxy_terminates_with_the_same_exported_key() throws Exception {
        Path[] cred = peer("client", SubjectType.AE_ID, "https://" + SP + "/id-in/Cpeer");
        try (ServerSocket relay = new ServerSocket()) {
            relay.bind(new InetSocketAddress("127.0.0.1", 0));
            List<String> cmd = new ArrayList<>(List.of(
                    "openssl",
                    "s_client",
                    "-connect",
                    "127.0.0.1:" + relay.getLocalPort(),
                    "-tls1_2",
                    "-ign_eof",
                    "-nocommands",
                    "-cipher",
                    "ECDHE-ECDSA-AES128-SHA256",
                    "-cert",
                    cred[0].toString(),
                    "-key",
                    cred[1].toString(),
                    "-CAfile",
                    dir.resolve("ca.pem").toString(),
                    "-verify_return_error",
                    "-verify_hostname",
                    "id-in." + SP));
            OpenSsl.withExport(cmd, "EXPORTER-oneM2M-ESCertKE", 48);
            try (OpenSsl.Session client = OpenSsl.start(cmd);
                    Socket s = relay.accept()) {
                s.setSoTimeout(20_000);
                InputStream in = s.getInputStream();
                OutputStream out = s.getOutputStream();
                byte[] m1 = TlsFlights.untilHandshakeMessage(in, 1);
                out.write(eckm(notify("Cpeer", m1)));
                byte[] m3 = TlsFlights.untilFinished(in);
                Response fourth = notify("Cpeer", m3);
                out.write(eckm(fourth));
                out.flush();
                byte[] exported = client.keyingMaterial();
                assertThat(client.await("(Verify return code: 0 \\(ok\\))", Duration.ofSeconds(5)))
                        .isNotNull();

                String kid = HexFormat.of().formatHex(exported, 0, 16) + "@"
                        + SP; // the initiator's FQDN: its AE-ID URI's host
                Response keys = as(Tokens.auditor(T)).get("/api/v1/tenants/" + T + "/escertke/keys");
                assertThat(keys.jsonPath().getList("keyId")).contains(kid);
                EscertkeKey stored = escertke.current(T, "/id-in", "Cpeer").orElseThrow();
                assertThat(stored.keyId).isEqualTo(kid);
                assertThat(stored.role).isEqualTo(EscertkeKey.Role.TERMINATOR);
                try (SecretBytes k = escertke.open(stored)) {
                    assertThat(k.copy()).isEqualTo(Arrays.copyOfRange(exported, 16, 48));
                }
                assertThat(keys.asString()).doesNotContain(HexFormat.of().formatHex(exported, 16, 32));

                // at once an ESData key: the CSE's end-point encrypts for the peer with it (dir, the whole key), and
                // the
                // peer opens it with what OpenSSL exported
                Response env = as(Tokens.tenantAdmin(T))
                        .body(Map.of(
                                "payload",
                                Base64.getEncoder().encodeToString("meter 7".getBytes(StandardCharsets.UTF_8)),
                                "encryptFor",
                                List.of(kid),
                                "contentSecurity",
                                1))
                        .post("/api/v1/tenants/" + T + "/endpoints/cse/esdata/protect");
                assertThat(env.statusCode()).as(env.asString()).isEqualTo(200);
                org.jose4j.jwe.JsonWebEncryption jwe = new org.jose4j.jwe.JsonWebEncryption();
                jwe.setCompactSerialization(env.jsonPath().getString("envelope"));
                assertThat(jwe.getKeyIdHeaderValue()).isEqualTo(kid);
                jwe.setKey(new org.jose4j.keys.AesKey(Arrays.copyOfRange(exported, 16, 48)));
                assertThat(jwe.getPlaintextString()).isEqualTo("meter 7");
            }
        }
    }

    // ---------------------------------------------------------------- the proxy initiating, OpenSSL terminating

    /** An HTTP "receiver" that hands each ESCertKE message to an {@code openssl s_server} over TCP and answers with its flight. */
    static final class ServerRelay implements AutoCloseable {
        final com.sun.net.httpserver.HttpServer http;
        Socket tls;
        final List<String> froms = new ArrayList<>();

        ServerRelay(int opensslPort) throws Exception {
            http = com.sun.net.httpserver.HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 10);
            http.createContext("/", ex -> {
                try {
                    froms.add(ex.getRequestHeaders().getFirst("X-M2M-Origin"));
                    Map<?, ?> body =
                            new com.fasterxml.jackson.databind.ObjectMapper().readValue(ex.getRequestBody(), Map.class);
                    byte[] records =
                            Base64.getDecoder().decode((String) ((Map<?, ?>) body.get("m2m:seci")).get("eckm"));
                    if (tls == null) {
                        tls = new Socket("127.0.0.1", opensslPort);
                        tls.setSoTimeout(20_000);
                    }
                    tls.getOutputStream().write(records);
                    tls.getOutputStream().flush();
                    byte[] flight = TlsFlights.isClientHello(records)
                            ? TlsFlights.untilHandshakeMessage(tls.getInputStream(), 14)
                            : TlsFlights.untilFinished(tls.getInputStream());
                    byte[] answer = ("{\"m2m:seci\":{\"sit\":6,\"eckm\":\""
                                    + Base64.getEncoder().encodeToString(flight) + "\"}}")
                            .getBytes(StandardCharsets.UTF_8);
                    ex.getResponseHeaders().add("X-M2M-RSC", "2000");
                    ex.getResponseHeaders().add("Content-Type", "application/json");
                    ex.sendResponseHeaders(200, answer.length);
                    ex.getResponseBody().write(answer);
                } catch (Exception e) {
                    byte[] answer = ("{\"m2m:dbg\":\"relay: " + e + "\"}").getBytes(StandardCharsets.UTF_8);
                    ex.getResponseHeaders().add("X-M2M-RSC", "5000");
                    ex.sendResponseHeaders(500, answer.length);
                    ex.getResponseBody().write(answer);
                } finally {
                    ex.close();
                }
            });
            http.start();
        }

        String url() {
            return "http://127.0.0.1:" + http.getAddress().getPort() + "/cse-remote";
        }

        @Override
        public void close() throws Exception {
            http.stop(0);
            if (tls != null) {
                tls.close();
            }
        }
    }

    static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void the_proxy_initiates_for_a_legacy_ae_and_openssl_s_server_terminates_with_the_same_exported_key()
            throws Exception {
        Path[] cred = peer("server", SubjectType.CSE_ID, "id-remote." + SP);
        int port = freePort();
        List<String> cmd = new ArrayList<>(List.of(
                "openssl",
                "s_server",
                "-accept",
                "127.0.0.1:" + port,
                "-tls1_2",
                "-naccept",
                "1",
                "-no_ticket",
                "-cipher",
                "ECDHE-ECDSA-AES128-SHA256",
                "-cert",
                cred[0].toString(),
                "-key",
                cred[1].toString(),
                "-CAfile",
                dir.resolve("ca.pem").toString(),
                "-Verify",
                "1",
                "-verify_return_error"));
        OpenSsl.withExport(cmd, "EXPORTER-oneM2M-ESCertKE", 48);
        try (OpenSsl.Session server = OpenSsl.start(cmd)) {
            server.await("(ACCEPT)", Duration.ofSeconds(10));
            try (ServerRelay relay = new ServerRelay(port)) {
                as(Tokens.tenantAdmin(T))
                        .body(Map.of("name", "remote-cse", "receiverId", "/id-remote", "url", relay.url()))
                        .put("/api/v1/tenants/" + T + "/proxy/remotes")
                        .then()
                        .statusCode(200);
                Response made = as(Tokens.tenantAdmin(T))
                        .body(Map.of("from", "Clegacy"))
                        .post("/api/v1/tenants/" + T + "/proxy/remotes/remote-cse/escertke");
                assertThat(made.statusCode()).as(made.asString()).isEqualTo(201);
                byte[] exported = server.keyingMaterial();
                String kid = made.jsonPath().getString("keyId");
                assertThat(kid).isEqualTo(HexFormat.of().formatHex(exported, 0, 16) + "@" + SP);
                assertThat(made.jsonPath().getString("localIdentity")).isEqualTo("//" + SP + "/id-in/Clegacy");
                assertThat(relay.froms)
                        .containsOnly("//" + SP + "/id-in/Clegacy")
                        .hasSize(2);
                // chained with the admin who asked for it
                List<Map<String, Object>> audit = as(Tokens.auditor(T))
                        .get("/api/v1/tenants/" + T + "/audit?limit=1000")
                        .jsonPath()
                        .getList("");
                assertThat(audit).anySatisfy(e -> {
                    assertThat(e.get("action")).isEqualTo("escertke.established");
                    assertThat((String) e.get("target")).isEqualTo("escertke-key/" + kid);
                    assertThat((String) e.get("actor")).isNotEqualTo("escertke").isNotBlank();
                });
                EscertkeKey stored = escertke.current(T, "//" + SP + "/id-in/Clegacy", "/id-remote")
                        .orElseThrow();
                assertThat(stored.keyId).isEqualTo(kid);
                assertThat(stored.role).isEqualTo(EscertkeKey.Role.INITIATOR);
                try (SecretBytes k = escertke.open(stored)) {
                    assertThat(k.copy()).isEqualTo(Arrays.copyOfRange(exported, 16, 48));
                }
            }
        }
    }
}
