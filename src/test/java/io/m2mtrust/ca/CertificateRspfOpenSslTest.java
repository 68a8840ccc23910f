package io.m2mtrust.ca;

import static io.m2mtrust.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;

import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.hsm.HsmKeyLabel;
import io.m2mtrust.hsm.KeyPurpose;
import io.m2mtrust.hsm.Pkcs11Token;
import io.m2mtrust.mef.EnrolmentKdf;
import io.m2mtrust.mef.EnrolmentService;
import io.m2mtrust.testsupport.Api;
import io.m2mtrust.testsupport.OpenSsl;
import io.m2mtrust.testsupport.OpenSslClient;
import io.m2mtrust.testsupport.Tokens;
import io.m2mtrust.tls.DeviceTlsListener;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Certificate RSPF against real OpenSSL: a device authenticated by its Kpm gets a certificate over EST
 * for a CSR made by {@code openssl req}; {@code openssl verify} accepts it against {@code cacerts}; the
 * device then enrols over mutual-certificate TLS (server key in the HSM, checked by OpenSSL against the
 * CA and host name), re-enrols, and revoked or superseded certificates fail the handshake and are on
 * the CRL signed in the HSM.
 */
@QuarkusTest
class CertificateRspfOpenSslTest {

    static final String T = "cert-co";
    static final String MEF = "mef.cert-co.m2m-trust.local";
    static final String CSE_DOMAIN = ".in.cert-co.example";

    @Inject
    DeviceTlsListener listener;

    @Inject
    EnrolmentService enrolments;

    @Inject
    Pkcs11Token token;

    static Path dir;
    static Map<String, String> kpmIds = new java.util.HashMap<>();
    static Map<String, byte[]> kpms = new java.util.HashMap<>();

    @BeforeEach
    void setUp() throws Exception {
        if (dir != null) {
            return;
        }
        dir = Files.createTempDirectory("cert-rspf");
        Api.createTenant(T);
        Response policy = as(Tokens.tenantAdmin(T)).get("/api/v1/tenants/" + T + "/policy");
        Map<String, Object> doc = policy.jsonPath().getMap("");
        doc.put("allowHostMemoryKeys", true);
        as(Tokens.tenantAdmin(T))
                .header("If-Match", policy.header("ETag"))
                .body(doc)
                .put("/api/v1/tenants/" + T + "/policy")
                .then()
                .statusCode(200);
        for (String group : List.of("gw", "plain")) {
            as(Tokens.tenantAdmin(T))
                    .body(Map.of("id", group, "name", group))
                    .post("/api/v1/tenants/" + T + "/enrolment-groups")
                    .then()
                    .statusCode(201);
        }
        as(Tokens.tenantAdmin(T))
                .body(Map.of("deviceIds", List.of("gw-1", "gw-2", "gw-3", "gw-4")))
                .post("/api/v1/tenants/" + T + "/enrolment-groups/gw/devices")
                .then()
                .statusCode(200);
        as(Tokens.tenantAdmin(T))
                .body(Map.of("deviceIds", List.of("p-1")))
                .post("/api/v1/tenants/" + T + "/enrolment-groups/plain/devices")
                .then()
                .statusCode(200);
        as(Tokens.tenantAdmin(T))
                .body(Map.of("subjectType", "CSE_ID", "subjectTemplate", "{device}" + CSE_DOMAIN))
                .put("/api/v1/tenants/" + T + "/enrolment-groups/gw/certificate-profile")
                .then()
                .statusCode(200)
                .body("certificateProfile.subjectType", org.hamcrest.Matchers.equalTo("CSE_ID"));
        for (String d : List.of("gw-1", "gw-2", "gw-3", "gw-4")) {
            export("gw", d);
        }
        export("plain", "p-1");
        // the CA: made once (201), then found (200); its key and the TLS key are HSM objects
        as(Tokens.tenantAdmin(T))
                .post("/api/v1/tenants/" + T + "/ca")
                .then()
                .statusCode(201)
                .body("version", org.hamcrest.Matchers.equalTo(1));
        as(Tokens.tenantAdmin(T)).post("/api/v1/tenants/" + T + "/ca").then().statusCode(200);
    }

