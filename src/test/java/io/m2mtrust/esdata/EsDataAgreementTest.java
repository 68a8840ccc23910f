package io.m2mtrust.esdata;

import static io.m2mtrust.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.m2mtrust.testsupport.Api;
import io.m2mtrust.testsupport.NodeJose;
import io.m2mtrust.testsupport.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
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
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What an independent client found (issue 16), through the admin REST API of service-held end-points, with
 * pre-provisioned keys of 16, 32 and 64 bytes: the JSON {@code aad} member both ways with npm's {@code jose};
 * the dry-run saying exactly what protect does — the same algorithms, or the same refusal and status — for
 * every option, by end-point id; a key held for another usage answering 403, and a corrupted {@code alg} named.
 */
@QuarkusTest
class EsDataAgreementTest {

    static final String T = "agree-co";
    static final String APP = "app.agree-co.example";
    static final String OTHER = "other.agree-co.example";
    static final String ENC16 = "enc16@keys.agree-co.example";
    static final String ENC32 = "enc32@keys.agree-co.example";
    static final String MAC16 = "mac16@keys.agree-co.example";
    static final String MAC64 = "mac64@keys.agree-co.example";
    static final ObjectMapper JSON = new ObjectMapper();
    static final Map<String, byte[]> KEYS = new HashMap<>();

    @BeforeEach
    void tenantEndPointsAndKeys() {
        if (!KEYS.isEmpty()) {
            return;
        }
        Api.ensureTenant(T);
        as(Tokens.tenantAdmin(T)).post("/api/v1/tenants/" + T + "/ca").then().statusCode(201);
        for (String[] ep : new String[][] {{"app", APP}, {"other", OTHER}}) {
            as(Tokens.tenantAdmin(T))
                    .body(Map.of("id", ep[0], "subjectType", "FQDN", "subjectId", ep[1]))
                    .post("/api/v1/tenants/" + T + "/endpoints")
                    .then()
                    .statusCode(201);
        }
        Map<String, Object[]> keys = Map.of(
                ENC16,
                new Object[] {14, 16},
                ENC32,
                new Object[] {14, 32},
                MAC16,
                new Object[] {15, 16},
                MAC64,
                new Object[] {15, 64});
        keys.forEach((kid, v) -> {
            byte[] k = new byte[(int) v[1]];
            new SecureRandom().nextBytes(k);
            KEYS.put(kid, k);
            as(Tokens.tenantAdmin(T))
                    .body(Map.of(
                            "keyId",
                            kid,
                            "suid",
                            v[0],
                            "holders",
                            List.of(APP, OTHER),
                            "keyValue",
                            Base64.getEncoder().encodeToString(k),
                            "expiresAt",
                            Instant.now().plusSeconds(3600).toString()))
                    .post("/api/v1/tenants/" + T + "/preprovisioned-keys")
                    .then()
                    .statusCode(201);
        });
    }

    static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    static String b64u(byte[] b) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    static Response protect(String endpoint, Map<String, Object> body) {
        return as(Tokens.tenantAdmin(T))
                .body(body)
                .post("/api/v1/tenants/" + T + "/endpoints/" + endpoint + "/esdata/protect");
    }

    static Response unprotect(String endpoint, String envelope, int contentSecurity) {
        return as(Tokens.tenantAdmin(T))
                .body(Map.of("envelope", envelope, "contentSecurity", contentSecurity))
                .post("/api/v1/tenants/" + T + "/endpoints/" + endpoint + "/esdata/unprotect");
    }

    static JsonPath dryRun(String endPoint, Map<String, Object> request) {
        return as(Tokens.auditor(T))
                .body(Map.of("endPoint", endPoint, "request", request))
                .post("/api/v1/tenants/" + T + "/esdata/dry-run")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
    }

    // ---------------------------------------------------------------- 1: aad, both ways, with an independent library

