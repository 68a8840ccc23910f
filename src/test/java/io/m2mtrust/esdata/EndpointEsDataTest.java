package io.m2mtrust.esdata;

import static io.m2mtrust.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;

import io.m2mtrust.hsm.HsmKeyLabel;
import io.m2mtrust.hsm.KeyPurpose;
import io.m2mtrust.hsm.Pkcs11Token;
import io.m2mtrust.testsupport.Api;
import io.m2mtrust.testsupport.MafDevices;
import io.m2mtrust.testsupport.OpenSsl;
import io.m2mtrust.testsupport.Tokens;
import io.m2mtrust.tls.DeviceTlsListener;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import org.jose4j.jwe.JsonWebEncryption;
import org.jose4j.jws.JsonWebSignature;
import org.jose4j.keys.AesKey;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * ESData as service-held end-points (private keys in the HSM, certificates from the tenant CA): a
 * certificate signature verified by jose4j, nested sign-then-encrypt with a MAF key registered for the
 * end-points' identities, opened by the other end-point and by jose4j; end-point life cycle and access.
 */
@QuarkusTest
class EndpointEsDataTest {

    static final String T = "ep-co";
    static final String SENSOR = "https://in.ep-co.example/cse-in/Csensor";
    static final String APP = "https://in.ep-co.example/cse-in/Capp";

    @Inject
    DeviceTlsListener listener;

    @Inject
    Pkcs11Token token;

    static MafDevices fleet;
    static MafDevices.Device keyOwner;
    static String kid;
    static byte[] keyValue = new byte[64];

    @BeforeEach
    void setUp() throws Exception {
        if (fleet != null) {
            return;
        }
        fleet = MafDevices.create(T, listener.port(), List.of("owner"), doc -> {});
        as(Tokens.tenantAdmin(T)).post("/api/v1/tenants/" + T + "/ca").then().statusCode(201);
        for (String[] e : new String[][] {{"sensor", SENSOR}, {"app", APP}}) {
            as(Tokens.tenantAdmin(T))
                    .body(Map.of("id", e[0], "subjectType", "AE_ID", "subjectId", e[1]))
                    .post("/api/v1/tenants/" + T + "/endpoints")
                    .then()
                    .statusCode(201)
                    .body("hsmLabel", org.hamcrest.Matchers.equalTo("m2m/" + T + "/endpoint/" + e[0] + "/v1"));
        }
        keyOwner = fleet.enrolAndRegister("owner");
        new java.security.SecureRandom().nextBytes(keyValue);
        OpenSsl.Answer reg = fleet.maf(
                keyOwner,
                "POST",
                "/keyRegistration",
                OpenSsl.keyRegistration(
                        "mafFqdn",
                        fleet.maf,
                        fleet.admin,
                        34,
                        List.of(SENSOR, APP),
                        Base64.getEncoder().encodeToString(keyValue),
                        Instant.now().plusSeconds(3600)));
        assertThat(reg.status()).as(reg.output()).isEqualTo(201);
        kid = reg.json().getString("keyIdentifier");
    }

    static X509Certificate certificateOf(String subject) throws Exception {
        String serial = as(Tokens.auditor(T))
                .get("/api/v1/tenants/" + T + "/certificates?subject=" + subject)
                .jsonPath()
                .getString("[0].serial");
        String pem = as(Tokens.auditor(T))
                .get("/api/v1/tenants/" + T + "/certificates/" + serial)
                .jsonPath()
                .getString("pem");
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
    }

    static JsonPath protect(String endpoint, Map<String, Object> body, int status) {
        return as(Tokens.tenantAdmin(T))
                .body(body)
                .post("/api/v1/tenants/" + T + "/endpoints/" + endpoint + "/esdata/protect")
                .then()
                .statusCode(status)
                .extract()
                .jsonPath();
    }

    static JsonPath unprotect(String endpoint, String envelope, int cs, String expect, int status) {
        Map<String, Object> body = new java.util.HashMap<>(Map.of("envelope", envelope, "contentSecurity", cs));
        if (expect != null) {
            body.put("expect", expect);
        }
        return as(Tokens.tenantAdmin(T))
                .body(body)
                .post("/api/v1/tenants/" + T + "/endpoints/" + endpoint + "/esdata/unprotect")
                .then()
                .statusCode(status)
                .extract()
                .jsonPath();
    }

