package io.m2mtrust.esdata;

import static io.m2mtrust.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;

import io.m2mtrust.testsupport.Api;
import io.m2mtrust.testsupport.JcaJose;
import io.m2mtrust.testsupport.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import org.jose4j.jwe.JsonWebEncryption;
import org.jose4j.jws.JsonWebSignature;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Service-held end-points with every key type of the seed's signature and encryption options: ES384,
 * ES512 and RS256/384/512 signatures made in the HSM (checked by jose4j with the certificate's key), and
 * envelopes for P-384 and RSA certificates opened with the private key in the HSM (ECDH derive; raw RSA
 * with the OAEP-SHA-256 decoding in software), including envelopes made by the independent JDK-only JOSE.
 */
@QuarkusTest
class EndpointKeyTypesTest {

    static final String T = "keytype-co";
    static final String EP = "/api/v1/tenants/" + T + "/endpoints";
    static boolean ready;

    @BeforeEach
    void endPoints() {
        if (ready) {
            return;
        }
        Api.createTenant(T);
        as(Tokens.tenantAdmin(T)).post("/api/v1/tenants/" + T + "/ca").then().statusCode(201);
        for (String[] e :
                new String[][] {{"plain", "EC_P256"}, {"p384", "EC_P384"}, {"p521", "EC_P521"}, {"rsa", "RSA_2048"}}) {
            as(Tokens.tenantAdmin(T))
                    .body(Map.of(
                            "id",
                            e[0],
                            "subjectType",
                            "FQDN",
                            "subjectId",
                            e[0] + ".keytype-co.example",
                            "keyType",
                            e[1]))
                    .post(EP)
                    .then()
                    .statusCode(201)
                    .body("keyType", org.hamcrest.Matchers.equalTo(e[1]));
        }
        ready = true;
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
                .post(EP + "/" + endpoint + "/esdata/protect")
                .then()
                .statusCode(status)
                .extract()
                .jsonPath();
    }

    static JsonPath unprotect(String endpoint, String envelope, int cs, int status) {
        return as(Tokens.tenantAdmin(T))
                .body(Map.of("envelope", envelope, "contentSecurity", cs))
                .post(EP + "/" + endpoint + "/esdata/unprotect")
                .then()
                .statusCode(status)
                .extract()
                .jsonPath();
    }

    static final String PAYLOAD =
            Base64.getEncoder().encodeToString("{\"m2m:cin\":{\"con\":\"7\"}}".getBytes(StandardCharsets.UTF_8));

    @Test
    void es384_es512_and_rs256_384_512_are_signed_in_the_hsm_and_verified_by_jose4j() throws Exception {
        for (String[] c : new String[][] {
            {"p384", "ES384"},
            {"p521", "ES512"},
            {"rsa", "RS256"},
            {"rsa", "RS384"},
            {"rsa", "RS512"},
            {"plain", "ES256"}
        }) {
            String env = protect(
                            c[0], Map.of("payload", PAYLOAD, "sign", true, "signAlg", c[1], "contentSecurity", 1), 200)
                    .getString("envelope");
            JsonWebSignature jws = new JsonWebSignature();
            jws.setCompactSerialization(env);
            jws.setKey(certificateOf(c[0] + ".keytype-co.example").getPublicKey());
            assertThat(jws.getAlgorithmHeaderValue()).isEqualTo(c[1]);
            assertThat(jws.verifySignature()).as(c[1]).isTrue();
            // and another end-point verifies it by x5t#S256 from the tenant's store
            assertThat(unprotect("plain", env, 1, 200).getString("class")).isEqualTo("signature");
        }
        // the default algorithm follows the key type; an algorithm the key cannot make is refused
        String def = protect("p384", Map.of("payload", PAYLOAD, "sign", true, "contentSecurity", 1), 200)
                .getString("envelope");
        assertThat(new String(
                        Base64.getUrlDecoder().decode(def.substring(0, def.indexOf('.'))), StandardCharsets.UTF_8))
                .contains("ES384");
        protect("rsa", Map.of("payload", PAYLOAD, "sign", true, "signAlg", "ES256", "contentSecurity", 1), 400);
        protect("p384", Map.of("payload", PAYLOAD, "sign", true, "signAlg", "RS256", "contentSecurity", 1), 400);
        // the RSA certificate says keyEncipherment, the EC ones keyAgreement
        assertThat(certificateOf("rsa.keytype-co.example").getKeyUsage()[2]).isTrue();
        assertThat(certificateOf("p384.keytype-co.example").getKeyUsage()[4]).isTrue();
    }

    @Test
    void envelopes_for_p384_p521_and_rsa_certificates_are_opened_with_the_key_in_the_hsm() throws Exception {
        for (String target : List.of("p384", "p521", "rsa")) {
            for (int cs : new int[] {1, 2}) {
                String env = protect(
                                "plain",
                                Map.of(
                                        "payload",
                                        PAYLOAD,
                                        "encryptForCertificatesOf",
                                        List.of(target + ".keytype-co.example"),
                                        "contentSecurity",
                                        cs),
                                200)
                        .getString("envelope");
                JsonPath u = unprotect(target, env, cs, 200);
                assertThat(u.getString("payload")).as(target + " cs " + cs).isEqualTo(PAYLOAD);
                unprotect("plain", env, cs, 404); // not for it
            }
        }
        String rsaEnv = protect(
                        "plain",
                        Map.of(
                                "payload",
                                PAYLOAD,
                                "encryptForCertificatesOf",
                                List.of("rsa.keytype-co.example"),
                                "contentSecurity",
                                1),
                        200)
                .getString("envelope");
        JsonWebEncryption jwe = new JsonWebEncryption();
        jwe.setCompactSerialization(rsaEnv);
        assertThat(jwe.getAlgorithmHeaderValue()).isEqualTo("RSA-OAEP-256");
        // a changed encrypted key (the OAEP block) and a truncated one are refused without detail
        String[] p = rsaEnv.split("\\.");
        byte[] ek = Base64.getUrlDecoder().decode(p[1]);
        ek[ek.length / 2] ^= 1;
        String bad = p[0] + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(ek) + "." + p[2] + "." + p[3]
                + "." + p[4];
        unprotect("rsa", bad, 1, 422);
        String shortKey =
                p[0] + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(java.util.Arrays.copyOf(ek, 100))
                        + "." + p[2] + "." + p[3] + "." + p[4];
        unprotect("rsa", shortKey, 1, 422);

        // the independent JDK-only JOSE: one JSON envelope for the RSA and the P-384 end-points, with AAD
        X509Certificate rsa = certificateOf("rsa.keytype-co.example");
        X509Certificate p384 = certificateOf("p384.keytype-co.example");
        byte[] plain = "from outside".getBytes(StandardCharsets.UTF_8);
        String theirs = JcaJose.makeJwe(
                plain,
                "{\"ri\":\"x\"}".getBytes(StandardCharsets.UTF_8),
                "A256GCM",
                null,
                List.of(
                        new JcaJose.EncryptFor(
                                "RSA-OAEP-256",
                                "x5t#S256",
                                new JoseEnvelopes.CertificateRecipient(rsa).thumbprint(),
                                rsa.getPublicKey()),
                        new JcaJose.EncryptFor(
                                "ECDH-ES+A256KW",
                                "x5t#S256",
                                new JoseEnvelopes.CertificateRecipient(p384).thumbprint(),
                                p384.getPublicKey())));
        for (String target : List.of("rsa", "p384")) {
            assertThat(Base64.getDecoder()
                            .decode(unprotect(target, theirs, 2, 200).getString("payload")))
                    .isEqualTo(plain);
        }
    }

    @Test
    void nested_rs256_then_ecdh_es_for_p521_and_bad_key_types() throws Exception {
        JsonPath n = protect(
                "rsa",
                Map.of(
                        "payload",
                        PAYLOAD,
                        "sign",
                        true,
                        "signAlg",
                        "RS384",
                        "encryptForCertificatesOf",
                        List.of("p521.keytype-co.example"),
                        "contentSecurity",
                        1),
                200);
        JsonPath u = unprotect("p521", n.getString("envelope"), 1, 200);
        assertThat(u.getString("class")).isEqualTo("nested");
        assertThat(u.getString("payload")).isEqualTo(PAYLOAD);
        as(Tokens.tenantAdmin(T))
                .body(Map.of(
                        "id",
                        "dsa",
                        "subjectType",
                        "FQDN",
                        "subjectId",
                        "dsa.keytype-co.example",
                        "keyType",
                        "DSA_1024"))
                .post(EP)
                .then()
                .statusCode(400);
        as(Tokens.tenantAdmin(T))
                .body(Map.of(
                        "id",
                        "weak",
                        "subjectType",
                        "FQDN",
                        "subjectId",
                        "weak.keytype-co.example",
                        "keyType",
                        "RSA_1024"))
                .post(EP)
                .then()
                .statusCode(400);
    }
}
