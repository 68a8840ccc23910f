package io.m2mtrust.mef;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.m2mtrust.common.SecretBytes;
import org.junit.jupiter.api.Test;

import java.util.HexFormat;

/** The regression vectors of the spec digest §10 (computed independently with Python hmac/hashlib). */
class EnrolmentKdfTest {

    static final SecretBytes KE = SecretBytes.copyOf(
            HexFormat.of().parseHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"));

    static String hex(SecretBytes s) {
        return HexFormat.of().formatHex(s.copy());
    }

    @Test
    void km_matches_the_digest_vector() {
        assertThat(hex(EnrolmentKdf.km(KE, "maf.example.com")))
                .isEqualTo("3055bf32dd9c95586aaffa2ae2e165dfeffd0803566e16bdd343171457da8a5e");
    }

    @Test
    void kpsa_matches_the_digest_vector() {
        assertThat(hex(EnrolmentKdf.kpsa(KE, "CAE01@in.example.com")))
                .isEqualTo("679e4c8de3a5af301b32ee1d8b6ed0743acb771d825a47738bec77aaaa6be61c");
    }

    @Test
    void usage_constrained_key_uses_the_suid_as_two_ascii_digits() {
        assertThat(hex(EnrolmentKdf.usageConstrained(KE, 22, "cse-in.example.com")))
                .isEqualTo("baa116c6165fc5b7df6c75da88f9c119a31a809bd8036ac948a81025228837f5")
                .isNotEqualTo("c60559214345fe7127cfd879009a6b459d5a3a5efd35c2755725d4c06fa129b3");
    }

    @Test
    void identifiers_are_nfkc_normalised_before_hashing() {
        // U+FB01 (the "fi" ligature) normalises to "fi" under NFKC
        assertThat(hex(EnrolmentKdf.km(KE, "\uFB01le.example.com")))
                .isEqualTo(hex(EnrolmentKdf.km(KE, "file.example.com")));
    }

    @Test
    void one_digit_or_three_digit_suids_are_refused() {
        assertThatThrownBy(() -> EnrolmentKdf.usageConstrained(KE, 2, "x"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> EnrolmentKdf.usageConstrained(KE, 100, "x"))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
