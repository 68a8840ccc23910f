package io.m2mtrust.esdata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.esdata.JoseEnvelopes.Policy;
import io.m2mtrust.esdata.JoseEnvelopes.Recipient;
import io.m2mtrust.esdata.JoseEnvelopes.Refused;
import io.m2mtrust.esdata.JoseEnvelopes.Serialization;
import org.jose4j.jwe.ContentEncryptionAlgorithmIdentifiers;
import org.jose4j.jwe.JsonWebEncryption;
import org.jose4j.jwe.KeyManagementAlgorithmIdentifiers;
import org.jose4j.jws.AlgorithmIdentifiers;
import org.jose4j.jws.JsonWebSignature;
import org.jose4j.keys.AesKey;
import org.jose4j.keys.HmacKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * ESData envelopes with symmetric keys: RFC 7520 vectors, every option round trip, the independent
 * jose4j implementation both ways, an independent JCA-only opening of multi-recipient JSON envelopes,
 * and the bad-input cases.
 */
class JoseEnvelopesTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final Policy POLICY = new Policy(
            Set.of("dir", "A128KW", "A192KW", "A256KW", "HS256", "HS384", "HS512"),
            Set.of("A128GCM", "A192GCM", "A256GCM"),
            4,
            65536,
            200_000);
    static final SecureRandom RANDOM = new SecureRandom();

    static byte[] random(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    static JsonNode vector(String name) throws Exception {
        try (InputStream in = JoseEnvelopesTest.class.getResourceAsStream("/vectors/rfc7520/" + name)) {
            return JSON.readTree(in);
        }
    }

    static byte[] k(JsonNode v) {
        return Base64.getUrlDecoder().decode(v.get("key").get("k").asText());
    }

    static JoseEnvelopes.KeyLookup only(String kid, byte[] key) {
        return id -> id.equals(kid) ? Optional.of(SecretBytes.copyOf(key)) : Optional.empty();
    }

    // ---------------------------------------------------------------- RFC 7520 vectors

    @Test
    void rfc7520_4_4_hmac_verifies_and_ours_is_the_same_mac_over_our_header() throws Exception {
        JsonNode v = vector("4_4_hs256.json");
        String kid = v.get("key").get("kid").asText();
        byte[] payload = v.get("payload").asText().getBytes(StandardCharsets.UTF_8);
        assertThat(SignatureVerification.verify(
                        v.get("compact").asText(), Serialization.COMPACT, only(kid, k(v)), POLICY))
                .isEqualTo(payload);
        // our header orders its members differently ({"kid":…,"alg":…}), so the compact form differs; the payload part
        // is the vector's and the MAC is HMAC-SHA256 over exactly our signing input (checked with plain JCA)
        String ours = Signatures.mac(
                payload, new Recipient(kid, SecretBytes.copyOf(k(v))), "HS256", Serialization.COMPACT, POLICY);
        String[] p = ours.split("\\.");
        assertThat(p[1]).isEqualTo(v.get("compact").asText().split("\\.")[1]);
        javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(k(v), "HmacSHA256"));
        byte[] expected = mac.doFinal((p[0] + "." + p[1]).getBytes(StandardCharsets.US_ASCII));
        assertThat(Base64.getUrlDecoder().decode(p[2])).isEqualTo(expected);
    }

    @Test
    void rfc7520_5_6_and_5_8_decrypt() throws Exception {
        for (String name : List.of("5_6_dir_a128gcm.json", "5_8_a128kw_a128gcm.json")) {
            JsonNode v = vector(name);
            String kid = v.get("key").get("kid").asText();
            byte[] plain = v.get("plaintext").asText().getBytes(StandardCharsets.UTF_8);
            assertThat(SymmetricEnvelopes.decrypt(
                            v.get("compact").asText(), Serialization.COMPACT, only(kid, k(v)), POLICY))
                    .as(name)
                    .isEqualTo(plain);
            if (v.has("json")) {
                assertThat(SymmetricEnvelopes.decrypt(
                                v.get("json").toString(), Serialization.JSON, only(kid, k(v)), POLICY))
                        .as(name)
                        .isEqualTo(plain);
            }
        }
    }

    // ---------------------------------------------------------------- every symmetric option

    @ParameterizedTest
    @CsvSource({
        "dir,A128GCM,16",
        "dir,A192GCM,24",
        "dir,A256GCM,32",
        "A128KW,A128GCM,16",
        "A192KW,A256GCM,24",
        "A256KW,A256GCM,32"
    })
    void encryption_round_trips_in_every_serialization(String alg, String enc, int keyLength) throws Exception {
        byte[] key = random(keyLength);
        byte[] payload = random(1024);
        for (Serialization s : Serialization.values()) {
            String env = SymmetricEnvelopes.encrypt(
                    payload,
                    null,
                    List.of(new Recipient("k1@maf.acme.example", SecretBytes.copyOf(key))),
                    alg,
                    enc,
                    s,
                    POLICY,
                    null,
                    null);
            assertThat(SymmetricEnvelopes.decrypt(env, s, only("k1@maf.acme.example", key), POLICY))
                    .as(alg + " " + s)
                    .isEqualTo(payload);
        }
    }

    @ParameterizedTest
    @CsvSource({"HS256,32", "HS384,48", "HS512,64"})
    void mac_round_trips_in_every_serialization(String alg, int keyLength) throws Exception {
        byte[] key = random(keyLength);
        byte[] payload = "temperature=21.5".getBytes(StandardCharsets.UTF_8);
        for (Serialization s : Serialization.values()) {
            String env = Signatures.mac(
                    payload, new Recipient("m@maf.acme.example", SecretBytes.copyOf(key)), alg, s, POLICY);
            assertThat(SignatureVerification.verify(env, s, only("m@maf.acme.example", key), POLICY))
                    .isEqualTo(payload);
        }
    }

    @Test
    void three_recipients_each_open_it_and_aad_is_bound() throws Exception {
        Map<String, byte[]> keys = new HashMap<>();
        List<Recipient> rs = new ArrayList<>();
        for (String kid : List.of("a@maf.acme.example", "b@maf.acme.example", "c@maf.acme.example")) {
            keys.put(kid, random(32));
            rs.add(new Recipient(kid, SecretBytes.copyOf(keys.get(kid))));
        }
        byte[] payload = random(300);
        byte[] aad = "{\"ri\":\"/cse-in/cnt-1\"}".getBytes(StandardCharsets.UTF_8);
        String env = SymmetricEnvelopes.encrypt(
                payload, aad, rs, "A256KW", "A256GCM", Serialization.JSON, POLICY, null, null);
        for (Map.Entry<String, byte[]> e : keys.entrySet()) {
            assertThat(SymmetricEnvelopes.decrypt(env, Serialization.JSON, only(e.getKey(), e.getValue()), POLICY))
                    .isEqualTo(payload);
            // independently: RFC 7516 §5.2 with plain JCA (AES key unwrap, AES-GCM with the JSON AAD)
            assertThat(openWithJca(env, e.getKey(), e.getValue())).isEqualTo(payload);
        }
        // a target not among the recipients
        assertThatThrownBy(() -> SymmetricEnvelopes.decrypt(
                        env, Serialization.JSON, only("d@maf.acme.example", random(32)), POLICY))
                .isInstanceOf(Refused.class)
                .extracting(x -> ((Refused) x).reason)
                .isEqualTo(Refused.Reason.UNKNOWN_KEY);
        // the AAD is authenticated: changing it breaks the tag
        ObjectNode tampered = (ObjectNode) JSON.readTree(env);
        tampered.put(
                "aad",
                Base64.getUrlEncoder()
                        .withoutPadding()
                        .encodeToString("{\"ri\":\"/other\"}".getBytes(StandardCharsets.UTF_8)));
        assertThatThrownBy(() -> SymmetricEnvelopes.decrypt(
                        tampered.toString(),
                        Serialization.JSON,
                        only("a@maf.acme.example", keys.get("a@maf.acme.example")),
                        POLICY))
                .isInstanceOf(Refused.class)
                .extracting(x -> ((Refused) x).reason)
                .isEqualTo(Refused.Reason.INTEGRITY);
    }

    static byte[] openWithJca(String env, String kid, byte[] kek) throws Exception {
        JsonNode j = JSON.readTree(env);
        Base64.Decoder d = Base64.getUrlDecoder();
        for (JsonNode r : j.get("recipients")) {
            if (!kid.equals(r.get("header").get("kid").asText())) {
                continue;
            }
            Cipher unwrap = Cipher.getInstance("AESWrap");
            unwrap.init(Cipher.UNWRAP_MODE, new SecretKeySpec(kek, "AES"));
            java.security.Key cek =
                    unwrap.unwrap(d.decode(r.get("encrypted_key").asText()), "AES", Cipher.SECRET_KEY);
            Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
            gcm.init(
                    Cipher.DECRYPT_MODE,
                    cek,
                    new GCMParameterSpec(128, d.decode(j.get("iv").asText())));
            String aad = j.get("protected").asText()
                    + (j.has("aad") ? "." + j.get("aad").asText() : "");
            gcm.updateAAD(aad.getBytes(StandardCharsets.US_ASCII));
            gcm.update(d.decode(j.get("ciphertext").asText()));
            return gcm.doFinal(d.decode(j.get("tag").asText()));
        }
        throw new AssertionError("no recipient " + kid);
    }

    // ---------------------------------------------------------------- jose4j, both ways

    @Test
    void jose4j_opens_ours_and_we_open_jose4js() throws Exception {
        byte[] payload = "ours and theirs".getBytes(StandardCharsets.UTF_8);
        for (String[] c :
                new String[][] {{"dir", "A256GCM", "32"}, {"A128KW", "A128GCM", "16"}, {"A256KW", "A256GCM", "32"}}) {
            byte[] key = random(Integer.parseInt(c[2]));
            String ours = SymmetricEnvelopes.encrypt(
                    payload,
                    null,
                    List.of(new Recipient("x@maf.acme.example", SecretBytes.copyOf(key))),
                    c[0],
                    c[1],
                    Serialization.COMPACT,
                    POLICY,
                    null,
                    null);
            JsonWebEncryption theirs = new JsonWebEncryption();
            theirs.setCompactSerialization(ours);
            theirs.setKey(new AesKey(key));
            assertThat(theirs.getPlaintextBytes()).as(c[0]).isEqualTo(payload);

            JsonWebEncryption made = new JsonWebEncryption();
            made.setAlgorithmHeaderValue(c[0].equals("dir") ? KeyManagementAlgorithmIdentifiers.DIRECT : c[0]);
            made.setEncryptionMethodHeaderParameter(c[1]);
            made.setKeyIdHeaderValue("x@maf.acme.example");
            made.setKey(new AesKey(key));
            made.setPlaintext(payload);
            assertThat(SymmetricEnvelopes.decrypt(
                            made.getCompactSerialization(),
                            Serialization.COMPACT,
                            only("x@maf.acme.example", key),
                            POLICY))
                    .isEqualTo(payload);
        }
        byte[] mac = random(32);
        String ours = Signatures.mac(
                payload,
                new Recipient("m@maf.acme.example", SecretBytes.copyOf(mac)),
                "HS256",
                Serialization.COMPACT,
                POLICY);
        JsonWebSignature jws = new JsonWebSignature();
        jws.setCompactSerialization(ours);
        jws.setKey(new HmacKey(mac));
        assertThat(jws.verifySignature()).isTrue();
        JsonWebSignature theirs = new JsonWebSignature();
        theirs.setAlgorithmHeaderValue(AlgorithmIdentifiers.HMAC_SHA256);
        theirs.setKeyIdHeaderValue("m@maf.acme.example");
        theirs.setPayloadBytes(payload);
        theirs.setKey(new HmacKey(mac));
        assertThat(SignatureVerification.verify(
                        theirs.getCompactSerialization(),
                        Serialization.COMPACT,
                        only("m@maf.acme.example", mac),
                        POLICY))
                .isEqualTo(payload);
        assertThat(ContentEncryptionAlgorithmIdentifiers.AES_256_GCM).isEqualTo("A256GCM");
    }

    // ---------------------------------------------------------------- bad input

    @Test
    void policy_is_checked_before_any_key_lookup() {
        JoseEnvelopes.KeyLookup mustNotBeCalled = kid -> {
            throw new AssertionError("key looked up for a refused envelope");
        };
        Policy strict = new Policy(Set.of("A256KW"), Set.of("A256GCM"), 1, 100, 1000);
        String noneJws = Base64.getUrlEncoder().withoutPadding().encodeToString("{\"alg\":\"none\"}".getBytes())
                + ".eyJ4IjoxfQ.";
        assertRefused(
                () -> SignatureVerification.verify(noneJws, Serialization.COMPACT, mustNotBeCalled, POLICY),
                Refused.Reason.POLICY);
        String dirJwe = header("{\"alg\":\"dir\",\"enc\":\"A128GCM\",\"kid\":\"k\"}")
                + "..AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA";
        assertRefused(
                () -> SymmetricEnvelopes.decrypt(dirJwe, Serialization.COMPACT, mustNotBeCalled, strict),
                Refused.Reason.POLICY);
        String crit = header("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"crit\":[\"exp\"],\"exp\":1}")
                + ".AAAA.AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA";
        assertRefused(
                () -> SymmetricEnvelopes.decrypt(crit, Serialization.COMPACT, mustNotBeCalled, strict),
                Refused.Reason.POLICY);
        String zip = header("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"zip\":\"DEF\"}")
                + ".AAAA.AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA";
        assertRefused(
                () -> SymmetricEnvelopes.decrypt(zip, Serialization.COMPACT, mustNotBeCalled, strict),
                Refused.Reason.POLICY);
        assertRefused(
                () -> SymmetricEnvelopes.decrypt("x".repeat(1001), Serialization.COMPACT, mustNotBeCalled, strict),
                Refused.Reason.POLICY);
        assertRefused(
                () -> SymmetricEnvelopes.encrypt(
                        new byte[101],
                        null,
                        List.of(new Recipient("k", SecretBytes.copyOf(random(32)))),
                        "A256KW",
                        "A256GCM",
                        Serialization.COMPACT,
                        strict,
                        null,
                        null),
                Refused.Reason.POLICY);
        assertRefused(
                () -> SymmetricEnvelopes.encrypt(
                        new byte[1],
                        null,
                        List.of(
                                new Recipient("a", SecretBytes.copyOf(random(32))),
                                new Recipient("b", SecretBytes.copyOf(random(32)))),
                        "A256KW",
                        "A256GCM",
                        Serialization.JSON,
                        strict,
                        null,
                        null),
                Refused.Reason.POLICY);
        // an RSA/EC signature algorithm with a symmetric key (algorithm confusion) is refused
        String rs256 = header("{\"alg\":\"RS256\",\"kid\":\"k\"}") + ".eyJ4IjoxfQ.AAAA";
        assertRefused(
                () -> SignatureVerification.verify(
                        rs256,
                        Serialization.COMPACT,
                        mustNotBeCalled,
                        new Policy(Set.of("RS256", "HS256"), Set.of(), 1, 100, 1000)),
                Refused.Reason.POLICY);
    }

    @ParameterizedTest
    @EnumSource(
            value = Serialization.class,
            names = {"COMPACT", "JSON"})
    void tampering_truncation_and_garbage_are_refused(Serialization s) throws Exception {
        byte[] key = random(32);
        String env = SymmetricEnvelopes.encrypt(
                "secret reading".getBytes(StandardCharsets.UTF_8),
                null,
                List.of(new Recipient("k@maf.acme.example", SecretBytes.copyOf(key))),
                "A256KW",
                "A256GCM",
                s,
                POLICY,
                null,
                null);
        JoseEnvelopes.KeyLookup keys = only("k@maf.acme.example", key);
        if (s == Serialization.COMPACT) {
            String[] p = env.split("\\.", -1);
            assertRefused(
                    () -> SymmetricEnvelopes.decrypt(p[0] + "." + p[1] + "." + p[2] + "." + p[3], s, keys, POLICY),
                    Refused.Reason.MALFORMED);
            assertRefused(() -> SymmetricEnvelopes.decrypt(env + ".AAAA", s, keys, POLICY), Refused.Reason.MALFORMED);
            assertRefused(
                    () -> SymmetricEnvelopes.decrypt(
                            p[0] + "." + p[1] + "." + p[2] + "." + flip(p[3]) + "." + p[4], s, keys, POLICY),
                    Refused.Reason.INTEGRITY);
            assertRefused(
                    () -> SymmetricEnvelopes.decrypt(
                            p[0] + "." + p[1] + "." + p[2] + "." + p[3] + "." + flip(p[4]), s, keys, POLICY),
                    Refused.Reason.INTEGRITY);
            String otherHeader =
                    header("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k@maf.acme.example\",\"x\":1}");
            assertRefused(
                    () -> SymmetricEnvelopes.decrypt(
                            otherHeader + "." + p[1] + "." + p[2] + "." + p[3] + "." + p[4], s, keys, POLICY),
                    Refused.Reason.INTEGRITY);
            assertRefused(
                    () -> SymmetricEnvelopes.decrypt(env.substring(0, 10) + "+" + env.substring(11), s, keys, POLICY),
                    Refused.Reason.MALFORMED);
            assertRefused(
                    () -> SymmetricEnvelopes.decrypt(env, s, only("other@maf.acme.example", key), POLICY),
                    Refused.Reason.UNKNOWN_KEY);
        } else {
            ObjectNode j = (ObjectNode) JSON.readTree(env);
            ObjectNode t = j.deepCopy();
            t.put("ciphertext", flip(j.get("ciphertext").asText()));
            assertRefused(() -> SymmetricEnvelopes.decrypt(t.toString(), s, keys, POLICY), Refused.Reason.INTEGRITY);
            String duplicate = env.substring(0, env.length() - 1) + ",\"iv\":\"AAAAAAAAAAAAAAAA\"}";
            assertRefused(() -> SymmetricEnvelopes.decrypt(duplicate, s, keys, POLICY), Refused.Reason.MALFORMED);
            String deep = "{\"a\":" + "[".repeat(50) + "]".repeat(50) + "}";
            assertRefused(() -> SymmetricEnvelopes.decrypt(deep, s, keys, POLICY), Refused.Reason.MALFORMED);
            assertRefused(() -> SymmetricEnvelopes.decrypt("[1,2]", s, keys, POLICY), Refused.Reason.MALFORMED);
            assertRefused(() -> SymmetricEnvelopes.decrypt("{not json", s, keys, POLICY), Refused.Reason.MALFORMED);
        }
    }

    @Test
    void keys_that_do_not_fit_the_algorithm_are_refused() {
        assertRefused(
                () -> SymmetricEnvelopes.encrypt(
                        new byte[1],
                        null,
                        List.of(new Recipient("k", SecretBytes.copyOf(random(16)))),
                        "dir",
                        "A256GCM",
                        Serialization.COMPACT,
                        POLICY,
                        null,
                        null),
                Refused.Reason.KEY_UNSUITABLE);
        assertRefused(
                () -> Signatures.mac(
                        new byte[1],
                        new Recipient("k", SecretBytes.copyOf(random(16))),
                        "HS256",
                        Serialization.COMPACT,
                        POLICY),
                Refused.Reason.KEY_UNSUITABLE);
        assertRefused(
                () -> SymmetricEnvelopes.encrypt(
                        new byte[1],
                        null,
                        List.of(
                                new Recipient("a", SecretBytes.copyOf(random(32))),
                                new Recipient("b", SecretBytes.copyOf(random(32)))),
                        "dir",
                        "A256GCM",
                        Serialization.JSON,
                        POLICY,
                        null,
                        null),
                Refused.Reason.POLICY);
        assertRefused(
                () -> SymmetricEnvelopes.encrypt(
                        new byte[1],
                        "x".getBytes(),
                        List.of(new Recipient("a", SecretBytes.copyOf(random(32)))),
                        "A256KW",
                        "A256GCM",
                        Serialization.COMPACT,
                        POLICY,
                        null,
                        null),
                Refused.Reason.POLICY);
    }

    interface Call {
        Object run() throws Exception;
    }

    static void assertRefused(Call c, Refused.Reason reason) {
        assertThatThrownBy(c::run)
                .isInstanceOf(Refused.class)
                .extracting(x -> ((Refused) x).reason)
                .isEqualTo(reason);
    }

    static String header(String json) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(json.getBytes(StandardCharsets.UTF_8));
    }

    static String flip(String b64u) {
        char c = b64u.charAt(2);
        return b64u.substring(0, 2) + (c == 'A' ? 'B' : 'A') + b64u.substring(3);
    }
}
