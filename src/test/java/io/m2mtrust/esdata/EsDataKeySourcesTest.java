package io.m2mtrust.esdata;

import static io.m2mtrust.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;

import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.mef.EnrolmentKdf;
import io.m2mtrust.testsupport.MafDevices;
import io.m2mtrust.testsupport.OpenSslClient;
import io.m2mtrust.testsupport.PostgresResource;
import io.m2mtrust.testsupport.Tokens;
import io.m2mtrust.tls.DeviceTlsListener;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import org.jose4j.jwe.JsonWebEncryption;
import org.jose4j.jwe.KeyManagementAlgorithmIdentifiers;
import org.jose4j.jws.AlgorithmIdentifiers;
import org.jose4j.jws.JsonWebSignature;
import org.jose4j.keys.AesKey;
import org.jose4j.keys.HmacKey;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The provisioned and pre-provisioned symmetric options of ESData (seed Table X.2.2-1): keys an enrolee
 * derives from its Ke and an Enrolment Target would get from {@code fetchCredentials} (SUID 24/25, kid
 * {@code <KeID>/<SUID>}), and keys installed out of band and imported by an admin (SUID 14/15). The
 * device side is jose4j with the key derived from the Ke that OpenSSL exported at enrolment.
 */
@QuarkusTest
class EsDataKeySourcesTest {

    static final String T = "keysrc-co";
    static final String MEF = "mef." + T + ".m2m-trust.local";
    static final String APP = "app.keysrc-co.example";
    static final String OTHER = "other.keysrc-co.example";
    static final String PRE = "/api/v1/tenants/" + T + "/preprovisioned-keys";

    @Inject
    DeviceTlsListener listener;

    static String keId;
    static byte[] ke;

    @BeforeEach
    void enrolADeviceAndMakeEndPoints() throws Exception {
        if (keId != null) {
            return;
        }
        MafDevices fleet = MafDevices.create(T, listener.port(), List.of("meter-1"), doc -> {});
        OpenSslClient.Result r = OpenSslClient.pskRequest(
                listener.port(),
                MEF,
                fleet.kpmIds.get("meter-1"),
                fleet.kpms.get("meter-1"),
                "PSK-AES128-CBC-SHA256",
                "EXPORTER-oneM2M-Bootstrap",
                OpenSslClient.post(MEF, "/enrolment", "{}"));
        assertThat(r.httpStatus()).as(r.output()).isEqualTo(201);
        keId = JsonPath.from(r.httpBody()).getString("keId");
        ke = Arrays.copyOfRange(r.keyingMaterial(), 16, 48);

        as(Tokens.tenantAdmin(T)).post("/api/v1/tenants/" + T + "/ca").then().statusCode(201);
        for (String[] ep : new String[][] {{"app", APP}, {"other", OTHER}}) {
            as(Tokens.tenantAdmin(T))
                    .body(Map.of("id", ep[0], "subjectType", "FQDN", "subjectId", ep[1]))
                    .post("/api/v1/tenants/" + T + "/endpoints")
                    .then()
                    .statusCode(201);
        }
        // the application end-point is an Enrolment Target allowed the ESData SUIDs
        as(Tokens.tenantAdmin(T))
                .body(Map.of("targetFqdn", APP, "allowedSuids", List.of(24, 25)))
                .put("/api/v1/tenants/" + T + "/enrolment-targets/{identity}", APP)
                .then()
                .statusCode(200);
    }