    private static void export(String group, String device) {
        JsonPath e = as(Tokens.tenantAdmin(T))
                .post("/api/v1/tenants/" + T + "/enrolment-groups/" + group + "/devices/" + device + "/kpm-export")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        kpmIds.put(device, e.getString("kpmId"));
        kpms.put(device, Base64.getDecoder().decode(e.getString("kpm")));
    }

    // ---------------------------------------------------------------- helpers

    private OpenSslClient.Result pskRequest(String device, byte[] request) throws Exception {
        try (OpenSsl.Session s = OpenSsl.start(
                OpenSsl.withPsk(OpenSsl.sClient(listener.port(), MEF), kpmIds.get(device), kpms.get(device)))) {
            s.await("(?m)^\\s*Cipher\\s*: PSK", Duration.ofSeconds(20));
            return s.send(request);
        }
    }

    private Path caFile() throws Exception {
        OpenSslClient.Result r =
                pskRequest("gw-1", OpenSsl.request("GET", MEF, "/.well-known/est/cacerts", null, new byte[0]));
        assertThat(r.httpStatus()).as(r.output()).isEqualTo(200);
        assertThat(r.output())
                .contains("Content-Type: application/pkcs7-mime; smime-type=certs-only")
                .contains("Content-Transfer-Encoding: base64");
        return pkcs7ToPem(OpenSsl.httpBody(r.output()), "ca.pem");
    }

    private static Path pkcs7ToPem(String base64Body, String name) throws Exception {
        return OpenSsl.pkcs7ToPem(dir, name, Base64.getMimeDecoder().decode(base64Body));
    }

    /** {@code openssl req}: a CSR (DER) with a challengePassword and the given SAN; key made (P-256 by default) or reused. */
    private static byte[] csr(String name, String curve, String challenge, String san, boolean newKey)
            throws Exception {
        Path cfg = dir.resolve(name + ".cnf");
        Files.writeString(
                cfg,
                "[req]\ndistinguished_name = dn\nprompt = no\n" + (challenge == null ? "" : "attributes = attrs\n")
                        + "[dn]\nCN = " + name + "\n"
                        + (challenge == null ? "" : "[attrs]\nchallengePassword = " + challenge + "\n"));
        List<String> cmd = new java.util.ArrayList<>(List.of(
                "openssl",
                "req",
                "-new",
                "-config",
                cfg.toString(),
                "-outform",
                "DER",
                "-out",
                dir.resolve(name + ".csr").toString()));
        if (newKey) {
            cmd.addAll(List.of(
                    "-newkey",
                    "ec",
                    "-pkeyopt",
                    "ec_paramgen_curve:" + curve,
                    "-nodes",
                    "-keyout",
                    dir.resolve(name + ".key").toString()));
        } else {
            cmd.addAll(List.of("-key", dir.resolve(name + ".key").toString()));
        }
        if (san != null) {
            cmd.addAll(List.of("-addext", "subjectAltName=" + san));
        }
        OpenSsl.ok(dir, cmd.toArray(String[]::new));
        return Files.readAllBytes(dir.resolve(name + ".csr"));
    }

    /** One EST enrolment in an s_client session: the CSR is made after the handshake, bound to its channel binding. */
    private OpenSslClient.Result est(
            List<String> sessionArgs,
            String op,
            String name,
            String curve,
            String san,
            boolean newKey,
            boolean bindToSession)
            throws Exception {
        List<String> cmd = OpenSsl.withExport(sessionArgs, "EXPORTER-Channel-Binding", 32);
        try (OpenSsl.Session s = OpenSsl.start(cmd)) {
            byte[] binding = s.keyingMaterial();
            byte[] other = new byte[32];
            String challenge = Base64.getEncoder().encodeToString(bindToSession ? binding : other);
            byte[] der = csr(name, curve, challenge, san, newKey);
            return s.send(OpenSsl.request(
                    "POST",
                    MEF,
                    "/.well-known/est/" + op,
                    "application/pkcs10",
                    Base64.getMimeEncoder().encode(der)));
        }
    }