    @Test
    void aad_is_base64url_on_the_wire_and_npm_jose_opens_ours_and_we_open_theirs() throws Exception {
        String env = protect(
                        "app",
                        Map.of(
                                "payload",
                                b64("valve closed"),
                                "aad",
                                b64("aad-hello"),
                                "encryptFor",
                                List.of(ENC32),
                                "contentSecurity",
                                2))
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .getString("envelope");
        JsonNode jwe = JSON.readTree(env);
        assertThat(jwe.get("aad").asText())
                .isEqualTo(b64u("aad-hello".getBytes(StandardCharsets.US_ASCII)))
                .isEqualTo("YWFkLWhlbGxv");
        JsonNode opened =
                NodeJose.call(Map.of("op", "generalDecrypt", "jwe", jwe, "keys", Map.of(ENC32, b64u(KEYS.get(ENC32)))));
        assertThat(new String(
                        Base64.getUrlDecoder().decode(opened.get("plaintext").asText()), StandardCharsets.UTF_8))
                .as(opened.toString())
                .isEqualTo("valve closed");
        assertThat(new String(Base64.getUrlDecoder().decode(opened.get("aad").asText()), StandardCharsets.US_ASCII))
                .isEqualTo("aad-hello");

        // theirs: a JSON AAD (RFC 7520 §5.10 style), the recipient's alg in its own header
        byte[] aad = "[\"vcard\",[[\"fn\",{},\"text\",\"Meriadoc\"]]]".getBytes(StandardCharsets.UTF_8);
        JsonNode made = NodeJose.call(Map.of(
                "op",
                "generalEncrypt",
                "plaintext",
                b64u("door open".getBytes(StandardCharsets.UTF_8)),
                "aad",
                b64u(aad),
                "enc",
                "A128GCM",
                "recipients",
                List.of(Map.of("alg", "A128KW", "kid", ENC16, "key", b64u(KEYS.get(ENC16))))));
        JsonPath in = unprotect("other", made.get("jwe").toString(), 2)
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        assertThat(new String(Base64.getDecoder().decode(in.getString("payload")), StandardCharsets.UTF_8))
                .isEqualTo("door open");
        // an aad member that is not base64url is malformed (400), not authenticated as text
        ObjectNode raw = (ObjectNode) made.get("jwe").deepCopy();
        raw.put("aad", "aad-hello!");
        Api.assertProblem(unprotect("other", raw.toString(), 2), 400, "esdata");
        // a well-formed other aad: the tag does not verify (422)
        raw.put("aad", b64u("[\"vcard\",[]]".getBytes(StandardCharsets.UTF_8)));
        Api.assertProblem(unprotect("other", raw.toString(), 2), 422, "esdata");
    }

    // ---------------------------------------------------------------- 3: the dry-run is protect without the last step