    @Test
    void signature_made_in_the_hsm_verifies_with_jose4j_and_at_the_other_end_point() throws Exception {
        byte[] payload = "{\"m2m:cin\":{\"con\":\"42\"}}".getBytes(StandardCharsets.UTF_8);
        String b64 = Base64.getEncoder().encodeToString(payload);
        JsonPath p = protect("sensor", Map.of("payload", b64, "sign", true, "contentSecurity", 1), 200);
        assertThat(p.getString("class")).isEqualTo("signature");
        JsonWebSignature jws = new JsonWebSignature();
        jws.setCompactSerialization(p.getString("envelope"));
        jws.setKey(certificateOf(SENSOR).getPublicKey());
        assertThat(jws.verifySignature()).isTrue();
        JsonPath u = unprotect("app", p.getString("envelope"), 1, "signature", 200);
        assertThat(Base64.getDecoder().decode(u.getString("payload"))).isEqualTo(payload);
        // JSON serialization too, and tampering is detected
        JsonPath j = protect("sensor", Map.of("payload", b64, "sign", true, "contentSecurity", 2), 200);
        assertThat(unprotect("app", j.getString("envelope"), 2, "signature", 200)
                        .getString("class"))
                .isEqualTo("signature");
        String tampered = p.getString("envelope")
                .replaceFirst(
                        "\\.[A-Za-z0-9_-]+\\.",
                        "." + Base64.getUrlEncoder().withoutPadding().encodeToString("{}".getBytes()) + ".");
        unprotect("app", tampered, 1, "signature", 422);
    }

    @Test
    void nested_sign_then_encrypt_with_a_maf_key_opens_at_the_other_end_point_and_in_jose4j() throws Exception {
        byte[] payload = "nested reading".getBytes(StandardCharsets.UTF_8);
        JsonPath p = protect(
                "sensor",
                Map.of(
                        "payload",
                        Base64.getEncoder().encodeToString(payload),
                        "sign",
                        true,
                        "encryptFor",
                        List.of(kid),
                        "alg",
                        "dir",
                        "enc",
                        "A256GCM",
                        "contentSecurity",
                        1),
                200);
        assertThat(p.getString("class")).isEqualTo("nested");
        JsonPath u = unprotect("app", p.getString("envelope"), 1, null, 200);
        assertThat(u.getString("class")).isEqualTo("nested");
        assertThat(Base64.getDecoder().decode(u.getString("payload"))).isEqualTo(payload);

        JsonWebEncryption jwe = new JsonWebEncryption();
        jwe.setCompactSerialization(p.getString("envelope"));
        jwe.setKey(new AesKey(Arrays.copyOf(keyValue, 32)));
        assertThat(jwe.getContentTypeHeaderValue()).isEqualTo("JOSE");
        JsonWebSignature jws = new JsonWebSignature();
        jws.setCompactSerialization(jwe.getPlaintextString());
        jws.setKey(certificateOf(SENSOR).getPublicKey());
        assertThat(jws.verifySignature()).isTrue();
    }

