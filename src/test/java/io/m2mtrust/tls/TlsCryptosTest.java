package io.m2mtrust.tls;

import static org.assertj.core.api.Assertions.assertThat;

import org.bouncycastle.tls.EncryptionAlgorithm;
import org.bouncycastle.tls.MACAlgorithm;
import org.bouncycastle.tls.NamedGroup;
import org.bouncycastle.tls.crypto.TlsCrypto;
import org.junit.jupiter.api.Test;

import java.security.SecureRandom;

/** Which provider each kind of TLS crypto comes from (ADR 0022): the JDK's for records and hashes, BC for P-256. */
class TlsCryptosTest {

    private final TlsCryptos.EllipticCurvesInBouncyCastle helper = new TlsCryptos.EllipticCurvesInBouncyCastle();

    @Test
    void records_hashes_and_macs_come_from_the_jdk_providers() throws Exception {
        assertThat(helper.createCipher("AES/CBC/NoPadding").getProvider().getName())
                .isEqualTo("SunJCE");
        assertThat(helper.createCipher("AES/GCM/NoPadding").getProvider().getName())
                .isEqualTo("SunJCE");
        assertThat(helper.createMac("HmacSHA256").getProvider().getName()).isEqualTo("SunJCE");
        assertThat(helper.createMessageDigest("SHA-256").getProvider().getName())
                .isEqualTo("SUN");
    }

    @Test
    void elliptic_curve_work_comes_from_bouncy_castle() throws Exception {
        assertThat(helper.createKeyPairGenerator("EC").getProvider().getName()).isEqualTo("BC");
        assertThat(helper.createKeyAgreement("ECDH").getProvider().getName()).isEqualTo("BC");
        assertThat(helper.createKeyFactory("EC").getProvider().getName()).isEqualTo("BC");
        assertThat(helper.createSignature("SHA256withECDSA").getProvider().getName())
                .isEqualTo("BC");
        assertThat(helper.createSignature("NoneWithECDSA").getProvider().getName())
                .isEqualTo("BC");
        assertThat(helper.createAlgorithmParameters("EC").getProvider().getName())
                .isEqualTo("BC");
        // not elliptic: the JDK's
        assertThat(helper.createKeyFactory("RSA").getProvider().getName()).isNotEqualTo("BC");
    }

    @Test
    void the_crypto_offers_the_ts_0003_suites_and_p256() {
        TlsCrypto crypto = TlsCryptos.create(new SecureRandom());
        assertThat(crypto.hasNamedGroup(NamedGroup.secp256r1)).isTrue();
        assertThat(crypto.hasECDHAgreement()).isTrue();
        assertThat(crypto.hasEncryptionAlgorithm(EncryptionAlgorithm.AES_128_GCM))
                .isTrue();
        assertThat(crypto.hasEncryptionAlgorithm(EncryptionAlgorithm.AES_128_CBC))
                .isTrue();
        assertThat(crypto.hasMacAlgorithm(MACAlgorithm.hmac_sha256)).isTrue();
    }
}