    @Test
    void the_dry_run_by_end_point_id_says_exactly_what_protect_does_for_every_option() throws Exception {
        List<Map<String, Object>> cases = List.of(
                req("encryptFor", List.of(ENC16, ENC32), "contentSecurity", 2), // mixed sizes: per-recipient key wrap
                req(
                        "encryptFor",
                        List.of(ENC16, ENC32),
                        "alg",
                        "A256KW",
                        "contentSecurity",
                        2), // refused: 16 bytes do not fit A256KW
                req("encryptFor", List.of(ENC16), "contentSecurity", 1), // dir + A128GCM
                req("encryptFor", List.of(ENC16), "enc", "A256GCM", "contentSecurity", 1), // A128KW + A256GCM
                req(
                        "encryptFor",
                        List.of(ENC32),
                        "alg",
                        "dir",
                        "enc",
                        "A128GCM",
                        "contentSecurity",
                        1), // refused: dir needs 16
                req("encryptFor", List.of(ENC32), "alg", "A999KW", "contentSecurity", 1), // refused by the policy: 403
                req("encryptFor", List.of(ENC16), "aad", b64("x"), "contentSecurity", 1), // refused: AAD needs JSON
                req("encryptFor", List.of(MAC64), "contentSecurity", 1), // refused: a MAC key (SUID 15): 403
                req("encryptFor", List.of("nobody@keys.agree-co.example"), "contentSecurity", 1), // unknown: 404
                req("macWith", List.of(MAC16), "contentSecurity", 1), // refused: 16 bytes < HS256's 32
                req("macWith", List.of(MAC64), "alg", "HS512", "contentSecurity", 1),
                req("macWith", List.of(MAC64, ENC32), "contentSecurity", 2), // refused: ENC32 is not a MAC key
                req("sign", true, "contentSecurity", 1),
                req("sign", true, "signAlg", "RS256", "contentSecurity", 1), // refused: an EC key
                req("sign", true, "macWith", List.of(MAC64), "contentSecurity", 2),
                req(
                        "sign",
                        true,
                        "encryptForCertificatesOf",
                        List.of(OTHER),
                        "contentSecurity",
                        1), // nested to a certificate
                req("sign", true, "encryptFor", List.of(ENC16, ENC32), "contentSecurity", 2), // nested, mixed key sizes
                req("sign", true, "encryptFor", List.of(ENC16), "alg", "A256KW", "contentSecurity", 2), // refused
                req("encryptForCertificatesOf", List.of(OTHER), "aad", b64("ri"), "contentSecurity", 2),
                req("encryptForCertificatesOf", List.of("nobody.agree-co.example"), "contentSecurity", 1)); // 404
        for (Map<String, Object> c : cases) {
            Map<String, Object> body = new LinkedHashMap<>(c);
            body.put("payload", b64("{\"kWh\":4711}"));
            JsonPath dry = dryRun("app", body);
            Response real = protect("app", body);
            String what = c + " → dry " + dry.prettify() + " protect " + real.asString();
            assertThat(dry.getBoolean("wouldSucceed")).as(what).isEqualTo(real.statusCode() == 200);
            assertThat(dry.getString("envelope")).as(what).isNull();
            if (real.statusCode() == 200) {
                JsonPath p = real.jsonPath();
                String alg = dry.getString("alg");
                if (alg != null) {
                    assertThat(alg)
                            .as(what)
                            .isEqualTo(envelopeAlgs(p.getString("envelope"), p.getInt("contentSecurity")));
                }
                assertThat(dry.getString("enc"))
                        .as(what)
                        .isEqualTo(
                                p.getString("enc") != null
                                        ? p.getString("enc")
                                        : envelopeEnc(p.getString("envelope"), p.getInt("contentSecurity")));
            } else {
                assertThat(dry.getInt("protectStatus")).as(what).isEqualTo(real.statusCode());
                assertThat(String.valueOf(dry.getList("problems")))
                        .as(what)
                        .isEqualTo(real.jsonPath().getString("detail"));
            }
        }
        // the mixed-size envelope opens with npm jose for each recipient
        String mixed = protect(
                        "app", req("payload", b64("both"), "encryptFor", List.of(ENC16, ENC32), "contentSecurity", 2))
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .getString("envelope");
        for (String kid : List.of(ENC16, ENC32)) {
            JsonNode opened = NodeJose.call(Map.of(
                    "op", "generalDecrypt", "jwe", JSON.readTree(mixed), "keys", Map.of(kid, b64u(KEYS.get(kid)))));
            assertThat(new String(
                            Base64.getUrlDecoder()
                                    .decode(opened.get("plaintext").asText()),
                            StandardCharsets.UTF_8))
                    .as(opened.toString())
                    .isEqualTo("both");
        }
        // a single 16-byte key with defaults: dir + A128GCM (jose4j opens it)
        String one = protect("app", req("payload", b64("one"), "encryptFor", List.of(ENC16), "contentSecurity", 1))
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .getString("envelope");
        JsonWebEncryption jwe = new JsonWebEncryption();
        jwe.setCompactSerialization(one);
        jwe.setKey(new AesKey(KEYS.get(ENC16)));
        assertThat(jwe.getPlaintextString()).isEqualTo("one");
        assertThat(jwe.getEncryptionMethodHeaderParameter()).isEqualTo("A128GCM");
        // by end-point id the keys are its identity's (usable), by identity the same; an identity cannot sign
        JsonPath byId = dryRun("app", req("payload", "AA==", "encryptFor", List.of(ENC32), "contentSecurity", 1));
        assertThat(byId.getList("keys.usable")).containsExactly(true);
        assertThat(dryRun(APP, req("payload", "AA==", "encryptFor", List.of(ENC32), "contentSecurity", 1))
                        .getList("keys.usable"))
                .containsExactly(true);
        JsonPath identitySigns = dryRun(APP, req("payload", "AA==", "sign", true, "contentSecurity", 1));
        assertThat(identitySigns.getBoolean("wouldSucceed")).isFalse();
        assertThat(identitySigns.getInt("protectStatus")).isEqualTo(400);
        // the dry-run opened no key and signed nothing: no HSM signature, no key use in the audit
        List<String> actions = as(Tokens.auditor(T))
                .get("/api/v1/tenants/" + T + "/audit?limit=1000")
                .jsonPath()
                .getList("action");
        assertThat(actions).doesNotContain("esdata.dry-run");
    }