    @Test
    void ecdh_es_envelopes_for_a_service_held_end_point_are_unwrapped_in_the_hsm() throws Exception {
        byte[] payload = "only app can read this".getBytes(StandardCharsets.UTF_8);
        String b64 = Base64.getEncoder().encodeToString(payload);
        for (int cs : new int[] {1, 2, 3}) {
            JsonPath p = protect(
                    "sensor",
                    Map.of("payload", b64, "encryptForCertificatesOf", List.of(APP), "contentSecurity", cs),
                    200);
            JsonPath u = unprotect("app", p.getString("envelope"), cs, null, 200);
            assertThat(Base64.getDecoder().decode(u.getString("payload")))
                    .as("contentSecurity " + cs)
                    .isEqualTo(payload);
            // not for the sensor's own certificate
            unprotect("sensor", p.getString("envelope"), cs, null, 404);
        }
        // two certificate recipients in one JSON envelope: each opens its own
        JsonPath both = protect(
                "app",
                Map.of("payload", b64, "encryptForCertificatesOf", List.of(APP, SENSOR), "contentSecurity", 2),
                200);
        assertThat(Base64.getDecoder()
                        .decode(unprotect("sensor", both.getString("envelope"), 2, null, 200)
                                .getString("payload")))
                .isEqualTo(payload);
        assertThat(Base64.getDecoder()
                        .decode(unprotect("app", both.getString("envelope"), 2, null, 200)
                                .getString("payload")))
                .isEqualTo(payload);
        // nested: signed in the HSM by the sensor, encrypted for the app's certificate, verified after the HSM unwrap
        JsonPath nested = protect(
                "sensor",
                Map.of("payload", b64, "sign", true, "encryptForCertificatesOf", List.of(APP), "contentSecurity", 1),
                200);
        JsonPath n = unprotect("app", nested.getString("envelope"), 1, null, 200);
        assertThat(n.getString("class")).isEqualTo("nested");
        assertThat(Base64.getDecoder().decode(n.getString("payload"))).isEqualTo(payload);
        // a tampered ciphertext fails the tag
        String env = protect(
                        "sensor",
                        Map.of("payload", b64, "encryptForCertificatesOf", List.of(APP), "contentSecurity", 1),
                        200)
                .getString("envelope");
        String[] parts = env.split("\\.");
        char c = parts[3].charAt(3);
        parts[3] = parts[3].substring(0, 3) + (c == 'A' ? 'B' : 'A') + parts[3].substring(4);
        unprotect("app", String.join(".", parts), 1, null, 422);
    }

    @Test
    void a_certificate_signature_and_macs_on_one_payload_in_jws_json_plain_and_nested() throws Exception {
        // a SUID 35 (MAC) key registered for both end-points
        byte[] macValue = new byte[64];
        new java.security.SecureRandom().nextBytes(macValue);
        OpenSsl.Answer reg = fleet.maf(
                keyOwner,
                "POST",
                "/keyRegistration",
                OpenSsl.keyRegistration(
                        "mafFqdn",
                        fleet.maf,
                        fleet.admin,
                        35,
                        List.of(SENSOR, APP),
                        Base64.getEncoder().encodeToString(macValue),
                        Instant.now().plusSeconds(3600)));
        assertThat(reg.status()).as(reg.output()).isEqualTo(201);
        String macKid = reg.json().getString("keyIdentifier");
        byte[] payload = "{\"m2m:cin\":{\"con\":\"twice\"}}".getBytes(StandardCharsets.UTF_8);
        String b64 = Base64.getEncoder().encodeToString(payload);
        X509Certificate sensorCert = certificateOf(SENSOR);
        String thumb = new JoseEnvelopes.CertificateRecipient(sensorCert).thumbprint();

        JsonPath p = protect(
                "sensor", Map.of("payload", b64, "sign", true, "macWith", List.of(macKid), "contentSecurity", 2), 200);
        // the independent JDK-only JOSE checks both signatures (MAC key = first half of the Key Value)
        List<String> checked = io.m2mtrust.testsupport.JcaJose.verifyJws(
                p.getString("envelope"),
                h -> h.has("kid")
                        ? new javax.crypto.spec.SecretKeySpec(Arrays.copyOf(macValue, 32), "HmacSHA256")
                        : sensorCert.getPublicKey());
        assertThat(checked).containsExactly(thumb, macKid);
        JsonPath u = unprotect("app", p.getString("envelope"), 2, null, 200);
        assertThat(u.getList("keyIds", String.class)).containsExactly(thumb, macKid);
        assertThat(Base64.getDecoder().decode(u.getString("payload"))).isEqualTo(payload);
        // a receiver asking for the certificate signature only counts that one
        assertThat(unprotect("app", p.getString("envelope"), 2, "signature", 200)
                        .getList("keyIds", String.class))
                .containsExactly(thumb);
        // several signatures cannot be compact
        protect("sensor", Map.of("payload", b64, "sign", true, "macWith", List.of(macKid), "contentSecurity", 1), 403);

        // nested: the doubly signed JWS (JSON) encrypted for the app's certificate; cty says JOSE+JSON
        JsonPath n = protect(
                "sensor",
                Map.of(
                        "payload",
                        b64,
                        "sign",
                        true,
                        "macWith",
                        macKid,
                        "encryptForCertificatesOf",
                        List.of(APP),
                        "contentSecurity",
                        1),
                200);
        JsonWebEncryption outer = new JsonWebEncryption();
        outer.setCompactSerialization(n.getString("envelope"));
        assertThat(outer.getContentTypeHeaderValue()).isEqualTo("JOSE+JSON");
        JsonPath nu = unprotect("app", n.getString("envelope"), 1, null, 200);
        assertThat(nu.getString("class")).isEqualTo("nested");
        assertThat(nu.getList("signedBy", String.class)).containsExactly(thumb, macKid);
        assertThat(Base64.getDecoder().decode(nu.getString("payload"))).isEqualTo(payload);
    }

