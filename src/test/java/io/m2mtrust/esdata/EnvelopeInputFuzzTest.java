package io.m2mtrust.esdata;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.esdata.JoseEnvelopes.Policy;
import io.m2mtrust.esdata.JoseEnvelopes.Refused;
import io.m2mtrust.esdata.JoseEnvelopes.Serialization;

import java.util.Optional;
import java.util.Set;

/**
 * Fuzz target for ESData envelopes a peer sends (issue 21): JWE in compact, JSON and base64-JSON serialization,
 * decrypted with symmetric keys (any kid names a key of the fuzzer's choosing). The contract: {@link Refused} with a
 * reason, or the plaintext — never another exception, and nothing larger than the policy's payload limit.
 */
class EnvelopeInputFuzzTest {

    static final Policy POLICY = new Policy(
            Set.of("dir", "A128KW", "A192KW", "A256KW"), Set.of("A128GCM", "A192GCM", "A256GCM"), 4, 65536, 200_000);

    @FuzzTest(maxDuration = "30s")
    void jwe_envelopes_open_or_get_a_typed_refusal(FuzzedDataProvider data) {
        Serialization serialization = data.pickValue(Serialization.values());
        byte[] key = data.consumeBytes(data.pickValue(new Integer[] {16, 24, 32}));
        String envelope = data.consumeRemainingAsString();
        JoseEnvelopes.KeyLookup keys = kid -> Optional.of(SecretBytes.copyOf(key));
        try {
            byte[] plain = SymmetricEnvelopes.decrypt(envelope, serialization, keys, POLICY);
            assertThat(plain.length).isLessThanOrEqualTo(POLICY.maxPayloadBytes());
        } catch (Refused refused) {
            assertThat(refused.reason).isNotNull();
        }
    }

    static final Policy SIGNATURE_POLICY =
            new Policy(Set.of("HS256", "HS384", "HS512", "ES256", "ES384", "RS256"), Set.of(), 4, 65536, 200_000);

    /** A P-256 key every {@code x5t#S256} names here (the lookup of a registered certificate). */
    static final java.security.PublicKey EC_KEY;

    static {
        try {
            java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("EC");
            g.initialize(new java.security.spec.ECGenParameterSpec("secp256r1"));
            EC_KEY = g.generateKeyPair().getPublic();
        } catch (java.security.GeneralSecurityException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * JWS a peer sends (compact, JSON with one or several signatures, base64 JSON): MACs checked with the symmetric key
     * a kid names, certificate signatures with the key an {@code x5t#S256} names. The contract: {@link Refused} with a
     * reason, or a payload within the policy's limit and the ids of the keys that verified it.
     */
    @FuzzTest(maxDuration = "30s")
    void jws_envelopes_verify_or_get_a_typed_refusal(FuzzedDataProvider data) {
        Serialization serialization = data.pickValue(Serialization.values());
        JoseEnvelopes.Accept accept = data.pickValue(JoseEnvelopes.Accept.values());
        byte[] key = data.consumeBytes(data.pickValue(new Integer[] {32, 48, 64}));
        String envelope = data.consumeRemainingAsString();
        JoseEnvelopes.VerificationKeys keys = h -> {
            if (h.getX509CertSHA256Thumbprint() != null) {
                return Optional.of(new JoseEnvelopes.VerificationKey.Asymmetric(
                        h.getX509CertSHA256Thumbprint().toString(), EC_KEY));
            }
            return h.getKeyID() == null
                    ? Optional.empty()
                    : Optional.of(new JoseEnvelopes.VerificationKey.Symmetric(h.getKeyID(), SecretBytes.copyOf(key)));
        };
        try {
            JoseEnvelopes.Verified v =
                    SignatureVerification.verifyAll(envelope, serialization, keys, SIGNATURE_POLICY, accept);
            assertThat(v.payload().length).isLessThanOrEqualTo(SIGNATURE_POLICY.maxPayloadBytes());
            assertThat(v.keyIds()).isNotEmpty();
        } catch (Refused refused) {
            assertThat(refused.reason).isNotNull();
        }
    }

    /** Finding 4 of docs/fuzzing.md: a 3-byte GCM tag made the JDK throw a ProviderException out of Nimbus (a 500). */
    @org.junit.jupiter.api.Test
    void a_short_gcm_tag_is_malformed_not_a_500() {
        java.util.Base64.Encoder b64u = java.util.Base64.getUrlEncoder().withoutPadding();
        String header = b64u.encodeToString("{\"alg\":\"dir\",\"enc\":\"A256GCM\",\"kid\":\"k1\"}"
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        for (Serialization s : new Serialization[] {Serialization.COMPACT, Serialization.JSON}) {
            String iv = b64u.encodeToString(new byte[12]);
            String tag = b64u.encodeToString(new byte[3]);
            String envelope = s == Serialization.COMPACT
                    ? header + ".." + iv + ".AAAA." + tag
                    : "{\"protected\":\"" + header + "\",\"iv\":\"" + iv + "\",\"ciphertext\":\"AAAA\",\"tag\":\"" + tag
                            + "\"}";
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> SymmetricEnvelopes.decrypt(
                            envelope, s, kid -> Optional.of(SecretBytes.copyOf(new byte[32])), POLICY))
                    .as(s.name())
                    .isInstanceOfSatisfying(
                            Refused.class, r -> assertThat(r.reason).isEqualTo(Refused.Reason.MALFORMED));
        }
    }

    /** Finding 1 of docs/fuzzing.md: Nimbus threw a NullPointerException for a JWE header without enc. */
    @org.junit.jupiter.api.Test
    void a_jwe_header_without_enc_is_malformed_not_a_500() {
        String header = java.util.Base64.getUrlEncoder()
                .withoutPadding()
                .encodeToString("{\"alg\":\"dir\",\"kid\":\"k1\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        String compact = header + "..AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA";
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> SymmetricEnvelopes.decrypt(
                        compact, Serialization.COMPACT, kid -> Optional.of(SecretBytes.copyOf(new byte[32])), POLICY))
                .isInstanceOfSatisfying(Refused.class, r -> assertThat(r.reason).isEqualTo(Refused.Reason.MALFORMED));
    }
}
