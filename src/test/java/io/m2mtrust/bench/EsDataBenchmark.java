package io.m2mtrust.bench;

import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.esdata.CertificateEnvelopes;
import io.m2mtrust.esdata.HsmJwsSigner;
import io.m2mtrust.esdata.JoseEnvelopes;
import io.m2mtrust.esdata.JoseEnvelopes.Recipient;
import io.m2mtrust.esdata.JoseEnvelopes.Serialization;
import io.m2mtrust.esdata.SignatureVerification;
import io.m2mtrust.esdata.Signatures;
import io.m2mtrust.esdata.SymmetricEnvelopes;
import io.m2mtrust.hsm.HsmCrypto;
import io.m2mtrust.hsm.HsmKeyLabel;
import io.m2mtrust.hsm.KeyPurpose;
import io.m2mtrust.hsm.Pkcs11Token;
import io.m2mtrust.hsm.SelfSignedCertificates;
import io.m2mtrust.testsupport.TestHsm;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * ESData envelopes in process, 1 KiB payloads, per class of the seed's table; beside them the raw HSM
 * ceilings of the same run (AES-GCM open: what the service pays to unseal a registered key; ECDSA sign:
 * the ES256 signature). Never part of the test suite.
 */
public class EsDataBenchmark {

    static final HsmKeyLabel SIGN = HsmKeyLabel.of("bench-esdata", KeyPurpose.SIGN, 1);
    static final HsmKeyLabel KEK = HsmKeyLabel.of("bench-esdata", KeyPurpose.KEK, 1);
    static final JoseEnvelopes.Policy POLICY = new JoseEnvelopes.Policy(
            Set.of("dir", "A256KW", "ECDH-ES+A256KW", "HS256", "ES256"), Set.of("A256GCM"), 3, 65536, 1_000_000);

    @State(Scope.Benchmark)
    public static class Keys {
        Pkcs11Token token;
        HsmCrypto hsm;
        byte[] payload = new byte[1024];
        byte[] k1 = new byte[32];
        byte[] k2 = new byte[32];
        byte[] k3 = new byte[32];
        X509Certificate sourceCert;
        X509Certificate targetCert;
        String dirEnv;
        String kwEnv;
        String macEnv;
        String esEnv;
        String nestedEnv;
        String threeEnv;
        String ecdhEnv;
        io.m2mtrust.hsm.EcdhInToken ecdh;
        byte[] sealed;
        byte[] iv = new byte[12];

        @Setup(Level.Trial)
        public void setUp() throws Exception {
            SecureRandom r = new SecureRandom();
            r.nextBytes(payload);
            r.nextBytes(k1);
            r.nextBytes(k2);
            r.nextBytes(k3);
            token = new Pkcs11Token(TestHsm.settings());
            hsm = new HsmCrypto(token, new SimpleMeterRegistry());
            for (HsmKeyLabel l : List.of(SIGN, KEK)) {
                token.generateReplacingOrphan(l, new SelfSignedCertificates());
            }
            sourceCert = selfSigned(token.publicKey(SIGN), null);
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            KeyPair target = g.generateKeyPair();
            targetCert = selfSigned(target.getPublic(), target);
            sealed = hsm.sealAesGcm(KEK, iv, new byte[64], new byte[40]);
            dirEnv = SymmetricEnvelopes.encrypt(
                    payload, null, List.of(rec("a", k1)), "dir", "A256GCM", Serialization.COMPACT, POLICY, null, null);
            kwEnv = a256kw(payload, k1);
            macEnv = Signatures.mac(payload, rec("a", k1), "HS256", Serialization.COMPACT, POLICY);
            esEnv = Signatures.sign(
                    payload, new HsmJwsSigner(hsm, SIGN), sourceCert, false, Serialization.COMPACT, POLICY);
            nestedEnv = SymmetricEnvelopes.encryptNested(
                    esEnv,
                    Serialization.COMPACT,
                    List.of(rec("a", k1)),
                    "A256KW",
                    "A256GCM",
                    Serialization.COMPACT,
                    POLICY);
            threeEnv = SymmetricEnvelopes.encrypt(
                    payload,
                    null,
                    List.of(rec("a", k1), rec("b", k2), rec("c", k3)),
                    "A256KW",
                    "A256GCM",
                    Serialization.JSON,
                    POLICY,
                    null,
                    null);
            // an envelope for the HSM key's own certificate: unprotect derives Z in the token (CKM_ECDH1_DERIVE)
            ecdh = new io.m2mtrust.hsm.EcdhInToken(hsm);
            ecdh.allowDerive(SIGN);
            ecdhEnv = CertificateEnvelopes.encryptForCertificates(
                    payload,
                    null,
                    List.of(new JoseEnvelopes.CertificateRecipient(sourceCert)),
                    "ECDH-ES+A256KW",
                    "A256GCM",
                    Serialization.COMPACT,
                    POLICY,
                    null);
        }

