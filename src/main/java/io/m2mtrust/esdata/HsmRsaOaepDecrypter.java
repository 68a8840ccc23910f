package io.m2mtrust.esdata;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWEAlgorithm;
import com.nimbusds.jose.JWEHeader;
import com.nimbusds.jose.crypto.impl.ContentCryptoProvider;
import com.nimbusds.jose.util.Base64URL;
import io.m2mtrust.hsm.HsmCrypto;
import io.m2mtrust.hsm.HsmKeyLabel;
import org.bouncycastle.crypto.AsymmetricBlockCipher;
import org.bouncycastle.crypto.CipherParameters;
import org.bouncycastle.crypto.InvalidCipherTextException;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.encodings.OAEPEncoding;

import javax.crypto.spec.SecretKeySpec;
import java.util.Arrays;
import java.util.Set;

/**
 * Decrypts {@code RSA-OAEP-256} (RFC 7518 §4.3: OAEP with SHA-256 and MGF1-SHA-256) for a service-held
 * end-point with an RSA key: the private-key operation runs in the HSM as raw RSA ({@link HsmCrypto#rsaPrivateRaw});
 * Bouncy Castle's OAEP decoding removes the padding in software (one failure for every malformed block, as BC
 * reports it), then the content is decrypted in software. SunPKCS11 offers no OAEP-SHA-256 mechanism, and this
 * keeps the key in the token on any HSM that does raw RSA.
 */
final class HsmRsaOaepDecrypter extends HsmJweDecrypter {

    private final HsmCrypto hsm;
    private final HsmKeyLabel key;
    private final int modulusBytes;

    HsmRsaOaepDecrypter(
            HsmCrypto hsm,
            HsmKeyLabel key,
            java.security.interfaces.RSAPublicKey publicKey,
            java.security.Provider software) {
        super(software);
        this.hsm = hsm;
        this.key = key;
        this.modulusBytes = (publicKey.getModulus().bitLength() + 7) / 8;
    }

    @Override
    public byte[] decrypt(
            JWEHeader header, Base64URL encryptedKey, Base64URL iv, Base64URL cipherText, Base64URL authTag, byte[] aad)
            throws JOSEException {
        if (!JWEAlgorithm.RSA_OAEP_256.equals(header.getAlgorithm())) {
            throw new JOSEException("not RSA-OAEP-256: " + header.getAlgorithm());
        }
        byte[] wrapped = encryptedKey == null ? new byte[0] : encryptedKey.decode();
        if (wrapped.length != modulusBytes) {
            throw new JOSEException("the encrypted key is not one RSA block");
        }
        OAEPEncoding oaep = new OAEPEncoding(new HsmRawRsa(), new SHA256Digest(), new SHA256Digest(), null);
        oaep.init(false, null);
        byte[] cek;
        try {
            cek = oaep.processBlock(wrapped, 0, wrapped.length);
        } catch (InvalidCipherTextException | RuntimeException e) {
            throw new JOSEException("decryption failed");
        }
        try {
            return ContentCryptoProvider.decrypt(
                    header, aad, encryptedKey, iv, cipherText, authTag, new SecretKeySpec(cek, "AES"), jca);
        } finally {
            Arrays.fill(cek, (byte) 0);
        }
    }

    /** The raw RSA private operation in the HSM, shaped as BC's engine (output without the leading zero octet). */
    private final class HsmRawRsa implements AsymmetricBlockCipher {
        @Override
        public void init(boolean forEncryption, CipherParameters param) {
            if (forEncryption) {
                throw new IllegalStateException("decryption only");
            }
        }

        @Override
        public int getInputBlockSize() {
            return modulusBytes;
        }

        @Override
        public int getOutputBlockSize() {
            return modulusBytes - 1;
        }

        @Override
        public byte[] processBlock(byte[] in, int inOff, int len) {
            byte[] raw = hsm.rsaPrivateRaw(key, Arrays.copyOfRange(in, inOff, inOff + len));
            // EM = 0x00 || maskedSeed || maskedDB (RFC 8017 §7.1.2): pass the k-1 octets after the leading zero;
            // a non-zero leading octet is passed whole, which BC's OAEP decoding treats as malformed
            return raw.length == modulusBytes && raw[0] == 0 ? Arrays.copyOfRange(raw, 1, raw.length) : raw;
        }
    }

    @Override
    public Set<JWEAlgorithm> supportedJWEAlgorithms() {
        return Set.of(JWEAlgorithm.RSA_OAEP_256);
    }
}
