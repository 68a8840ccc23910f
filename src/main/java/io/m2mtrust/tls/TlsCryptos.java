package io.m2mtrust.tls;

import io.m2mtrust.common.SoftwareCrypto;
import org.bouncycastle.jcajce.util.DefaultJcaJceHelper;
import org.bouncycastle.tls.crypto.TlsCrypto;
import org.bouncycastle.tls.crypto.impl.jcajce.JcaTlsCrypto;

import javax.crypto.KeyAgreement;
import java.security.AlgorithmParameters;
import java.security.KeyFactory;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.security.Provider;
import java.security.SecureRandom;
import java.security.Signature;
import java.util.Locale;

/**
 * The cryptography under Bouncy Castle's TLS protocol: the JDK's own providers for hashes, HMACs and the record
 * ciphers (SUN and SunJCE, whose SHA-256 and AES run on the processor's SHA and AES instructions: the PRF, the
 * exporters and every record of a session), and a private Bouncy Castle provider for P-256 (ECDHE, ECDSA
 * verification), which on JDK 17 is several times faster than SunEC (BENCHMARKS.md, "P-256 in software"). Signing
 * with the service's own keys never goes through here: {@link HsmTlsSigner} signs in the HSM. SunPKCS11 is never
 * asked (it is registered by instance, not in the provider list).
 */
public final class TlsCryptos {

    /** The project's one private Bouncy Castle provider. */
    private static final Provider BOUNCY_CASTLE = SoftwareCrypto.BC;

    /** Stateless: one for every session. */
    private static final EllipticCurvesInBouncyCastle HELPER = new EllipticCurvesInBouncyCastle();

    private TlsCryptos() {}

    /** A crypto for one TLS session (or many): {@code random} makes its keys, nonces and randoms. */
    public static TlsCrypto create(SecureRandom random) {
        return new JcaTlsCrypto(HELPER, random, random) {};
    }

    /** Elliptic-curve algorithms from Bouncy Castle, everything else from the JDK's providers in their order. */
    static final class EllipticCurvesInBouncyCastle extends DefaultJcaJceHelper {

        private static boolean ellipticCurve(String algorithm) {
            String a = algorithm.toUpperCase(Locale.ROOT);
            return a.equals("EC")
                    || a.startsWith("ECDH")
                    || a.contains("ECDSA")
                    || a.equals("XDH")
                    || a.startsWith("X25519");
        }

        /** A JCA factory method by algorithm name. */
        private interface Factory<T> {
            T of(String algorithm) throws NoSuchAlgorithmException;
        }

        private static <T> T pick(String algorithm, Factory<T> bouncyCastle, Factory<T> jdk)
                throws NoSuchAlgorithmException {
            return ellipticCurve(algorithm) ? bouncyCastle.of(algorithm) : jdk.of(algorithm);
        }

        @Override
        public KeyPairGenerator createKeyPairGenerator(String algorithm) throws NoSuchAlgorithmException {
            return pick(algorithm, a -> KeyPairGenerator.getInstance(a, BOUNCY_CASTLE), super::createKeyPairGenerator);
        }

        @Override
        public KeyAgreement createKeyAgreement(String algorithm) throws NoSuchAlgorithmException {
            return pick(algorithm, a -> KeyAgreement.getInstance(a, BOUNCY_CASTLE), super::createKeyAgreement);
        }

        @Override
        public KeyFactory createKeyFactory(String algorithm) throws NoSuchAlgorithmException {
            return pick(algorithm, a -> KeyFactory.getInstance(a, BOUNCY_CASTLE), super::createKeyFactory);
        }

        @Override
        public Signature createSignature(String algorithm) throws NoSuchAlgorithmException {
            return pick(algorithm, a -> Signature.getInstance(a, BOUNCY_CASTLE), super::createSignature);
        }

        @Override
        public AlgorithmParameters createAlgorithmParameters(String algorithm) throws NoSuchAlgorithmException {
            return pick(
                    algorithm,
                    a -> AlgorithmParameters.getInstance(a, BOUNCY_CASTLE),
                    super::createAlgorithmParameters);
        }
    }
}
