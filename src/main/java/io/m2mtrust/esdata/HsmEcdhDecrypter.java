package io.m2mtrust.esdata;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWEAlgorithm;
import com.nimbusds.jose.JWEHeader;
import com.nimbusds.jose.crypto.impl.AESKW;
import com.nimbusds.jose.crypto.impl.ConcatKDF;
import com.nimbusds.jose.crypto.impl.ContentCryptoProvider;
import com.nimbusds.jose.crypto.impl.ECDH;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.util.Base64URL;
import io.m2mtrust.hsm.EcdhInToken;
import io.m2mtrust.hsm.HsmKeyLabel;

import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;
import java.security.interfaces.ECPublicKey;
import java.util.Arrays;
import java.util.Set;

/**
 * Decrypts {@code ECDH-ES+A128KW/A192KW/A256KW} for a service-held end-point (RFC 7518 §4.6): the ECDH
 * with its private key runs in the HSM ({@link EcdhInToken}); Concat KDF, AES key unwrap and the content
 * decryption run in software. The ephemeral key must be a valid point of the end-point key's curve (invalid-curve attacks).
 */
public final class HsmEcdhDecrypter extends HsmJweDecrypter {

    private static final Set<JWEAlgorithm> ALGS =
            Set.of(JWEAlgorithm.ECDH_ES_A128KW, JWEAlgorithm.ECDH_ES_A192KW, JWEAlgorithm.ECDH_ES_A256KW);

    private final EcdhInToken ecdh;
    private final HsmKeyLabel key;

    private final Curve curve;

    /** For a P-256 key in the HSM (benchmarks and tools outside this package). */
    public static com.nimbusds.jose.JWEDecrypter of(EcdhInToken ecdh, HsmKeyLabel key) {
        return new HsmEcdhDecrypter(ecdh, key, JoseAlgorithms.softwareProvider());
    }

    HsmEcdhDecrypter(EcdhInToken ecdh, HsmKeyLabel key, java.security.Provider software) {
        this(ecdh, key, Curve.P_256, software);
    }

    /** For an end-point key on {@code curve} (P-256, P-384 or P-521): the ephemeral key must be a valid point of the same curve. */
    HsmEcdhDecrypter(EcdhInToken ecdh, HsmKeyLabel key, Curve curve, java.security.Provider software) {
        super(software);
        this.ecdh = ecdh;
        this.key = key;
        this.curve = curve;
    }

    @Override
    public byte[] decrypt(
            JWEHeader header, Base64URL encryptedKey, Base64URL iv, Base64URL cipherText, Base64URL authTag, byte[] aad)
            throws JOSEException {
        if (!ALGS.contains(header.getAlgorithm())) {
            throw new JOSEException("not an ECDH-ES key-wrap algorithm: " + header.getAlgorithm());
        }
        if (header.getEphemeralPublicKey() == null
                || !(header.getEphemeralPublicKey() instanceof com.nimbusds.jose.jwk.ECKey epk)
                || !curve.equals(epk.getCurve())) {
            throw new JOSEException("the ephemeral key must be a " + curve + " EC key");
        }
        ECPublicKey peer = epk.toECPublicKey(); // Nimbus checks the point is on the curve
        byte[] z = ecdh.sharedSecret(key, peer);
        try {
            SecretKey kek = ECDH.deriveSharedKey(header, new SecretKeySpec(z, "AES"), new ConcatKDF("SHA-256"));
            SecretKey cek = AESKW.unwrapCEK(kek, encryptedKey.decode(), jca.getKeyEncryptionProvider());
            return ContentCryptoProvider.decrypt(header, aad, encryptedKey, iv, cipherText, authTag, cek, jca);
        } finally {
            Arrays.fill(z, (byte) 0);
        }
    }

    @Override
    public Set<JWEAlgorithm> supportedJWEAlgorithms() {
        return ALGS;
    }
}
