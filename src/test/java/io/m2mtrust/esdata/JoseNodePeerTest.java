package io.m2mtrust.esdata;

import static io.m2mtrust.esdata.JoseEnvelopesTest.JSON;
import static io.m2mtrust.esdata.JoseEnvelopesTest.POLICY;
import static io.m2mtrust.esdata.JoseEnvelopesTest.assertRefused;
import static io.m2mtrust.esdata.JoseEnvelopesTest.only;
import static io.m2mtrust.esdata.JoseEnvelopesTest.random;
import static io.m2mtrust.esdata.JoseEnvelopesTest.vector;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.esdata.JoseEnvelopes.Recipient;
import io.m2mtrust.esdata.JoseEnvelopes.Refused;
import io.m2mtrust.esdata.JoseEnvelopes.Serialization;
import io.m2mtrust.testsupport.NodeJose;
import org.junit.jupiter.api.Test;

import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * JWE JSON serialization against an independent implementation — panva's {@code jose} on Node.js
 * ({@link NodeJose}) — both ways, with AAD (RFC 7516 §7.2.1: the {@code aad} member is BASE64URL(JWE AAD)
 * and the AAD input is {@code BASE64URL(protected) "." BASE64URL(JWE AAD)}), the RFC 7520 §5.10 vector byte
 * for byte in both directions, and recipients whose keys differ in size (per-recipient {@code alg}).
 */
class JoseNodePeerTest {

    static final Base64.Encoder B64U = Base64.getUrlEncoder().withoutPadding();
    static final Base64.Decoder B64U_D = Base64.getUrlDecoder();

    static String b64u(byte[] b) {
        return B64U.encodeToString(b);
    }

    @Test
    void our_aad_member_is_base64url_and_an_independent_library_opens_the_envelope_and_gets_the_aad() throws Exception {
        byte[] key = random(32);
        byte[] payload = "{\"kWh\":4711}".getBytes(StandardCharsets.UTF_8);
        for (byte[] aad : List.of(
                "aad-hello".getBytes(StandardCharsets.US_ASCII),
                "[\"vcard\",[]]".getBytes(StandardCharsets.UTF_8),
                random(40))) {
            for (String alg : List.of("dir", "A256KW")) {
                String env = SymmetricEnvelopes.encrypt(
                        payload,
                        aad,
                        List.of(new Recipient("k@keys.example", SecretBytes.copyOf(key))),
                        alg,
                        "A256GCM",
                        Serialization.JSON,
                        POLICY,
                        null,
                        null);
                JsonNode jwe = JSON.readTree(env);
                assertThat(jwe.get("aad").asText()).isEqualTo(b64u(aad));
                JsonNode opened = NodeJose.call(
                        Map.of("op", "generalDecrypt", "jwe", jwe, "keys", Map.of("k@keys.example", b64u(key))));
                assertThat(opened.path("error").isMissingNode())
                        .as(opened.toString())
                        .isTrue();
                assertThat(B64U_D.decode(opened.get("plaintext").asText())).isEqualTo(payload);
                assertThat(B64U_D.decode(opened.get("aad").asText())).isEqualTo(aad);
            }
        }
    }

    @Test
    void an_envelope_with_aad_made_by_an_independent_library_opens_here_and_its_aad_is_bound() throws Exception {
        byte[] key = random(16);
        byte[] payload = "valve closed".getBytes(StandardCharsets.UTF_8);
        byte[] aad = "{\"ri\":\"/cse-in/cnt-7\"}".getBytes(StandardCharsets.UTF_8);
        JsonNode made = NodeJose.call(Map.of(
                "op",
                "generalEncrypt",
                "plaintext",
                b64u(payload),
                "aad",
                b64u(aad),
                "enc",
                "A128GCM",
                "recipients",
                List.of(Map.of("alg", "A128KW", "kid", "k16@keys.example", "key", b64u(key)))));
        String env = made.get("jwe").toString();
        assertThat(SymmetricEnvelopes.decrypt(env, Serialization.JSON, only("k16@keys.example", key), POLICY))
                .isEqualTo(payload);
        // another AAD (base64url, well-formed): the tag no longer verifies
        ObjectNode other = (ObjectNode) made.get("jwe").deepCopy();
        other.put("aad", b64u("{\"ri\":\"/elsewhere\"}".getBytes(StandardCharsets.UTF_8)));
        assertRefused(
                () -> SymmetricEnvelopes.decrypt(
                        other.toString(), Serialization.JSON, only("k16@keys.example", key), POLICY),
                Refused.Reason.INTEGRITY);
    }