    @Test
    void encryption_for_a_target_certificate_names_it_by_thumbprint() throws Exception {
        JsonPath p = protect(
                "sensor",
                Map.of("payload", "AAEC", "encryptForCertificatesOf", List.of(APP), "contentSecurity", 1),
                200);
        JsonWebEncryption jwe = new JsonWebEncryption();
        jwe.setCompactSerialization(p.getString("envelope"));
        assertThat(jwe.getAlgorithmHeaderValue()).isEqualTo("ECDH-ES+A256KW");
        assertThat(jwe.getHeader("x5t#S256"))
                .isEqualTo(new JoseEnvelopes.CertificateRecipient(certificateOf(APP)).thumbprint());
        protect(
                "sensor",
                Map.of(
                        "payload",
                        "AAEC",
                        "encryptForCertificatesOf",
                        List.of("https://nobody.example/x"),
                        "contentSecurity",
                        1),
                404);
        protect(
                "sensor",
                Map.of(
                        "payload",
                        "AAEC",
                        "encryptForCertificatesOf",
                        List.of(APP),
                        "encryptFor",
                        List.of(kid),
                        "contentSecurity",
                        1),
                400);
    }

    static JsonPath batch(String endpoint, String op, List<Map<String, Object>> items, int status) {
        return as(Tokens.tenantAdmin(T))
                .body(Map.of("items", items))
                .post("/api/v1/tenants/" + T + "/endpoints/" + endpoint + "/esdata/" + op + "/batch")
                .then()
                .statusCode(status)
                .extract()
                .jsonPath();
    }

    @Test
    void batch_calls_answer_item_by_item_in_one_shared_transaction() throws Exception {
        String b64 = Base64.getEncoder().encodeToString("batched".getBytes(StandardCharsets.UTF_8));
        Map<String, Object> good = Map.of(
                "payload",
                b64,
                "sign",
                true,
                "encryptFor",
                List.of(kid),
                "alg",
                "dir",
                "enc",
                "A256GCM",
                "contentSecurity",
                1);
        Map<String, Object> unknownKey = Map.of(
                "payload",
                b64,
                "encryptFor",
                List.of("nosuch@maf.ep-co.example"),
                "alg",
                "dir",
                "enc",
                "A256GCM",
                "contentSecurity",
                1);
        Map<String, Object> wrongUsage = Map.of("payload", b64, "macWith", List.of(kid), "contentSecurity", 1);
        JsonPath p = batch("sensor", "protect", List.of(good, unknownKey, wrongUsage, good), 200);
        assertThat(p.getList("results.status")).containsExactly(200, 404, 403, 200);
        String first = p.getString("results[0].envelope");
        String last = p.getString("results[3].envelope");
        assertThat(first).isNotEqualTo(last); // a fresh content key and IV per item

        // an HS256 JWS naming an encryption key: its lookup refuses (403) inside the shared transaction, and the
        // items after it still run in that transaction
        org.jose4j.jws.JsonWebSignature wrongKeyJws = new org.jose4j.jws.JsonWebSignature();
        wrongKeyJws.setPayload("x");
        wrongKeyJws.setAlgorithmHeaderValue("HS256");
        wrongKeyJws.setKeyIdHeaderValue(kid);
        wrongKeyJws.setKey(new org.jose4j.keys.HmacKey(Arrays.copyOf(keyValue, 32)));
        String[] parts = first.split("\\.");
        char c = parts[3].charAt(3);
        parts[3] = parts[3].substring(0, 3) + (c == 'A' ? 'B' : 'A') + parts[3].substring(4);
        JsonPath u = batch(
                "app",
                "unprotect",
                List.of(
                        Map.of("envelope", first, "contentSecurity", 1),
                        Map.of("envelope", wrongKeyJws.getCompactSerialization(), "contentSecurity", 1),
                        Map.of("envelope", String.join(".", parts), "contentSecurity", 1),
                        Map.of("envelope", last, "contentSecurity", 1)),
                200);
        assertThat(u.getList("results.status")).containsExactly(200, 403, 422, 200);
        assertThat(u.getList("results.class")).containsExactly("nested", null, null, "nested");
        assertThat(Base64.getDecoder().decode(u.getString("results[3].payload")))
                .isEqualTo("batched".getBytes(StandardCharsets.UTF_8));

        // the size is checked before any item runs; the door as for single calls
        batch("sensor", "protect", java.util.Collections.nCopies(51, good), 400);
        batch("sensor", "protect", List.of(), 400);
        as(Tokens.tenantAdmin("other-co"))
                .body(Map.of("items", List.of(good)))
                .post("/api/v1/tenants/" + T + "/endpoints/sensor/esdata/protect/batch")
                .then()
                .statusCode(404);
        as(Tokens.auditor(T))
                .body(Map.of("items", List.of(good)))
                .post("/api/v1/tenants/" + T + "/endpoints/sensor/esdata/protect/batch")
                .then()
                .statusCode(403);
        batch("nosuch", "unprotect", List.of(Map.of("envelope", first, "contentSecurity", 1)), 404);
    }

