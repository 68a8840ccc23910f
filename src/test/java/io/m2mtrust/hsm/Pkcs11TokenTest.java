package io.m2mtrust.hsm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.testsupport.TestHsm;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Key;
import java.security.Signature;
import java.util.Optional;

/** The HSM layer against the run's real SoftHSM2 token (no Quarkus). */
class Pkcs11TokenTest {

    static final String OWNER = "unit-hsm";
    static Pkcs11Token token;
    static HsmCrypto crypto;
    static final HsmKeyLabel KEK = HsmKeyLabel.of(OWNER, KeyPurpose.KEK, 1);
    static final HsmKeyLabel DERIVE = HsmKeyLabel.of(OWNER, KeyPurpose.DERIVE, 1);
    static final HsmKeyLabel DERIVE2 = HsmKeyLabel.of(OWNER, KeyPurpose.DERIVE, 2);
    static final HsmKeyLabel SIGN = HsmKeyLabel.of(OWNER, KeyPurpose.SIGN, 1);

    @BeforeAll
    static void openTokenAndMakeKeys() {
        token = new Pkcs11Token(TestHsm.settings());
        crypto = new HsmCrypto(token, new SimpleMeterRegistry());
        for (HsmKeyLabel l : new HsmKeyLabel[] {KEK, DERIVE, DERIVE2, SIGN}) {
            if (token.exists(l)) {
                token.destroy(l);
            }
            token.generate(l, new SelfSignedCertificates());
        }
    }

    @AfterAll
    static void shred() {
        for (HsmKeyLabel l : token.labels(OWNER)) {
            token.destroy(l);
        }
        token.close();
    }

    @Test
    void a_login_is_retried_on_a_transient_token_error_never_on_a_pin_error() {
        assertThat(Pkcs11Token.transientLoginFailure("CKR_GENERAL_ERROR")).isTrue();
        assertThat(Pkcs11Token.transientLoginFailure("PKCS11Exception CKR_DEVICE_ERROR"))
                .isTrue();
        assertThat(Pkcs11Token.transientLoginFailure("CKR_PIN_INCORRECT")).isFalse();
        assertThat(Pkcs11Token.transientLoginFailure("PKCS11Exception CKR_USER_PIN_NOT_INITIALIZED"))
                .isTrue();
        assertThat(Pkcs11Token.transientLoginFailure("CKR_PIN_LOCKED")).isFalse();
        assertThat(Pkcs11Token.transientLoginFailure("CKR_SLOT_ID_INVALID")).isFalse();
    }