    private OpenSslClient.Result pskEst(String device, String name, String curve, String san) throws Exception {
        return est(
                OpenSsl.withPsk(OpenSsl.sClient(listener.port(), MEF), kpmIds.get(device), kpms.get(device)),
                "simpleenroll",
                name,
                curve,
                san,
                true,
                true);
    }

    private static String serialOf(Path pem) throws Exception {
        return OpenSsl.ok(dir, "openssl", "x509", "-in", pem.toString(), "-noout", "-serial")
                .strip()
                .substring("serial=".length())
                .toLowerCase();
    }

    // ---------------------------------------------------------------- the whole certificate path

    @Test
    void psk_device_gets_a_certificate_over_est_then_enrols_renews_and_loses_it_on_revocation() throws Exception {
        Path ca = caFile();
        assertThat(Files.readString(ca)).contains("BEGIN CERTIFICATE");

        // csrattrs names challengePassword, P-256, ecdsa-with-SHA256 and this device's identity
        OpenSslClient.Result attrs =
                pskRequest("gw-1", OpenSsl.request("GET", MEF, "/.well-known/est/csrattrs", null, new byte[0]));
        assertThat(attrs.httpStatus()).as(attrs.output()).isEqualTo(200);
        Path attrsDer = dir.resolve("csrattrs.der");
        Files.write(attrsDer, Base64.getMimeDecoder().decode(OpenSsl.httpBody(attrs.output())));
        String parsed = OpenSsl.ok(dir, "openssl", "asn1parse", "-inform", "DER", "-in", attrsDer.toString());
        assertThat(parsed)
                .contains("challengePassword")
                .contains("prime256v1")
                .contains("ecdsa-with-SHA256")
                .contains("Extension Request");

        // simpleenroll with a CSR made by openssl req, bound to the session
        OpenSslClient.Result enrolled = pskEst("gw-1", "gw-1", "P-256", "DNS:gw-1" + CSE_DOMAIN);
        assertThat(enrolled.httpStatus()).as(enrolled.output()).isEqualTo(200);
        Path cert = pkcs7ToPem(OpenSsl.httpBody(enrolled.output()), "gw-1.pem");
        assertThat(OpenSsl.ok(dir, "openssl", "verify", "-CAfile", ca.toString(), cert.toString()))
                .contains(cert + ": OK");
        String text = OpenSsl.ok(dir, "openssl", "x509", "-in", cert.toString(), "-noout", "-text");
        assertThat(text)
                .contains("DNS:gw-1" + CSE_DOMAIN)
                .contains("ecdsa-with-SHA256")
                .contains("prime256v1")
                .contains("Digital Signature")
                .contains("CA:FALSE");
        String serial1 = serialOf(cert);

        // mutual-certificate TLS: OpenSSL checks our chain and host name; we check its certificate; then enrol
        List<String> certSession =
                OpenSsl.withCertificate(OpenSsl.sClient(listener.port(), MEF), cert, dir.resolve("gw-1.key"), ca, MEF);
        OpenSslClient.Result r;
        byte[] exported;
        try (OpenSsl.Session s = OpenSsl.start(
                OpenSsl.withExport(new java.util.ArrayList<>(certSession), "EXPORTER-oneM2M-Bootstrap", 48))) {
            exported = s.keyingMaterial();
            r = s.send(OpenSslClient.post(MEF, "/enrolment", "{}").getBytes(StandardCharsets.UTF_8));
        }
        assertThat(r.output()).contains("Verify return code: 0 (ok)").contains("ECDHE-ECDSA-AES128-SHA256");
        assertThat(r.httpStatus()).as(r.output()).isEqualTo(201);
        String keId = JsonPath.from(OpenSsl.httpBody(r.output())).getString("keId");
        assertThat(keId).isEqualTo(HexFormat.of().formatHex(exported, 0, 16) + "@" + MEF);
        try (SecretBytes opensslKe = SecretBytes.copyOf(Arrays.copyOfRange(exported, 16, 48));
                SecretBytes mefKe = enrolments.liveKe(T, keId).orElseThrow()) {
            assertThat(EnrolmentKdf.km(mefKe, "maf.example.com")
                            .equalsSecret(EnrolmentKdf.km(opensslKe, "maf.example.com")))
                    .isTrue();
        }
        assertThat(as(Tokens.auditor(T))
                        .get("/api/v1/tenants/" + T + "/audit?limit=1000")
                        .asString())
                .contains("enrolee gw-1" + CSE_DOMAIN);

        // simplereenroll over the certificate session: a new key, the old certificate is superseded
        OpenSslClient.Result renewed = est(
                new java.util.ArrayList<>(certSession),
                "simplereenroll",
                "gw-1b",
                "P-256",
                "DNS:gw-1" + CSE_DOMAIN,
                true,
                true);
        assertThat(renewed.httpStatus()).as(renewed.output()).isEqualTo(200);
        Path cert2 = pkcs7ToPem(OpenSsl.httpBody(renewed.output()), "gw-1b.pem");
        String serial2 = serialOf(cert2);
        assertThat(serial2).isNotEqualTo(serial1);
        as(Tokens.auditor(T))
                .get("/api/v1/tenants/" + T + "/certificates/" + serial1)
                .then()
                .statusCode(200)
                .body("status", org.hamcrest.Matchers.equalTo("SUPERSEDED"))
                .body("replacedBy", org.hamcrest.Matchers.equalTo(serial2));

        // the superseded certificate no longer authenticates; the new one does
        OpenSslClient.Result old = handshakeOnly(certSession);
        assertThat(old.output()).contains("alert certificate revoked");
        List<String> newSession = OpenSsl.withCertificate(
                OpenSsl.sClient(listener.port(), MEF), cert2, dir.resolve("gw-1b.key"), ca, MEF);
        OpenSslClient.Result ok = requestOver(newSession, OpenSslClient.get(MEF, "/.well-known/est/cacerts"));
        assertThat(ok.httpStatus()).as(ok.output()).isEqualTo(200);

        // an administrator revokes it: the handshake fails at once, and the CRL (signed in the HSM) lists both
        as(Tokens.tenantAdmin(T))
                .body(Map.of("reason", "keyCompromise"))
                .post("/api/v1/tenants/" + T + "/certificates/" + serial2 + "/revoke")
                .then()
                .statusCode(200)
                .body("status", org.hamcrest.Matchers.equalTo("REVOKED"));
        as(Tokens.tenantAdmin(T))
                .body(Map.of("reason", "keyCompromise"))
                .post("/api/v1/tenants/" + T + "/certificates/" + serial2 + "/revoke")
                .then()
                .statusCode(409);
        assertThat(handshakeOnly(newSession).output()).contains("alert certificate revoked");

        byte[] crl = as(Tokens.auditor(T))
                .get("/api/v1/tenants/" + T + "/ca/1/crl")
                .then()
                .statusCode(200)
                .contentType("application/pkix-crl")
                .extract()
                .asByteArray();
        Path crlDer = dir.resolve("crl.der");
        Files.write(crlDer, crl);
        Path crlPem = dir.resolve("crl.pem");
        OpenSsl.ok(dir, "openssl", "crl", "-inform", "DER", "-in", crlDer.toString(), "-out", crlPem.toString());
        String crlText = OpenSsl.ok(
                dir, "openssl", "crl", "-in", crlPem.toString(), "-noout", "-text", "-CAfile", ca.toString());
        assertThat(crlText)
                .contains("verify OK")
                .containsIgnoringCase(serial1)
                .containsIgnoringCase(serial2)
                .contains("Key Compromise")
                .contains("Superseded")
                .contains("X509v3 CRL Number");
        OpenSsl.Output verify = OpenSsl.run(
                dir,
                "openssl",
                "verify",
                "-crl_check",
                "-CAfile",
                ca.toString(),
                "-CRLfile",
                crlPem.toString(),
                cert2.toString());
        assertThat(verify.exitCode()).isNotZero();
        assertThat(verify.text()).contains("certificate revoked");
        // the same CRL is public, without a token
        Api.anonymous().get("/pki/" + T + "/crl/1").then().statusCode(200).contentType("application/pkix-crl");
        assertThat(Api.anonymous()
                        .get("/pki/" + T + "/ca.pem")
                        .then()
                        .statusCode(200)
                        .extract()
                        .asString())
                .contains("BEGIN CERTIFICATE");
        Api.anonymous().get("/pki/no-such-tenant/ca.pem").then().statusCode(404);

        // the CA and TLS keys are HSM objects; the issued certificates are in the admin API, never a private key
        assertThat(token.exists(HsmKeyLabel.of(T, KeyPurpose.CA, 1))).isTrue();
        assertThat(token.exists(HsmKeyLabel.of(T, KeyPurpose.TLS, 1))).isTrue();
        String listing = as(Tokens.auditor(T))
                .get("/api/v1/tenants/" + T + "/certificates?subject=gw-1" + CSE_DOMAIN)
                .asString();
        assertThat(listing).contains(serial1).contains(serial2).doesNotContain("PRIVATE");
        as(Tokens.auditor(T))
                .get("/api/v1/tenants/" + T + "/certificates?status=SERVER")
                .then()
                .statusCode(400);
        as(Tokens.auditor(T))
                .get("/api/v1/tenants/" + T + "/certificates/" + serial1)
                .then()
                .statusCode(200)
                .body("pem", org.hamcrest.Matchers.containsString("BEGIN CERTIFICATE"));
        as(Tokens.auditor(T))
                .get("/api/v1/tenants/" + T + "/certificates/XYZ")
                .then()
                .statusCode(400);
        as(Tokens.tenantAdmin("other-co"))
                .get("/api/v1/tenants/" + T + "/certificates/" + serial1)
                .then()
                .statusCode(404);
        Api.anonymous()
                .get("/api/v1/tenants/" + T + "/certificates/" + serial1)
                .then()
                .statusCode(401);
    }