    @Test
    void members_that_are_not_base64url_are_malformed_before_any_key_is_looked_up() throws Exception {
        byte[] key = random(32);
        String env = SymmetricEnvelopes.encrypt(
                "x".getBytes(StandardCharsets.UTF_8),
                "aad-hello".getBytes(StandardCharsets.US_ASCII),
                List.of(new Recipient("k@keys.example", SecretBytes.copyOf(key))),
                "A256KW",
                "A256GCM",
                Serialization.JSON,
                POLICY,
                null,
                null);
        JoseEnvelopes.KeyLookup never = kid -> {
            throw new AssertionError("no key may be looked up for a malformed envelope");
        };
        for (String member : List.of("aad", "iv", "ciphertext", "tag", "protected")) {
            for (String bad : List.of("aad-hello!", "aGVsbG8=", "a b", "A")) {
                ObjectNode o = (ObjectNode) JSON.readTree(env);
                o.put(member, bad);
                assertRefused(
                        () -> SymmetricEnvelopes.decrypt(o.toString(), Serialization.JSON, never, POLICY),
                        Refused.Reason.MALFORMED);
            }
            ObjectNode notText = (ObjectNode) JSON.readTree(env);
            notText.put(member, 42);
            assertRefused(
                    () -> SymmetricEnvelopes.decrypt(notText.toString(), Serialization.JSON, never, POLICY),
                    Refused.Reason.MALFORMED);
        }
        ObjectNode badKey = (ObjectNode) JSON.readTree(env);
        ((ObjectNode) badKey.get("recipients").get(0)).put("encrypted_key", "not/base64url");
        assertRefused(
                () -> SymmetricEnvelopes.decrypt(badKey.toString(), Serialization.JSON, never, POLICY),
                Refused.Reason.MALFORMED);
        // the same checks on the certificate path (service-held end-points)
        ObjectNode o = (ObjectNode) JSON.readTree(env);
        o.put("aad", "aad-hello!");
        assertRefused(
                () -> CertificateEnvelopes.decryptFor(o.toString(), Serialization.JSON, h -> true, null, POLICY),
                Refused.Reason.MALFORMED);
    }

    @Test
    void rfc7520_5_10_byte_for_byte_both_ways_and_with_the_independent_library() throws Exception {
        JsonNode v = vector("5_10_aad_a128kw_a128gcm.json");
        byte[] kek = B64U_D.decode(v.get("key").get("k").asText());
        String kid = v.get("key").get("kid").asText();
        byte[] plaintext = v.get("plaintext").asText().getBytes(StandardCharsets.UTF_8);
        byte[] aad = B64U_D.decode(v.get("json").get("aad").asText());
        JsonNode theirs = v.get("json");

        // in: the vector opens here and with the independent library
        assertThat(SymmetricEnvelopes.decrypt(theirs.toString(), Serialization.JSON, only(kid, kek), POLICY))
                .isEqualTo(plaintext);
        JsonNode opened = NodeJose.call(Map.of("op", "generalDecrypt", "jwe", theirs, "keys", Map.of(kid, b64u(kek))));
        assertThat(B64U_D.decode(opened.get("plaintext").asText())).isEqualTo(plaintext);
        assertThat(B64U_D.decode(opened.get("aad").asText())).isEqualTo(aad);

        // out: with the vector's CEK (unwrapped from it) and IV, our envelope is the vector, member for member
        Cipher unwrap = Cipher.getInstance("AESWrap");
        unwrap.init(Cipher.UNWRAP_MODE, new SecretKeySpec(kek, "AES"));
        byte[] cek = unwrap.unwrap(
                        B64U_D.decode(theirs.get("recipients")
                                .get(0)
                                .get("encrypted_key")
                                .asText()),
                        "AES",
                        Cipher.SECRET_KEY)
                .getEncoded();
        byte[] iv = B64U_D.decode(theirs.get("iv").asText());
        String ours = SymmetricEnvelopes.encrypt(
                plaintext,
                aad,
                List.of(new Recipient(kid, SecretBytes.copyOf(kek))),
                "A128KW",
                "A128GCM",
                Serialization.JSON,
                POLICY,
                null,
                new Replay(cek, iv));
        JsonNode o = JSON.readTree(ours);
        // the protected header is the vector's (Nimbus writes its members in another order, so compare them as JSON)
        assertThat(JSON.readTree(B64U_D.decode(o.get("protected").asText())))
                .isEqualTo(JSON.readTree(B64U_D.decode(theirs.get("protected").asText())));
        for (String member : List.of("aad", "iv", "ciphertext")) {
            assertThat(o.get(member).asText())
                    .as(member)
                    .isEqualTo(theirs.get(member).asText());
        }
        assertThat(o.get("recipients").get(0).get("encrypted_key").asText())
                .isEqualTo(theirs.get("recipients").get(0).get("encrypted_key").asText());
        // the tag covers BASE64URL(protected) "." BASE64URL(aad) as written (RFC 7516 §5.1 step 14): recomputed with
        // plain JCA
        javax.crypto.Cipher gcm = javax.crypto.Cipher.getInstance("AES/GCM/NoPadding");
        gcm.init(
                javax.crypto.Cipher.ENCRYPT_MODE,
                new SecretKeySpec(cek, "AES"),
                new javax.crypto.spec.GCMParameterSpec(128, iv));
        gcm.updateAAD((o.get("protected").asText() + "." + b64u(aad)).getBytes(StandardCharsets.US_ASCII));
        byte[] sealed = gcm.doFinal(plaintext);
        assertThat(o.get("tag").asText())
                .isEqualTo(b64u(java.util.Arrays.copyOfRange(sealed, sealed.length - 16, sealed.length)));
        // and with the vector's own protected bytes, the same computation gives the vector's tag: the rule, not our
        // bytes, is checked
        gcm = javax.crypto.Cipher.getInstance("AES/GCM/NoPadding");
        gcm.init(
                javax.crypto.Cipher.ENCRYPT_MODE,
                new SecretKeySpec(cek, "AES"),
                new javax.crypto.spec.GCMParameterSpec(128, iv));
        gcm.updateAAD(
                (theirs.get("protected").asText() + "." + theirs.get("aad").asText())
                        .getBytes(StandardCharsets.US_ASCII));
        byte[] vectorSealed = gcm.doFinal(plaintext);
        assertThat(b64u(java.util.Arrays.copyOfRange(vectorSealed, vectorSealed.length - 16, vectorSealed.length)))
                .isEqualTo(theirs.get("tag").asText());
        JsonNode openedOurs = NodeJose.call(Map.of("op", "generalDecrypt", "jwe", o, "keys", Map.of(kid, b64u(kek))));
        assertThat(B64U_D.decode(openedOurs.get("aad").asText())).isEqualTo(aad);
    }

