package io.m2mtrust.hsm;

import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.util.List;

/**
 * Key pairs the HSM makes. EC P-256 is oneM2M's certificate key (TS-0003 §10.1.1.1) and every service key;
 * the others exist for ESData end-points, whose JOSE signatures may be ES384/ES512 or RS256/384/512 and
 * whose certificates then carry that key (TS-0003 §8.5 ESData certificate options).
 */
public enum AsymmetricKeyType {
    EC_P256("secp256r1", 256, List.of("ES256")),
    EC_P384("secp384r1", 384, List.of("ES384")),
    EC_P521("secp521r1", 521, List.of("ES512")),
    RSA_2048(null, 2048, List.of("RS256", "RS384", "RS512")),
    RSA_3072(null, 3072, List.of("RS256", "RS384", "RS512"));

    private final String curve;
    private final int bits;
    private final List<String> jwsAlgorithms;

    AsymmetricKeyType(String curve, int bits, List<String> jwsAlgorithms) {
        this.curve = curve;
        this.bits = bits;
        this.jwsAlgorithms = jwsAlgorithms;
    }

    public boolean isEc() {
        return curve != null;
    }

    /** The JOSE signature algorithms this key makes; the first is the default. */
    public List<String> jwsAlgorithms() {
        return jwsAlgorithms;
    }

    /** The JCA signature algorithm (DER output for EC) for a JOSE algorithm of this key. */
    public String jcaSignature(String jwsAlgorithm) {
        if (!jwsAlgorithms.contains(jwsAlgorithm)) {
            throw new IllegalArgumentException(name() + " does not sign " + jwsAlgorithm);
        }
        return "SHA" + jwsAlgorithm.substring(2) + (isEc() ? "withECDSA" : "withRSA");
    }

    /** Bytes of each of R and S in a JOSE ECDSA signature (RFC 7518 §3.4). */
    /** The length of a JWS signature this key makes: R‖S for EC (RFC 7518 §3.4), the modulus length for RSA. */
    public int jwsSignatureBytes() {
        return isEc() ? 2 * ecdsaPartLength() : bits / 8;
    }

    public int ecdsaPartLength() {
        return (bits + 7) / 8;
    }

    void initialize(KeyPairGenerator g) throws java.security.GeneralSecurityException {
        if (isEc()) {
            g.initialize(new ECGenParameterSpec(curve));
        } else {
            g.initialize(bits);
        }
    }

    String jcaKeyAlgorithm() {
        return isEc() ? "EC" : "RSA";
    }

    /** The type of a public key, if it is one of these. */
    public static java.util.Optional<AsymmetricKeyType> of(PublicKey key) {
        if (key instanceof RSAPublicKey r) {
            int n = r.getModulus().bitLength();
            return n == 2048
                    ? java.util.Optional.of(RSA_2048)
                    : n == 3072 ? java.util.Optional.of(RSA_3072) : java.util.Optional.empty();
        }
        if (key instanceof ECPublicKey e) {
            int size = e.getParams().getCurve().getField().getFieldSize();
            return switch (size) {
                case 256 -> java.util.Optional.of(EC_P256);
                case 384 -> java.util.Optional.of(EC_P384);
                case 521 -> java.util.Optional.of(EC_P521);
                default -> java.util.Optional.empty();
            };
        }
        return java.util.Optional.empty();
    }
}