        X509Certificate selfSigned(java.security.PublicKey pk, KeyPair software) throws Exception {
            X500Name n = new X500Name("CN=bench");
            var b = new JcaX509v3CertificateBuilder(
                    n, BigInteger.ONE, new Date(), new Date(System.currentTimeMillis() + 86_400_000L), n, pk);
            if (software != null) {
                return new JcaX509CertificateConverter()
                        .getCertificate(
                                b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(software.getPrivate())));
            }
            return new JcaX509CertificateConverter()
                    .getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA")
                            .setProvider(token.provider())
                            .build((java.security.PrivateKey) token.key(SIGN))));
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            token.destroyQuietly(SIGN);
            token.destroyQuietly(KEK);
            token.close();
        }

        Optional<SecretBytes> find(String kid) {
            return Optional.of(SecretBytes.copyOf(
                    switch (kid) {
                        case "b" -> k2;
                        case "c" -> k3;
                        default -> k1;
                    }));
        }
    }

    static Recipient rec(String kid, byte[] k) {
        return new Recipient(kid, SecretBytes.copyOf(k));
    }

    @Benchmark
    public String protectDirA256gcm(Keys k) throws Exception {
        return SymmetricEnvelopes.encrypt(
                k.payload, null, List.of(rec("a", k.k1)), "dir", "A256GCM", Serialization.COMPACT, POLICY, null, null);
    }

    @Benchmark
    public byte[] unprotectDirA256gcm(Keys k) throws Exception {
        return SymmetricEnvelopes.decrypt(k.dirEnv, Serialization.COMPACT, k::find, POLICY);
    }

    @Benchmark
    public String protectA256kw(Keys k) throws Exception {
        return a256kw(k.payload, k.k1);
    }

    /** One A256KW recipient, compact: the envelope both the setup and the benchmark make. */
    static String a256kw(byte[] payload, byte[] key) throws Exception {
        return SymmetricEnvelopes.encrypt(
                payload, null, List.of(rec("a", key)), "A256KW", "A256GCM", Serialization.COMPACT, POLICY, null, null);
    }

    @Benchmark
    public byte[] unprotectA256kw(Keys k) throws Exception {
        return SymmetricEnvelopes.decrypt(k.kwEnv, Serialization.COMPACT, k::find, POLICY);
    }

    @Benchmark
    public String protectEcdhEsA256kw(Keys k) throws Exception {
        return CertificateEnvelopes.encryptForCertificates(
                k.payload,
                null,
                List.of(new JoseEnvelopes.CertificateRecipient(k.targetCert)),
                "ECDH-ES+A256KW",
                "A256GCM",
                Serialization.COMPACT,
                POLICY,
                null);
    }

    @Benchmark
    public String protectHs256(Keys k) throws Exception {
        return Signatures.mac(k.payload, rec("a", k.k1), "HS256", Serialization.COMPACT, POLICY);
    }

    @Benchmark
    public byte[] unprotectHs256(Keys k) throws Exception {
        return SignatureVerification.verify(k.macEnv, Serialization.COMPACT, k::find, POLICY);
    }

    @Benchmark
    public byte[] unprotectEcdhEsA256kw(Keys k) throws Exception {
        return CertificateEnvelopes.decryptForCertificate(
                k.ecdhEnv,
                Serialization.COMPACT,
                new JoseEnvelopes.CertificateRecipient(k.sourceCert).thumbprint(),
                io.m2mtrust.esdata.HsmEcdhDecrypter.of(k.ecdh, SIGN),
                POLICY);
    }

    @Benchmark
    public String protectEs256(Keys k) throws Exception {
        return Signatures.sign(
                k.payload, new HsmJwsSigner(k.hsm, SIGN), k.sourceCert, false, Serialization.COMPACT, POLICY);
    }

    @Benchmark
    public byte[] unprotectEs256(Keys k) throws Exception {
        return SignatureVerification.verifySignature(
                k.esEnv, Serialization.COMPACT, x -> Optional.of(k.sourceCert), POLICY);
    }

    @Benchmark
    public String protectNested(Keys k) throws Exception {
        String inner = Signatures.sign(
                k.payload, new HsmJwsSigner(k.hsm, SIGN), k.sourceCert, false, Serialization.COMPACT, POLICY);
        return SymmetricEnvelopes.encryptNested(
                inner,
                Serialization.COMPACT,
                List.of(rec("a", k.k1)),
                "A256KW",
                "A256GCM",
                Serialization.COMPACT,
                POLICY);
    }

    @Benchmark
    public byte[] unprotectNested(Keys k) throws Exception {
        byte[] inner = SymmetricEnvelopes.decrypt(k.nestedEnv, Serialization.COMPACT, k::find, POLICY);
        return SignatureVerification.verifySignature(
                new String(inner, java.nio.charset.StandardCharsets.US_ASCII),
                Serialization.COMPACT,
                x -> Optional.of(k.sourceCert),
                POLICY);
    }

    @Benchmark
    public String protectThreeRecipients(Keys k) throws Exception {
        return SymmetricEnvelopes.encrypt(
                k.payload,
                null,
                List.of(rec("a", k.k1), rec("b", k.k2), rec("c", k.k3)),
                "A256KW",
                "A256GCM",
                Serialization.JSON,
                POLICY,
                null,
                null);
    }

    @Benchmark
    public byte[] unprotectThreeRecipients(Keys k) throws Exception {
        return SymmetricEnvelopes.decrypt(
                k.threeEnv, Serialization.JSON, kid -> kid.equals("c") ? k.find("c") : Optional.empty(), POLICY);
    }

    /** Ceiling: one HSM AES-GCM open (what the service pays to unseal a registered key per use). */
    @Benchmark
    public Object rawHsmGcmOpen(Keys k) {
        try (SecretBytes s = k.hsm.openAesGcm(KEK, k.iv, k.sealed, new byte[40])) {
            return s.length();
        }
    }

    /** Ceiling: one HSM ECDSA P-256 signature (ES256). */
    @Benchmark
    public byte[] rawHsmSign(Keys k) {
        return k.hsm.signEcdsaP256(SIGN, k.payload);
    }

    @Benchmark
    public byte[] rawHsmEcdh(Keys k) {
        return k.ecdh.sharedSecret(SIGN, (java.security.interfaces.ECPublicKey) k.targetCert.getPublicKey());
    }
}