    static Map<String, Object> req(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    /** The key-management algorithms of an envelope (per recipient, joined like the dry-run's), read independently of the service. */
    static String envelopeAlgs(String envelope, int cs) throws Exception {
        if (cs == 1) {
            return header(envelope.substring(0, envelope.indexOf('.')))
                    .get("alg")
                    .asText();
        }
        JsonNode j = JSON.readTree(
                cs == 3 ? new String(Base64.getDecoder().decode(envelope), StandardCharsets.UTF_8) : envelope);
        if (j.has("signatures")) {
            return header(j.get("signatures").get(0).get("protected").asText())
                    .get("alg")
                    .asText();
        }
        JsonNode p = header(j.get("protected").asText());
        java.util.LinkedHashSet<String> algs = new java.util.LinkedHashSet<>();
        for (JsonNode r : j.get("recipients")) {
            algs.add(
                    p.has("alg")
                            ? p.get("alg").asText()
                            : r.get("header").get("alg").asText());
        }
        return String.join(",", algs);
    }

    static String envelopeEnc(String envelope, int cs) throws Exception {
        if (cs == 1) {
            JsonNode h = header(envelope.substring(0, envelope.indexOf('.')));
            return h.has("enc") ? h.get("enc").asText() : null;
        }
        JsonNode j = JSON.readTree(
                cs == 3 ? new String(Base64.getDecoder().decode(envelope), StandardCharsets.UTF_8) : envelope);
        return j.has("protected") && header(j.get("protected").asText()).has("enc")
                ? header(j.get("protected").asText()).get("enc").asText()
                : null;
    }

    static JsonNode header(String b64u) throws Exception {
        return JSON.readTree(Base64.getUrlDecoder().decode(b64u));
    }

    // ---------------------------------------------------------------- 4: wrong usage is 403, a corrupted alg is named

    @Test
    void a_key_held_for_another_usage_is_403_not_unknown_and_a_corrupted_alg_is_named() throws Exception {
        // a JWE under the MAC key (SUID 15), made by jose4j
        JsonWebEncryption jwe = new JsonWebEncryption();
        jwe.setAlgorithmHeaderValue(KeyManagementAlgorithmIdentifiers.DIRECT);
        jwe.setEncryptionMethodHeaderParameter("A256GCM");
        jwe.setKeyIdHeaderValue(MAC64);
        jwe.setKey(new AesKey(java.util.Arrays.copyOf(KEYS.get(MAC64), 32)));
        jwe.setPlaintext("x");
        Response r = unprotect("app", jwe.getCompactSerialization(), 1);
        Api.assertProblem(r, 403, "esdata");
        assertThat(r.jsonPath().getString("detail")).contains(MAC64).contains("SUID 15");
        // a MAC under the encryption key (SUID 14)
        JsonWebSignature jws = new JsonWebSignature();
        jws.setAlgorithmHeaderValue(AlgorithmIdentifiers.HMAC_SHA256);
        jws.setKeyIdHeaderValue(ENC32);
        jws.setPayload("y");
        jws.setKey(new HmacKey(KEYS.get(ENC32)));
        Response m = unprotect("app", jws.getCompactSerialization(), 1);
        Api.assertProblem(m, 403, "esdata");
        assertThat(m.jsonPath().getString("detail")).contains(ENC32).contains("SUID 14");
        // protect with the wrong usage: 403 as well (unchanged)
        Api.assertProblem(
                protect("app", req("payload", b64("x"), "encryptFor", List.of(MAC64), "contentSecurity", 1)),
                403,
                "esdata");

        // a corrupted alg: the refusal quotes it (escaped), a non-string alg is malformed
        String good = protect(
                        "app",
                        req("payload", b64("z"), "encryptFor", List.of(ENC32), "alg", "A256KW", "contentSecurity", 1))
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .getString("envelope");
        String[] parts = good.split("\\.", -1);
        ObjectNode h = (ObjectNode) header(parts[0]);
        h.put("alg", "A256K\u0000W");
        Response corrupted = unprotect("app", b64u(JSON.writeValueAsBytes(h)) + good.substring(good.indexOf('.')), 1);
        Api.assertProblem(corrupted, 403, "esdata");
        assertThat(corrupted.jsonPath().getString("detail"))
                .contains("alg \"A256K\\u0000W\" is not allowed")
                .doesNotContain("null");
        h.put("alg", 256);
        Response notText = unprotect("app", b64u(JSON.writeValueAsBytes(h)) + good.substring(good.indexOf('.')), 1);
        Api.assertProblem(notText, 400, "esdata");
        assertThat(notText.jsonPath().getString("detail")).contains("no alg").doesNotContain("alg null");
        // in JSON, a recipient's corrupted alg is named too
        String json = protect(
                        "app", req("payload", b64("z"), "encryptFor", List.of(ENC16, ENC32), "contentSecurity", 2))
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .getString("envelope");
        ObjectNode j = (ObjectNode) JSON.readTree(json);
        ((ObjectNode) j.get("recipients").get(0).get("header")).put("alg", "A128KW\"; drop");
        Response jr = unprotect("app", j.toString(), 2);
        Api.assertProblem(jr, 403, "esdata");
        assertThat(jr.jsonPath().getString("detail")).contains("alg \"A128KW\\u0022; drop\" is not allowed");
    }
}