    private OpenSslClient.Result handshakeOnly(List<String> sessionArgs) throws Exception {
        try (OpenSsl.Session s = OpenSsl.start(new java.util.ArrayList<>(sessionArgs))) {
            s.await("(?s)(alert|Verify return code|Cipher is)", Duration.ofSeconds(20));
            // TLS 1.2: the server checks the client certificate before Finished, so the alert comes here
            return s.send(OpenSslClient.get(MEF, "/.well-known/est/cacerts").getBytes(StandardCharsets.UTF_8));
        }
    }

    private OpenSslClient.Result requestOver(List<String> sessionArgs, String request) throws Exception {
        try (OpenSsl.Session s = OpenSsl.start(new java.util.ArrayList<>(sessionArgs))) {
            s.await("Verify return code", Duration.ofSeconds(20));
            return s.send(request.getBytes(StandardCharsets.UTF_8));
        }
    }

    @Test
    void gcm_certificate_suite_works_when_the_policy_allows_it() throws Exception {
        Path ca = caFile();
        OpenSslClient.Result enrolled = pskEst("gw-4", "gw-4", "P-256", "DNS:gw-4" + CSE_DOMAIN);
        assertThat(enrolled.httpStatus()).as(enrolled.output()).isEqualTo(200);
        Path cert = pkcs7ToPem(OpenSsl.httpBody(enrolled.output()), "gw-4.pem");
        List<String> gcm =
                OpenSsl.withCertificate(OpenSsl.sClient(listener.port(), MEF), cert, dir.resolve("gw-4.key"), ca, MEF);
        gcm.set(gcm.indexOf("ECDHE-ECDSA-AES128-SHA256"), "ECDHE-ECDSA-AES128-GCM-SHA256");
        // not in the default policy: refused
        assertThat(handshakeOnly(gcm).output()).contains("handshake failure");
        Response policy = as(Tokens.tenantAdmin(T)).get("/api/v1/tenants/" + T + "/policy");
        Map<String, Object> doc = policy.jsonPath().getMap("");
        List<String> suites = new java.util.ArrayList<>(policy.jsonPath().getList("tlsCipherSuites", String.class));
        suites.add("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
        doc.put("tlsCipherSuites", suites);
        as(Tokens.tenantAdmin(T))
                .header("If-Match", policy.header("ETag"))
                .body(doc)
                .put("/api/v1/tenants/" + T + "/policy")
                .then()
                .statusCode(200);
        OpenSslClient.Result ok = requestOver(gcm, OpenSslClient.get(MEF, "/.well-known/est/csrattrs"));
        assertThat(ok.output()).contains("ECDHE-ECDSA-AES128-GCM-SHA256");
        assertThat(ok.httpStatus()).as(ok.output()).isEqualTo(200);
    }

    @Test
    void a_certificate_holder_registers_at_the_maf_over_mutual_certificate_tls() throws Exception {
        Path ca = caFile();
        OpenSslClient.Result enrolled = pskEst("gw-3", "gw-3", "P-256", "DNS:gw-3" + CSE_DOMAIN);
        assertThat(enrolled.httpStatus()).as(enrolled.output()).isEqualTo(200);
        Path cert = pkcs7ToPem(OpenSsl.httpBody(enrolled.output()), "gw-3.pem");
        String maf = "maf.cert-co.m2m-trust.local";
        List<String> session =
                OpenSsl.withCertificate(OpenSsl.sClient(listener.port(), maf), cert, dir.resolve("gw-3.key"), ca, maf);
        OpenSslClient.Result r;
        try (OpenSsl.Session s = OpenSsl.start(session)) {
            s.await("Verify return code", Duration.ofSeconds(20));
            r = s.send(OpenSsl.request(
                    "POST",
                    maf,
                    "/clientRegistration",
                    "application/json",
                    ("{\"mafFqdn\":\"" + maf + "\",\"expirationTime\":\""
                                    + java.time.Instant.now().plusSeconds(3600)
                                    + "\",\"adminFqdn\":\"admin.cert-co.example\"}")
                            .getBytes(StandardCharsets.UTF_8)));
        }
        assertThat(r.output()).contains("Verify return code: 0 (ok)");
        OpenSsl.Answer a = OpenSsl.answer(r);
        assertThat(a.status()).as(a.output()).isEqualTo(201);
        assertThat(a.json().getString("mafClientId")).isEqualTo("gw-3" + CSE_DOMAIN);
        assertThat(a.json().getString("assignedSymmKeyId")).isNull(); // no Km: the certificate is the credential
    }

    // ---------------------------------------------------------------- bad input, each refused with nothing issued

    @Test
    void csr_with_a_wrong_curve_is_refused() throws Exception {
        OpenSslClient.Result r = pskEst("gw-2", "gw-2-p384", "P-384", "DNS:gw-2" + CSE_DOMAIN);
        assertThat(r.httpStatus()).as(r.output()).isEqualTo(400);
        assertThat(OpenSsl.httpBody(r.output())).contains("P-256");
        assertNothingIssuedFor("gw-2");
    }

    @Test
    void csr_with_a_wildcard_is_refused() throws Exception {
        OpenSslClient.Result r = pskEst("gw-2", "gw-2-wild", "P-256", "DNS:*" + CSE_DOMAIN);
        assertThat(r.httpStatus()).as(r.output()).isEqualTo(400);
        assertThat(OpenSsl.httpBody(r.output())).contains("wildcard");
        assertNothingIssuedFor("gw-2");
    }

    @Test
    void csr_naming_another_identity_is_refused() throws Exception {
        OpenSslClient.Result r = pskEst("gw-2", "gw-2-other", "P-256", "DNS:gw-3" + CSE_DOMAIN);
        assertThat(r.httpStatus()).as(r.output()).isEqualTo(403);
        OpenSslClient.Result two =
                pskEst("gw-2", "gw-2-two", "P-256", "DNS:gw-2" + CSE_DOMAIN + ",URI:https://in.cert-co.example/x");
        assertThat(two.httpStatus()).as(two.output()).isEqualTo(403);
        OpenSslClient.Result none = pskEst("gw-2", "gw-2-nosan", "P-256", null);
        assertThat(none.httpStatus()).as(none.output()).isEqualTo(400);
        assertNothingIssuedFor("gw-2");
        assertNothingIssuedFor("gw-3");
        assertThat(as(Tokens.auditor(T))
                        .get("/api/v1/tenants/" + T + "/audit?limit=1000")
                        .asString())
                .contains("est.simpleenroll")
                .contains("DENIED");
    }

    @Test
    void csr_made_for_another_session_or_without_challenge_password_is_refused() throws Exception {
        OpenSslClient.Result replayed = est(
                OpenSsl.withPsk(OpenSsl.sClient(listener.port(), MEF), kpmIds.get("gw-2"), kpms.get("gw-2")),
                "simpleenroll",
                "gw-2-replay",
                "P-256",
                "DNS:gw-2" + CSE_DOMAIN,
                true,
                false);
        assertThat(replayed.httpStatus()).as(replayed.output()).isEqualTo(400);
        assertThat(OpenSsl.httpBody(replayed.output())).contains("another session");
        byte[] noChallenge = csr("gw-2-nochallenge", "P-256", null, "DNS:gw-2" + CSE_DOMAIN, true);
        OpenSslClient.Result r = pskRequest(
                "gw-2",
                OpenSsl.request(
                        "POST",
                        MEF,
                        "/.well-known/est/simpleenroll",
                        "application/pkcs10",
                        Base64.getMimeEncoder().encode(noChallenge)));
        assertThat(r.httpStatus()).as(r.output()).isEqualTo(400);
        assertNothingIssuedFor("gw-2");
    }

    @Test
    void garbage_oversized_and_wrong_type_bodies_are_refused() throws Exception {
        OpenSslClient.Result garbage = pskRequest(
                "gw-2",
                OpenSsl.request(
                        "POST",
                        MEF,
                        "/.well-known/est/simpleenroll",
                        "application/pkcs10",
                        "!!not base64!!".getBytes(StandardCharsets.US_ASCII)));
        assertThat(garbage.httpStatus()).as(garbage.output()).isEqualTo(400);
        OpenSslClient.Result notCsr = pskRequest(
                "gw-2",
                OpenSsl.request(
                        "POST",
                        MEF,
                        "/.well-known/est/simpleenroll",
                        "application/pkcs10",
                        Base64.getEncoder().encode(new byte[300])));
        assertThat(notCsr.httpStatus()).as(notCsr.output()).isEqualTo(400);
        OpenSslClient.Result big = pskRequest(
                "gw-2",
                OpenSsl.request(
                        "POST",
                        MEF,
                        "/.well-known/est/simpleenroll",
                        "application/pkcs10",
                        Base64.getEncoder().encode(new byte[20_000])));
        assertThat(big.httpStatus()).as(big.output()).isEqualTo(400);
        OpenSslClient.Result json = pskRequest(
                "gw-2",
                OpenSsl.request(
                        "POST",
                        MEF,
                        "/.well-known/est/simpleenroll",
                        "application/json",
                        "{}".getBytes(StandardCharsets.US_ASCII)));
        assertThat(json.httpStatus()).as(json.output()).isEqualTo(415);
        OpenSslClient.Result unknown =
                pskRequest("gw-2", OpenSsl.request("GET", MEF, "/.well-known/est/serverkeygen", null, new byte[0]));
        assertThat(unknown.httpStatus()).as(unknown.output()).isEqualTo(404);
        OpenSslClient.Result getEnroll =
                pskRequest("gw-2", OpenSsl.request("GET", MEF, "/.well-known/est/simpleenroll", null, new byte[0]));
        assertThat(getEnroll.httpStatus()).as(getEnroll.output()).isEqualTo(405);
        assertNothingIssuedFor("gw-2");
    }

    @Test
    void device_without_a_certificate_profile_and_psk_reenrolment_are_refused() throws Exception {
        OpenSslClient.Result r = pskEst("p-1", "p-1", "P-256", "DNS:p-1" + CSE_DOMAIN);
        assertThat(r.httpStatus()).as(r.output()).isEqualTo(403);
        OpenSslClient.Result re = est(
                OpenSsl.withPsk(OpenSsl.sClient(listener.port(), MEF), kpmIds.get("gw-4"), kpms.get("gw-4")),
                "simplereenroll",
                "gw-4-re",
                "P-256",
                "DNS:gw-4" + CSE_DOMAIN,
                true,
                true);
        assertThat(re.httpStatus()).as(re.output()).isEqualTo(403);
        assertNothingIssuedFor("gw-4");
    }

    @Test
    void certificate_from_a_foreign_ca_fails_the_handshake() throws Exception {
        Path ca = caFile();
        OpenSsl.ok(
                dir,
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                dir.resolve("rogue.key").toString(),
                "-out",
                dir.resolve("rogue.pem").toString(),
                "-subj",
                "/CN=gw-3" + CSE_DOMAIN,
                "-addext",
                "subjectAltName=DNS:gw-3" + CSE_DOMAIN,
                "-days",
                "2");
        List<String> session = OpenSsl.withCertificate(
                OpenSsl.sClient(listener.port(), MEF), dir.resolve("rogue.pem"), dir.resolve("rogue.key"), ca, MEF);
        OpenSslClient.Result r = handshakeOnly(session);
        assertThat(r.output()).contains("alert unknown ca");
        assertThat(r.httpStatus()).isNull();
    }

    @Test
    void certificate_suites_are_not_offered_by_a_tenant_without_ca() throws Exception {
        Api.ensureTenant("no-ca-co");
        OpenSslClient.Result r = OpenSslClient.pskRequest(
                listener.port(),
                "mef.no-ca-co.m2m-trust.local",
                "x",
                new byte[32],
                "ECDHE-ECDSA-AES128-SHA256",
                null,
                OpenSslClient.get("mef.no-ca-co.m2m-trust.local", "/.well-known/est/cacerts"));
        assertThat(r.output()).contains("handshake failure");
        assertThat(r.httpStatus()).isNull();
        assertThat(token.exists(HsmKeyLabel.of("no-ca-co", KeyPurpose.TLS, 1))).isFalse();
        assertThat(token.exists(HsmKeyLabel.of("no-ca-co", KeyPurpose.CA, 1))).isFalse();
    }

    @Test
    void group_certificate_profile_is_validated() {
        as(Tokens.tenantAdmin(T))
                .body(Map.of("subjectType", "CSE_ID", "subjectTemplate", "*.in.cert-co.example"))
                .put("/api/v1/tenants/" + T + "/enrolment-groups/plain/certificate-profile")
                .then()
                .statusCode(400);
        as(Tokens.tenantAdmin(T))
                .body(Map.of("subjectType", "CSE_ID", "subjectTemplate", "{device}.*.example"))
                .put("/api/v1/tenants/" + T + "/enrolment-groups/plain/certificate-profile")
                .then()
                .statusCode(400);
        as(Tokens.tenantAdmin(T))
                .body(Map.of("subjectType", "AE_ID", "subjectTemplate", "not a uri {device}"))
                .put("/api/v1/tenants/" + T + "/enrolment-groups/plain/certificate-profile")
                .then()
                .statusCode(400);
        as(Tokens.tenantAdmin(T))
                .body(Map.of("subjectType", "TOASTER", "subjectTemplate", "{device}.x.example"))
                .put("/api/v1/tenants/" + T + "/enrolment-groups/plain/certificate-profile")
                .then()
                .statusCode(400);
        as(Tokens.auditor(T))
                .body(Map.of("subjectType", "CSE_ID", "subjectTemplate", "{device}.x.example"))
                .put("/api/v1/tenants/" + T + "/enrolment-groups/plain/certificate-profile")
                .then()
                .statusCode(403);
        as(Tokens.tenantAdmin(T))
                .get("/api/v1/tenants/" + T + "/enrolment-groups/plain")
                .then()
                .statusCode(200)
                .body("certificateProfile", org.hamcrest.Matchers.nullValue());
    }

    private static void assertNothingIssuedFor(String device) {
        as(Tokens.auditor(T))
                .get("/api/v1/tenants/" + T + "/certificates?subject=" + device + CSE_DOMAIN)
                .then()
                .statusCode(200)
                .body("size()", org.hamcrest.Matchers.equalTo(0));
    }
}