    @Test
    void generated_keys_are_sensitive_and_never_extractable_as_seen_by_opensc() throws Exception {
        String listing = TestHsm.pkcs11ToolListObjects();
        // pkcs11-tool prints one block per object: a type line, then indented attributes
        java.util.List<String> keyBlocks = new java.util.ArrayList<>();
        StringBuilder cur = null;
        for (String line : listing.split("\n")) {
            if (!line.startsWith(" ")) {
                if (cur != null) keyBlocks.add(cur.toString());
                cur = line.startsWith("Secret Key Object") || line.startsWith("Private Key Object")
                        ? new StringBuilder(line).append('\n')
                        : null;
            } else if (cur != null) {
                cur.append(line).append('\n');
            }
        }
        if (cur != null) keyBlocks.add(cur.toString());
        // SunPKCS11's KeyStore labels the certificate and links the private key by CKA_ID = the label's bytes
        String signId = java.util.HexFormat.of().formatHex(SIGN.value().getBytes(StandardCharsets.UTF_8));
        for (HsmKeyLabel l : new HsmKeyLabel[] {KEK, DERIVE, SIGN}) {
            String needle = l == SIGN ? "ID:         " + signId + "\n" : "label:      " + l.value() + "\n";
            String block = keyBlocks.stream()
                    .filter(b -> b.contains(needle))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError("pkcs11-tool does not list key " + l + ":\n" + listing));
            assertThat(block).contains("sensitive").contains("never extractable");
        }
        assertThat(keyBlocks).anyMatch(b -> b.startsWith("Private Key Object; EC") && b.contains(signId));
        Key k = token.key(KEK);
        assertThat(k.getEncoded()).as("no key bytes through JCA").isNull();
    }

    @Test
    void key_handles_are_cached_per_label() {
        assertThat(token.key(DERIVE)).isSameAs(token.key(DERIVE));
    }

    @Test
    void hmac_derivation_is_deterministic_per_key_and_input_and_differs_across_keys() {
        byte[] in = "KpmID-0001".getBytes(StandardCharsets.UTF_8);
        try (SecretBytes a = crypto.hmacSha256(DERIVE, in);
                SecretBytes b = crypto.hmacSha256(DERIVE, in);
                SecretBytes c = crypto.hmacSha256(DERIVE2, in);
                SecretBytes d = crypto.hmacSha256(DERIVE, "KpmID-0002".getBytes())) {
            assertThat(a.length()).isEqualTo(32);
            assertThat(a.equalsSecret(b)).isTrue();
            assertThat(a.equalsSecret(c)).isFalse();
            assertThat(a.equalsSecret(d)).isFalse();
            assertThat(a.toString()).doesNotContain(java.util.HexFormat.of().formatHex(a.copy()));
        }
    }

    @Test
    void gcm_seal_opens_only_with_the_same_associated_data_and_untampered_bytes() {
        byte[] iv = new byte[12];
        iv[0] = 7;
        byte[] plain = new byte[256];
        plain[5] = 42;
        byte[] sealed = crypto.sealAesGcm(KEK, iv, plain, "tenant|key|purpose".getBytes());
        assertThat(sealed).hasSize(256 + 16);
        try (SecretBytes opened = crypto.openAesGcm(KEK, iv, sealed, "tenant|key|purpose".getBytes())) {
            assertThat(opened.copy()).isEqualTo(plain);
        }
        assertThatThrownBy(() -> crypto.openAesGcm(KEK, iv, sealed, "tenant|other|purpose".getBytes()))
                .isInstanceOf(SealedBlobRejectedException.class);
        byte[] tampered = sealed.clone();
        tampered[3] ^= 1;
        assertThatThrownBy(() -> crypto.openAesGcm(KEK, iv, tampered, "tenant|key|purpose".getBytes()))
                .isInstanceOf(SealedBlobRejectedException.class);
        assertThatThrownBy(() -> crypto.sealAesGcm(KEK, new byte[8], plain, new byte[0]))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void ecdsa_signature_from_the_token_verifies_with_the_jdk_software_verifier() throws Exception {
        byte[] data = "audit head".getBytes();
        byte[] der = crypto.signEcdsaP256(SIGN, data);
        Signature v = Signature.getInstance("SHA256withECDSA", "SunEC");
        v.initVerify(token.publicKey(SIGN));
        v.update(data);
        assertThat(v.verify(der)).isTrue();
        assertThat(crypto.verifyEcdsaP256(SIGN, "other".getBytes(), der)).isFalse();
    }

    @Test
    void operations_do_not_create_objects() {
        int before = token.labels(null).size();
        for (int i = 0; i < 50; i++) {
            crypto.hmacSha256(DERIVE, new byte[] {(byte) i}).close();
            crypto.sealAesGcm(KEK, new byte[12], new byte[] {(byte) i}, new byte[0]);
        }
        assertThat(token.labels(null)).hasSize(before);
    }

    @Test
    void destroyed_key_is_gone_for_good() {
        HsmKeyLabel temp = HsmKeyLabel.of(OWNER, KeyPurpose.KEK, 9);
        token.generate(temp, null);
        byte[] sealed = crypto.sealAesGcm(temp, new byte[12], new byte[] {1, 2, 3}, new byte[0]);
        token.destroy(temp);
        assertThat(token.exists(temp)).isFalse();
        assertThatThrownBy(() -> crypto.openAesGcm(temp, new byte[12], sealed, new byte[0]))
                .isInstanceOf(HsmKeyNotFoundException.class);
    }

    @Test
    void generating_an_existing_label_is_refused() {
        assertThatThrownBy(() -> token.generate(KEK, null)).isInstanceOf(IllegalStateException.class);
    }

    /**
     * In a fresh JVM (PKCS#11 login state is per process: this one is already logged in, so a second
     * login with any PIN would pass).
     */
    @Test
    void wrong_pin_stops_start_up_with_one_clear_line() throws Exception {
        ProcessBuilder pb = new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                HsmCheck.class.getName(),
                TestHsm.settings().providerConfig().toString());
        pb.environment().put("M2M_HSM_PIN", "wrong-pin-123");
        pb.environment().remove("M2M_HSM_PIN_FILE");
        Process p = pb.start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).isEqualTo(1);
        assertThat(out).isEmpty();
        assertThat(err.strip())
                .startsWith("HSM start-up failed: wrong HSM PIN")
                .doesNotContain("\n")
                .doesNotContain("wrong-pin-123");
    }

    @Test
    void right_pin_opens_the_token_in_a_fresh_jvm() throws Exception {
        ProcessBuilder pb = new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                HsmCheck.class.getName(),
                TestHsm.settings().providerConfig().toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).isZero();
        assertThat(out).startsWith("HSM OK: SunPKCS11-m2m-trust");
    }

    @Test
    void wrong_library_path_stops_start_up_with_one_clear_line() throws Exception {
        Path cfg = Files.createTempFile("p11", ".cfg");
        Files.writeString(cfg, "name = broken\nlibrary = /usr/lib/nope/libmissing.so\nslotListIndex = 0\n");
        assertThatThrownBy(() -> new Pkcs11Token(new HsmSettings(cfg, Optional.of("x"), Optional.empty())))
                .isInstanceOf(HsmStartupException.class)
                .hasMessageContaining("/usr/lib/nope/libmissing.so")
                .hasMessageContaining("does not exist");
    }

    @Test
    void wrong_slot_stops_start_up_with_one_clear_line() throws Exception {
        Path cfg = Files.createTempFile("p11", ".cfg");
        Files.writeString(cfg, "name = wrongslot\nlibrary = /usr/lib/softhsm/libsofthsm2.so\nslotListIndex = 7\n");
        assertThatThrownBy(() -> new Pkcs11Token(new HsmSettings(cfg, Optional.of("x"), Optional.empty())))
                .isInstanceOf(HsmStartupException.class)
                .hasMessageContaining("could not open the configured slot");
    }

    @Test
    void settings_never_print_the_pin() {
        HsmSettings s = TestHsm.settings();
        assertThat(s.toString()).doesNotContain(s.pin().orElseThrow()).contains("[redacted]");
    }

    @Test
    void missing_pin_is_a_clear_start_up_error() {
        HsmSettings s = TestHsm.settings();
        assertThatThrownBy(
                        () -> new Pkcs11Token(new HsmSettings(s.providerConfig(), Optional.empty(), Optional.empty())))
                .isInstanceOf(HsmStartupException.class)
                .hasMessageContaining("No HSM PIN");
    }

    @Test
    void labels_carry_owner_purpose_and_version_and_reject_other_shapes() {
        assertThat(KEK.value()).isEqualTo("m2m/unit-hsm/kek/v1");
        assertThat(HsmKeyLabel.parse("m2m/unit-hsm/sign/v12")).isEqualTo(HsmKeyLabel.of(OWNER, KeyPurpose.SIGN, 12));
        assertThat(HsmKeyLabel.parse("someone-elses-object")).isNull();
        assertThatThrownBy(() -> HsmKeyLabel.of("Bad/Owner", KeyPurpose.KEK, 1))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> HsmKeyLabel.of(OWNER, KeyPurpose.KEK, 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