    static byte[] fetchedKey(int suid) {
        try (SecretBytes k = SecretBytes.copyOf(ke);
                SecretBytes u = EnrolmentKdf.usageConstrained(k, suid, APP)) {
            return u.copy();
        }
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

    static JsonPath unprotect(String endpoint, String envelope, int status) {
        return as(Tokens.tenantAdmin(T))
                .body(Map.of("envelope", envelope, "contentSecurity", 1))
                .post("/api/v1/tenants/" + T + "/endpoints/" + endpoint + "/esdata/unprotect")
                .then()
                .statusCode(status)
                .extract()
                .jsonPath();
    }

    static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void fetch_credentials_keys_encrypt_and_mac_between_the_enrolee_and_its_target() throws Exception {
        byte[] k24 = fetchedKey(24);
        byte[] k25 = fetchedKey(25);
        // the enrolee (jose4j, key from its own Ke) encrypts for the target; the target end-point opens it
        JsonWebEncryption jwe = new JsonWebEncryption();
        jwe.setAlgorithmHeaderValue(KeyManagementAlgorithmIdentifiers.DIRECT);
        jwe.setEncryptionMethodHeaderParameter("A256GCM");
        jwe.setKeyIdHeaderValue(keId + "/24");
        jwe.setKey(new AesKey(k24));
        jwe.setPlaintext("{\"kWh\":4711}");
        String fromDevice = jwe.getCompactSerialization();
        JsonPath opened = unprotect("app", fromDevice, 200);
        assertThat(new String(Base64.getDecoder().decode(opened.getString("payload")), StandardCharsets.UTF_8))
                .isEqualTo("{\"kWh\":4711}");
        assertThat(opened.getList("keyIds", String.class)).containsExactly(keId + "/24");

        // the target protects for the enrolee; jose4j opens it with the enrolee's derivation
        String env = protect(
                        "app",
                        Map.of(
                                "payload",
                                b64("set point 21"),
                                "encryptFor",
                                List.of(keId + "/24"),
                                "contentSecurity",
                                1),
                        200)
                .getString("envelope");
        JsonWebEncryption theirs = new JsonWebEncryption();
        theirs.setCompactSerialization(env);
        theirs.setKey(new AesKey(k24));
        assertThat(theirs.getPlaintextString()).isEqualTo("set point 21");
        assertThat(theirs.getAlgorithmHeaderValue()).isEqualTo("dir");

        // MAC both ways with the SUID 25 key
        JsonWebSignature jws = new JsonWebSignature();
        jws.setAlgorithmHeaderValue(AlgorithmIdentifiers.HMAC_SHA256);
        jws.setKeyIdHeaderValue(keId + "/25");
        jws.setPayload("reading 7");
        jws.setKey(new HmacKey(k25));
        JsonPath verified = unprotect("app", jws.getCompactSerialization(), 200);
        assertThat(verified.getString("class")).isEqualTo("signature");
        String mac = protect("app", Map.of("payload", b64("ack 7"), "macWith", keId + "/25", "contentSecurity", 1), 200)
                .getString("envelope");
        JsonWebSignature check = new JsonWebSignature();
        check.setCompactSerialization(mac);
        check.setKey(new HmacKey(k25));
        assertThat(check.verifySignature()).isTrue();

        // refusals: the other usage's key, a SUID that is not ESData, an end-point that is not the target, an unknown
        // KeID
        assertThat(protect(
                                "app",
                                Map.of("payload", b64("x"), "encryptFor", List.of(keId + "/25"), "contentSecurity", 1),
                                403)
                        .getString("detail"))
                .contains("SUID");
        protect("app", Map.of("payload", b64("x"), "encryptFor", List.of(keId + "/23"), "contentSecurity", 1), 403);
        protect("other", Map.of("payload", b64("x"), "encryptFor", List.of(keId + "/24"), "contentSecurity", 1), 404);
        unprotect("other", fromDevice, 404);
        protect(
                "app",
                Map.of(
                        "payload",
                        b64("x"),
                        "encryptFor",
                        List.of("00112233445566778899aabbccddeeff@" + MEF + "/24"),
                        "contentSecurity",
                        1),
                404);
        // the target's rule no longer lists 24: refused at once
        as(Tokens.tenantAdmin(T))
                .body(Map.of("targetFqdn", APP, "allowedSuids", List.of(25)))
                .put("/api/v1/tenants/" + T + "/enrolment-targets/{identity}", APP)
                .then()
                .statusCode(200);
        try {
            assertThat(protect(
                                    "app",
                                    Map.of(
                                            "payload",
                                            b64("x"),
                                            "encryptFor",
                                            List.of(keId + "/24"),
                                            "contentSecurity",
                                            1),
                                    403)
                            .getString("detail"))
                    .contains("not allowed");
            // a key the target holds but its rule no longer allows: 403 naming the SUID, like protect (not "unknown")
            assertThat(unprotect("app", fromDevice, 403).getString("detail")).contains("SUID");
        } finally {
            as(Tokens.tenantAdmin(T))
                    .body(Map.of("targetFqdn", APP, "allowedSuids", List.of(24, 25)))
                    .put("/api/v1/tenants/" + T + "/enrolment-targets/{identity}", APP)
                    .then()
                    .statusCode(200);
        }
        // an expired enrolment: its keys are gone
        sql("update enrolment set expires_at = now() - interval '1 second' where ke_id = '" + keId + "'");
        try {
            unprotect("app", fromDevice, 404);
        } finally {
            sql("update enrolment set expires_at = now() + interval '1 day' where ke_id = '" + keId + "'");
        }
    }

    @Test
    void preprovisioned_keys_are_imported_sealed_used_whole_by_their_holders_and_revoked() throws Exception {
        byte[] enc = new byte[32];
        byte[] mac = new byte[48];
        new SecureRandom().nextBytes(enc);
        new SecureRandom().nextBytes(mac);
        String encId = "factory-7@keys.keysrc-co.example";
        String macId = "factory-mac-7@keys.keysrc-co.example";
        JsonPath imported =
                importKey(encId, 14, List.of(APP, OTHER), enc, Instant.now().plusSeconds(3600), 201);
        assertThat(imported.getString("status")).isEqualTo("ACTIVE");
        assertThat(imported.getInt("keyLength")).isEqualTo(32);
        importKey(macId, 15, List.of(APP, OTHER), mac, Instant.now().plusSeconds(3600), 201);
        String listed =
                as(Tokens.auditor(T)).get(PRE).then().statusCode(200).extract().asString();
        assertThat(listed)
                .contains(encId)
                .doesNotContain(Base64.getEncoder().encodeToString(enc))
                .doesNotContain("keyValue");

        // one holder protects (dir A256GCM with the whole key); jose4j and the other holder open it
        String env = protect(
                        "app",
                        Map.of("payload", b64("valve closed"), "encryptFor", List.of(encId), "contentSecurity", 1),
                        200)
                .getString("envelope");
        JsonWebEncryption jwe = new JsonWebEncryption();
        jwe.setCompactSerialization(env);
        jwe.setKey(new AesKey(enc));
        assertThat(jwe.getPlaintextString()).isEqualTo("valve closed");
        assertThat(new String(
                        Base64.getDecoder().decode(unprotect("other", env, 200).getString("payload")),
                        StandardCharsets.UTF_8))
                .isEqualTo("valve closed");
        // a device with the pre-provisioned MAC key (jose4j, HS384) is verified by a holder
        JsonWebSignature jws = new JsonWebSignature();
        jws.setAlgorithmHeaderValue(AlgorithmIdentifiers.HMAC_SHA384);
        jws.setKeyIdHeaderValue(macId);
        jws.setPayload("door open");
        jws.setKey(new HmacKey(mac));
        assertThat(unprotect("app", jws.getCompactSerialization(), 200).getList("keyIds", String.class))
                .containsExactly(macId);

        // two MACs from two key sources on one payload (JWS JSON): the pre-provisioned key and the fetchCredentials key
        String two = protect(
                        "app",
                        Map.of("payload", b64("both"), "macWith", List.of(macId, keId + "/25"), "contentSecurity", 2),
                        200)
                .getString("envelope");
        assertThat(io.m2mtrust.testsupport.JcaJose.verifyJws(
                        two,
                        h -> new javax.crypto.spec.SecretKeySpec(
                                h.get("kid").asText().equals(macId) ? mac : fetchedKey(25), "HmacSHA256")))
                .containsExactly(macId, keId + "/25");
        JsonPath atOther = as(Tokens.tenantAdmin(T))
                .body(Map.of("envelope", two, "contentSecurity", 2))
                .post("/api/v1/tenants/" + T + "/endpoints/other/esdata/unprotect")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        assertThat(atOther.getList("keyIds", String.class)).containsExactly(macId); // not a target of the fetched key

        // nested the other way round: jose4j signs (HS384, the MAC key) and encrypts the JWS (A256KW, cty JOSE); a
        // holder opens both layers
        JsonWebSignature inner = new JsonWebSignature();
        inner.setAlgorithmHeaderValue(AlgorithmIdentifiers.HMAC_SHA384);
        inner.setKeyIdHeaderValue(macId);
        inner.setPayload("nested from outside");
        inner.setKey(new HmacKey(mac));
        JsonWebEncryption outer = new JsonWebEncryption();
        outer.setAlgorithmHeaderValue(KeyManagementAlgorithmIdentifiers.A256KW);
        outer.setEncryptionMethodHeaderParameter("A256GCM");
        outer.setKeyIdHeaderValue(encId);
        outer.setContentTypeHeaderValue("JOSE");
        outer.setKey(new AesKey(enc));
        outer.setPlaintext(inner.getCompactSerialization());
        JsonPath nested = unprotect("other", outer.getCompactSerialization(), 200);
        assertThat(nested.getString("class")).isEqualTo("nested");
        assertThat(nested.getList("signedBy", String.class)).containsExactly(macId);
        assertThat(new String(Base64.getDecoder().decode(nested.getString("payload")), StandardCharsets.UTF_8))
                .isEqualTo("nested from outside");

        // the MAC key for encryption, the encryption key for a MAC: refused by SUID
        protect("app", Map.of("payload", b64("x"), "encryptFor", List.of(macId), "contentSecurity", 1), 403);
        protect("app", Map.of("payload", b64("x"), "macWith", encId, "contentSecurity", 1), 403);
        // a key the end-point does not hold
        String appOnly = "app-only@keys.keysrc-co.example";
        importKey(appOnly, 14, List.of(APP), enc, Instant.now().plusSeconds(3600), 201);
        protect("other", Map.of("payload", b64("x"), "encryptFor", List.of(appOnly), "contentSecurity", 1), 404);
        // expired
        sql("update preprovisioned_key set expires_at = now() - interval '1 second' where key_id = '" + appOnly + "'");
        protect("app", Map.of("payload", b64("x"), "encryptFor", List.of(appOnly), "contentSecurity", 1), 404);
        // revoked: refused at once, never reused
        as(Tokens.tenantAdmin(T)).delete(PRE + "/" + encId).then().statusCode(204);
        unprotect("other", env, 404);
        as(Tokens.tenantAdmin(T)).delete(PRE + "/" + encId).then().statusCode(404);
        importKey(encId, 14, List.of(APP), enc, Instant.now().plusSeconds(3600), 409);
        List<String> actions = as(Tokens.auditor(T))
                .get("/api/v1/tenants/" + T + "/audit?limit=1000")
                .jsonPath()
                .getList("action");
        assertThat(actions).contains("esdata.preprovisioned.import", "esdata.preprovisioned.revoke");
    }

    @Test
    void bad_imports_are_refused_and_nothing_is_stored() {
        byte[] k = new byte[32];
        Instant later = Instant.now().plusSeconds(3600);
        importKey("k1@maf." + T + ".m2m-trust.local", 14, List.of(APP), k, later, 400); // the MAF's namespace
        importKey("k1@" + MEF, 14, List.of(APP), k, later, 400); // the MEF's namespace
        importKey("no-domain", 14, List.of(APP), k, later, 400);
        importKey("k1@keys.keysrc-co.example", 24, List.of(APP), k, later, 400); // not a pre-provisioned SUID
        importKey("k1@keys.keysrc-co.example", 14, List.of(APP), new byte[20], later, 400); // odd length
        importKey("k1@keys.keysrc-co.example", 14, List.of(), k, later, 400);
        importKey("k1@keys.keysrc-co.example", 14, List.of(APP, APP), k, later, 400);
        importKey(
                "k1@keys.keysrc-co.example", 14, List.of(APP), k, Instant.now().minusSeconds(1), 400);
        Map<String, Object> notBase64 = new HashMap<>(Map.of(
                "keyId",
                "k1@keys.keysrc-co.example",
                "suid",
                14,
                "holders",
                List.of(APP),
                "keyValue",
                "%%%",
                "expiresAt",
                later.toString()));
        as(Tokens.tenantAdmin(T)).body(notBase64).post(PRE).then().statusCode(400);
        as(Tokens.auditor(T)).body(notBase64).post(PRE).then().statusCode(403);
        as(Tokens.tenantAdmin("someone-else"))
                .get(PRE)
                .then()
                .statusCode(org.hamcrest.Matchers.anyOf(org.hamcrest.Matchers.is(403), org.hamcrest.Matchers.is(404)));
        assertThat(as(Tokens.auditor(T)).get(PRE).asString()).doesNotContain("k1@keys.keysrc-co.example");
    }

    static JsonPath importKey(
            String keyId, int suid, List<String> holders, byte[] value, Instant expiresAt, int status) {
        return as(Tokens.tenantAdmin(T))
                .body(Map.of(
                        "keyId",
                        keyId,
                        "suid",
                        suid,
                        "holders",
                        holders,
                        "keyValue",
                        Base64.getEncoder().encodeToString(value),
                        "expiresAt",
                        expiresAt.toString()))
                .post(PRE)
                .then()
                .statusCode(status)
                .extract()
                .jsonPath();
    }

    private static void sql(String s) throws Exception {
        try (Connection c = PostgresResource.postgres()
                        .getDatabase("postgres", "m2mtrust")
                        .getConnection();
                Statement st = c.createStatement()) {
            st.execute(s);
        }
    }
}