    @Test
    void
            recipients_with_16_and_32_byte_keys_each_get_the_key_wrap_that_fits_and_the_independent_library_opens_it_for_each()
                    throws Exception {
        byte[] k16 = random(16);
        byte[] k32 = random(32);
        byte[] payload = random(200);
        byte[] aad = "ri=/cse-in/cnt-9".getBytes(StandardCharsets.US_ASCII);
        String env = SymmetricEnvelopes.encrypt(
                payload,
                aad,
                List.of(
                        new Recipient("a16@keys.example", SecretBytes.copyOf(k16)),
                        new Recipient("b32@keys.example", SecretBytes.copyOf(k32))),
                null,
                null,
                Serialization.JSON,
                POLICY,
                null,
                null);
        JsonNode jwe = JSON.readTree(env);
        assertThat(jwe.get("recipients").get(0).get("header").get("alg").asText())
                .isEqualTo("A128KW");
        assertThat(jwe.get("recipients").get(1).get("header").get("alg").asText())
                .isEqualTo("A256KW");
        for (Map.Entry<String, byte[]> k :
                Map.of("a16@keys.example", k16, "b32@keys.example", k32).entrySet()) {
            JsonNode opened = NodeJose.call(
                    Map.of("op", "generalDecrypt", "jwe", jwe, "keys", Map.of(k.getKey(), b64u(k.getValue()))));
            assertThat(B64U_D.decode(opened.get("plaintext").asText()))
                    .as(opened.toString())
                    .isEqualTo(payload);
            assertThat(
                            opened.get("unprotectedHeader").isNull()
                                    ? opened.get("protectedHeader").get("enc").asText()
                                    : "A256GCM")
                    .isEqualTo("A256GCM");
            assertThat(SymmetricEnvelopes.decrypt(env, Serialization.JSON, only(k.getKey(), k.getValue()), POLICY))
                    .isEqualTo(payload);
        }
        // one 16-byte key with default settings: dir with the AES-GCM of its size, which the independent library opens
        String one = SymmetricEnvelopes.encrypt(
                payload,
                null,
                List.of(new Recipient("a16@keys.example", SecretBytes.copyOf(k16))),
                null,
                null,
                Serialization.COMPACT,
                POLICY,
                null,
                null);
        JsonNode compact = NodeJose.call(Map.of("op", "compactDecrypt", "jwe", one, "key", b64u(k16)));
        assertThat(compact.get("protectedHeader").get("alg").asText()).isEqualTo("dir");
        assertThat(compact.get("protectedHeader").get("enc").asText()).isEqualTo("A128GCM");
        assertThat(B64U_D.decode(compact.get("plaintext").asText())).isEqualTo(payload);
        // asked for A256KW, a 16-byte key is refused by name (not "the key does not fit" after the fact)
        assertRefused(
                () -> SymmetricEnvelopes.encrypt(
                        payload,
                        null,
                        List.of(
                                new Recipient("a16@keys.example", SecretBytes.copyOf(k16)),
                                new Recipient("b32@keys.example", SecretBytes.copyOf(k32))),
                        "A256KW",
                        null,
                        Serialization.JSON,
                        POLICY,
                        null,
                        null),
                Refused.Reason.KEY_UNSUITABLE);
    }

    /** Hands out RFC 7520's CEK, then its IV, in the order Nimbus draws them (CEK, then IV). */
    static final class Replay extends SecureRandom {
        private final ArrayDeque<byte[]> next = new ArrayDeque<>();

        Replay(byte[]... values) {
            next.addAll(List.of(values));
        }

        @Override
        public void nextBytes(byte[] bytes) {
            byte[] v = next.poll();
            if (v == null || v.length != bytes.length) {
                throw new AssertionError("unexpected draw of " + bytes.length + " random bytes");
            }
            System.arraycopy(v, 0, bytes, 0, bytes.length);
        }
    }
}