    @Test
    void end_point_life_cycle_and_access() {
        as(Tokens.tenantAdmin(T))
                .body(Map.of(
                        "id", "sensor", "subjectType", "AE_ID", "subjectId", "https://in.ep-co.example/cse-in/Cother"))
                .post("/api/v1/tenants/" + T + "/endpoints")
                .then()
                .statusCode(409);
        as(Tokens.tenantAdmin(T))
                .body(Map.of("id", "bad id", "subjectType", "AE_ID", "subjectId", SENSOR))
                .post("/api/v1/tenants/" + T + "/endpoints")
                .then()
                .statusCode(400);
        as(Tokens.tenantAdmin(T))
                .body(Map.of("id", "wild", "subjectType", "CSE_ID", "subjectId", "*.in.ep-co.example"))
                .post("/api/v1/tenants/" + T + "/endpoints")
                .then()
                .statusCode(400);
        as(Tokens.auditor(T))
                .body(Map.of("payload", "AA==", "sign", true, "contentSecurity", 1))
                .post("/api/v1/tenants/" + T + "/endpoints/sensor/esdata/protect")
                .then()
                .statusCode(403);
        as(Tokens.tenantAdmin("other-co"))
                .body(Map.of("payload", "AA==", "sign", true, "contentSecurity", 1))
                .post("/api/v1/tenants/" + T + "/endpoints/sensor/esdata/protect")
                .then()
                .statusCode(404);
        Api.anonymous().get("/api/v1/tenants/" + T + "/endpoints").then().statusCode(401);

        as(Tokens.tenantAdmin(T))
                .body(Map.of(
                        "id", "temp", "subjectType", "AE_ID", "subjectId", "https://in.ep-co.example/cse-in/Ctemp"))
                .post("/api/v1/tenants/" + T + "/endpoints")
                .then()
                .statusCode(201);
        HsmKeyLabel label = HsmKeyLabel.named(T, KeyPurpose.ENDPOINT, "temp", 1);
        assertThat(token.exists(label)).isTrue();
        as(Tokens.tenantAdmin(T))
                .delete("/api/v1/tenants/" + T + "/endpoints/temp")
                .then()
                .statusCode(204);
        assertThat(token.exists(label)).isFalse();
        protect("temp", Map.of("payload", "AA==", "sign", true, "contentSecurity", 1), 404);
        as(Tokens.auditor(T))
                .get("/api/v1/tenants/" + T + "/certificates?subject=https://in.ep-co.example/cse-in/Ctemp")
                .then()
                .body("[0].status", org.hamcrest.Matchers.equalTo("REVOKED"));
    }
}
