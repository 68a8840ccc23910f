package io.m2mtrust.escertke;

import static io.m2mtrust.escertke.EscertkeOpenSslTest.pem;
import static io.m2mtrust.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;

import io.m2mtrust.ca.CertificateStore.CertificateSummary;
import io.m2mtrust.ca.Certificates;
import io.m2mtrust.ca.TenantCa;
import io.m2mtrust.common.SubjectType;
import io.m2mtrust.testsupport.MiniCse;
import io.m2mtrust.testsupport.OpenSsl;
import io.m2mtrust.testsupport.TlsFlights;
import io.m2mtrust.testsupport.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;

/**
 * Every ESCertKE refusal, with real OpenSSL flights where a TLS peer is involved: messages out of order or
 * repeated, message 3 from another originator, garbage, an untrusted CA, an expired or revoked certificate, a
 * subjectAltName that is not the originator, P-384 and RSA certificates (ESCertKE is P-256, TS-0003 §10.1.1.1),
 * an abandoned handshake (purged; no key) — and each leaves no key behind.
 */
@QuarkusTest
class EscertkeRefusalsTest {

    static final String T = "escertke-bad";
    static final String SP = "escertke-bad.example";
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
        dir = Files.createTempDirectory("escertke-bad");
        cse = MiniCse.start("/id-in", "cse-in");
        EscertkeOpenSslTest.terminatingTenant(T, SP, cse);
    }

    @AfterAll
    static void stop() {
        if (cse != null) {
            cse.close();
        }
    }

    // ---------------------------------------------------------------- helpers

    static Response notify(String from, Object eckm) {
        Map<String, Object> seci = new java.util.LinkedHashMap<>();
        seci.put("sit", 6);
        if (eckm != null) {
            seci.put("eckm", eckm instanceof byte[] b ? Base64.getEncoder().encodeToString(b) : eckm);
        }
        return RestAssured.given()
                .header("X-M2M-Origin", from)
                .header("X-M2M-RI", "eck-" + System.nanoTime())
                .header("X-M2M-RVI", "3")
                .contentType("application/json")
                .body(Map.of("m2m:seci", seci))
                .post("/onem2m/" + T + "/cse-in");
    }

    static byte[] eckm(Response r) {
        assertThat(r.header("X-M2M-RSC")).as(r.asString()).isEqualTo("2000");
        return Base64.getDecoder().decode(r.jsonPath().getString("'m2m:seci'.eckm"));
    }

    int keys() {
        return as(Tokens.auditor(T))
                .get("/api/v1/tenants/" + T + "/escertke/keys")
                .jsonPath()
                .getList("")
                .size();
    }

    /** An OpenSSL client session whose flights the test carries: message 1 at once, message 3 after {@link #second}. */
    static final class Peer implements AutoCloseable {
        final ServerSocket relay;
        final OpenSsl.Session client;
        final Socket socket;
        final InputStream in;
        final OutputStream out;
        final byte[] m1;

        Peer(Path cert, Path key) throws Exception {
            relay = new ServerSocket();
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
                    cert.toString(),
                    "-key",
                    key.toString()));
            OpenSsl.withExport(cmd, "EXPORTER-oneM2M-ESCertKE", 48);
            client = OpenSsl.start(cmd);
            socket = relay.accept();
            socket.setSoTimeout(20_000);
            in = socket.getInputStream();
            out = socket.getOutputStream();
            m1 = TlsFlights.untilHandshakeMessage(in, 1);
        }

        /** Hands message 2 to OpenSSL and returns its message 3. */
        byte[] second(byte[] m2) throws Exception {
            out.write(m2);
            out.flush();
            return TlsFlights.untilFinished(in);
        }

        @Override
        public void close() throws Exception {
            socket.close();
            client.close();
            relay.close();
        }
    }

    Path[] tenantCertificate(String name, SubjectType type, String san, String curveOrRsa) throws Exception {
        KeyPairGenerator g;
        if (curveOrRsa.equals("RSA")) {
            g = KeyPairGenerator.getInstance("RSA");
            g.initialize(2048);
        } else {
            g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec(curveOrRsa));
        }
        KeyPair kp = g.generateKeyPair();
        CertificateSummary c = ca.issue(
                T,
                new TenantCa.IssueRequest(type, san, kp.getPublic(), "peer-" + name),
                "test",
                !curveOrRsa.equals("secp256r1"));
        return files(name, Certificates.parse(c.der()), kp.getPrivate());
    }

    static Path[] files(String name, X509Certificate cert, PrivateKey key) throws Exception {
        Path c = dir.resolve(name + ".pem");
        Path k = dir.resolve(name + ".key");
        Files.writeString(c, pem(cert));
        Files.writeString(k, pem(new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(key, null).generate()));
        return new Path[] {c, k};
    }

    /** A CA of another operator (made here) and a P-256 certificate from it for {@code uri}, valid in [from, to]. */
    static X509Certificate[] foreign(String caName, String uri, Instant from, Instant to, KeyPair leafKey)
            throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair caKey = g.generateKeyPair();
        X500Name caDn = new X500Name("CN=" + caName);
        var caBuilder = new JcaX509v3CertificateBuilder(
                caDn,
                BigInteger.ONE,
                Date.from(Instant.now().minusSeconds(86_400 * 30)),
                Date.from(Instant.now().plusSeconds(86_400 * 30)),
                caDn,
                caKey.getPublic());
        caBuilder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        X509Certificate caCert = new JcaX509CertificateConverter()
                .getCertificate(
                        caBuilder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(caKey.getPrivate())));
        var leaf = new JcaX509v3CertificateBuilder(
                caDn, BigInteger.TWO, Date.from(from), Date.from(to), new X500Name("CN=peer"), leafKey.getPublic());
        leaf.addExtension(
                Extension.subjectAlternativeName,
                false,
                new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, uri)));
        X509Certificate leafCert = new JcaX509CertificateConverter()
                .getCertificate(leaf.build(new JcaContentSignerBuilder("SHA256withECDSA").build(caKey.getPrivate())));
        return new X509Certificate[] {caCert, leafCert};
    }

    static KeyPair p256() throws Exception {
        return EscertkeOpenSslTest.p256();
    }

    // ---------------------------------------------------------------- order, repetition, other originators

    @Test
    void messages_out_of_order_repeated_or_from_another_originator_are_refused() throws Exception {
        Path[] cred = tenantCertificate("order", SubjectType.AE_ID, "https://" + SP + "/id-in/Corder", "secp256r1");
        int before = keys();
        try (Peer p = new Peer(cred[0], cred[1])) {
            byte[] m3 = p.second(eckm(notify("Corder", p.m1)));
            // message 3 from another originator: nothing in progress for it
            Response other = notify("Cother", m3);
            assertThat(other.header("X-M2M-RSC")).isEqualTo("4000");
            assertThat(other.asString()).contains("no ESCertKE handshake");
            // the right originator's handshake is untouched and completes
            Response done = notify("Corder", m3);
            assertThat(done.header("X-M2M-RSC")).as(done.asString()).isEqualTo("2000");
            assertThat(keys()).isEqualTo(before + 1);
            // message 3 again: its handshake is over
            assertThat(notify("Corder", m3).header("X-M2M-RSC")).isEqualTo("4000");
        }
        // message 3 first (no message 1 ever)
        try (Peer p = new Peer(cred[0], cred[1])) {
            Response m2 = notify("Corder", p.m1);
            byte[] m3 = p.second(eckm(m2));
            Response fresh = notify("Corder", p.m1); // a new message 1 replaces the pending handshake...
            assertThat(fresh.header("X-M2M-RSC")).isEqualTo("2000");
            Response stale = notify("Corder", m3); // ...so the old message 3 no longer fits it
            assertThat(stale.header("X-M2M-RSC")).isEqualTo("4000"); // its Finished does not verify: decrypt_error
            assertThat(notify("Cnobody", m3).header("X-M2M-RSC")).isEqualTo("4000");
        }
        assertThat(keys()).isEqualTo(before + 1);
    }

    @Test
    void garbage_and_malformed_messages_are_refused_with_4000() {
        byte[] random = new byte[300];
        new java.security.SecureRandom().nextBytes(random);
        assertThat(notify("Cg", random).header("X-M2M-RSC")).isEqualTo("4000");
        byte[] fakeHello = random.clone();
        fakeHello[0] = 22;
        fakeHello[1] = 3;
        fakeHello[2] = 3;
        fakeHello[3] = 1;
        fakeHello[4] = 39;
        fakeHello[5] = 1;
        Response garbled = notify("Cg", fakeHello);
        assertThat(garbled.header("X-M2M-RSC")).isEqualTo("4000");
        assertThat(garbled.asString()).contains("TLS handshake failed");
        assertThat(notify("Cg", "%%% not base64").header("X-M2M-RSC")).isEqualTo("4000");
        assertThat(notify("Cg", null).header("X-M2M-RSC")).isEqualTo("4000");
        assertThat(notify("Cg", new byte[20_000]).header("X-M2M-RSC")).isEqualTo("4000");
        assertThat(notify("not-an-identity", fakeHello).header("X-M2M-RSC")).isEqualTo("4000");
        assertThat(escertke.pendingHandshakes()).isZero();
    }

    // ---------------------------------------------------------------- certificates

    /** Runs a handshake as {@code from} with the given credentials; the oneM2M status of message 3 (or of message 1 if refused). */
    String handshake(String from, Path[] cred) throws Exception {
        try (Peer p = new Peer(cred[0], cred[1])) {
            Response m2 = notify(from, p.m1);
            if (!"2000".equals(m2.header("X-M2M-RSC"))) {
                return m2.header("X-M2M-RSC");
            }
            Response m4 = notify(from, p.second(eckm(m2)));
            return m4.header("X-M2M-RSC") + " " + m4.asString();
        }
    }

    @Test
    void certificates_that_do_not_authenticate_the_originator_are_refused_with_4106_and_no_key() throws Exception {
        int before = keys();
        // a SAN that is not the originator's
        Path[] someoneElse =
                tenantCertificate("else", SubjectType.AE_ID, "https://" + SP + "/id-in/Csomeone", "secp256r1");
        assertThat(handshake("Cimpostor", someoneElse)).startsWith("4106").contains("subjectAltName");
        // revoked by the tenant CA
        KeyPair kp = p256();
        CertificateSummary issued = ca.issue(
                T,
                new TenantCa.IssueRequest(SubjectType.AE_ID, "https://" + SP + "/id-in/Crevoked", kp.getPublic(), "r"),
                "test");
        Path[] revoked = files("revoked", Certificates.parse(issued.der()), kp.getPrivate());
        ca.revoke(T, issued.serial(), 1, "test");
        assertThat(handshake("Crevoked", revoked)).startsWith("4106").contains("revoked");
        // P-384 and RSA keys: ESCertKE certificates are P-256
        assertThat(handshake(
                        "Cp384",
                        tenantCertificate("p384", SubjectType.AE_ID, "https://" + SP + "/id-in/Cp384", "secp384r1")))
                .startsWith("4106")
                .contains("P-256");
        assertThat(handshake(
                        "Crsa", tenantCertificate("rsa", SubjectType.AE_ID, "https://" + SP + "/id-in/Crsa", "RSA")))
                .startsWith("4106")
                .contains("certificate is required"); // OpenSSL sends none: the request is for ecdsa_sign
        // a CA the tenant does not trust
        KeyPair leafKey = p256();
        X509Certificate[] stranger = foreign(
                "Stranger CA",
                "https://" + SP + "/id-in/Cstranger",
                Instant.now().minusSeconds(60),
                Instant.now().plusSeconds(86_400),
                leafKey);
        assertThat(handshake("Cstranger", files("stranger", stranger[1], leafKey.getPrivate())))
                .startsWith("4106")
                .contains("trust anchor");
        // expired, from a trust anchor the tenant registered
        KeyPair oldKey = p256();
        X509Certificate[] partner = foreign(
                "Partner CA",
                "https://" + SP + "/id-in/Cexpired",
                Instant.now().minusSeconds(86_400 * 10),
                Instant.now().minusSeconds(86_400),
                oldKey);
        as(Tokens.tenantAdmin(T))
                .body(Map.of("id", "partner", "certificate", pem(partner[0])))
                .put("/api/v1/tenants/" + T + "/escertke/trust-anchors")
                .then()
                .statusCode(200)
                .body("revocationChecked", org.hamcrest.Matchers.equalTo(false));
        assertThat(handshake("Cexpired", files("expired", partner[1], oldKey.getPrivate())))
                .startsWith("4106")
                .contains("validity");
        assertThat(keys()).isEqualTo(before);
    }

    @Test
    void a_handshake_abandoned_after_message_1_is_purged_and_leaves_no_key() throws Exception {
        Path[] cred = tenantCertificate("abandon", SubjectType.AE_ID, "https://" + SP + "/id-in/Cabandon", "secp256r1");
        int before = keys();
        try (Peer p = new Peer(cred[0], cred[1])) {
            byte[] m3 = p.second(eckm(notify("Cabandon", p.m1)));
            assertThat(escertke.pendingHandshakes()).isPositive();
            // the test profile keeps half-finished handshakes 5 s and purges every second
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (escertke.pendingHandshakes() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            assertThat(escertke.pendingHandshakes()).isZero();
            Response late = notify("Cabandon", m3);
            assertThat(late.header("X-M2M-RSC")).isEqualTo("4000");
            assertThat(late.asString()).contains("no ESCertKE handshake");
        }
        assertThat(keys()).isEqualTo(before);
    }

    @Test
    void trust_anchor_input_is_checked() {
        as(Tokens.tenantAdmin(T))
                .body(Map.of("id", "bad", "certificate", "not a certificate"))
                .put("/api/v1/tenants/" + T + "/escertke/trust-anchors")
                .then()
                .statusCode(400);
        as(Tokens.tenantAdmin(T))
                .body(Map.of("id", "Bad Id!", "certificate", "x"))
                .put("/api/v1/tenants/" + T + "/escertke/trust-anchors")
                .then()
                .statusCode(400);
        as(Tokens.auditor(T))
                .body(Map.of("id", "x", "certificate", "x"))
                .put("/api/v1/tenants/" + T + "/escertke/trust-anchors")
                .then()
                .statusCode(403);
        as(Tokens.tenantAdmin(T))
                .delete("/api/v1/tenants/" + T + "/escertke/trust-anchors/none")
                .then()
                .statusCode(404);
        as(Tokens.tenantAdmin(T))
                .delete("/api/v1/tenants/" + T + "/escertke/keys/0011@nowhere.example")
                .then()
                .statusCode(404);
        as(Tokens.tenantAdmin("other-tenant-x"))
                .get("/api/v1/tenants/" + T + "/escertke/keys")
                .then()
                .statusCode(404); // another tenant's: as if absent
    }
}
