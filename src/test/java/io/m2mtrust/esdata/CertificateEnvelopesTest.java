package io.m2mtrust.esdata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JWEObjectJSON;
import com.nimbusds.jose.crypto.MultiDecrypter;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.esdata.JoseEnvelopes.CertificateRecipient;
import io.m2mtrust.esdata.JoseEnvelopes.Policy;
import io.m2mtrust.esdata.JoseEnvelopes.Refused;
import io.m2mtrust.esdata.JoseEnvelopes.Serialization;
import io.m2mtrust.hsm.HsmCrypto;
import io.m2mtrust.hsm.HsmKeyLabel;
import io.m2mtrust.hsm.KeyPurpose;
import io.m2mtrust.hsm.Pkcs11Token;
import io.m2mtrust.hsm.SelfSignedCertificates;
import io.m2mtrust.testsupport.TestHsm;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.DefaultSignatureAlgorithmIdentifierFinder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.jose4j.jwe.JsonWebEncryption;
import org.jose4j.jws.JsonWebSignature;
import org.jose4j.keys.AesKey;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Certificate options of ESData: ES256 signatures made in the SoftHSM2 token, encryption for a target's
 * EC (ECDH-ES+A256KW) or RSA (RSA-OAEP-256) certificate, nested sign-then-encrypt — each opened or
 * verified by jose4j, the independent implementation, with the target's own private key.
 */
class CertificateEnvelopesTest {

    static final Policy POLICY = new Policy(
            Set.of("dir", "A256KW", "ECDH-ES+A256KW", "RSA-OAEP-256", "ES256", "RS256", "HS256"),
            Set.of("A256GCM", "A128GCM"),
            4,
            65536,
            200_000);
    static final HsmKeyLabel SOURCE = HsmKeyLabel.of("esdata-cert-test", KeyPurpose.SIGN, 1);

    static Pkcs11Token token;
    static HsmCrypto hsm;
    static X509Certificate sourceCert;

    @BeforeAll
    static void sourceKeyInTheHsm() throws Exception {
        token = new Pkcs11Token(TestHsm.settings());
        hsm = new HsmCrypto(token, new SimpleMeterRegistry());
        token.generateReplacingOrphan(SOURCE, new SelfSignedCertificates());
        sourceCert = certificate("CN=source AE", token.publicKey(SOURCE), hsmSigner());
    }

    @AfterAll
    static void cleanUp() {
        token.destroyQuietly(SOURCE);
        token.close();
    }

    static ContentSigner hsmSigner() {
        return new ContentSigner() {
            final ByteArrayOutputStream out = new ByteArrayOutputStream();

            @Override
            public AlgorithmIdentifier getAlgorithmIdentifier() {
                return new DefaultSignatureAlgorithmIdentifierFinder().find("SHA256withECDSA");
            }

            @Override
            public OutputStream getOutputStream() {
                return out;
            }

            @Override
            public byte[] getSignature() {
                return hsm.signEcdsaP256(SOURCE, out.toByteArray());
            }
        };
    }

    static X509Certificate certificate(String dn, PublicKey key, ContentSigner signer) throws Exception {
        X500Name name = new X500Name(dn);
        return new JcaX509CertificateConverter()
                .getCertificate(new JcaX509v3CertificateBuilder(
                                name,
                                BigInteger.valueOf(new SecureRandom().nextLong() & Long.MAX_VALUE),
                                new Date(System.currentTimeMillis() - 60_000),
                                new Date(System.currentTimeMillis() + 86_400_000L),
                                name,
                                key)
                        .build(signer));
    }

    static KeyPair keyPair(String alg, Object spec) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance(alg);
        if (spec instanceof ECGenParameterSpec s) {
            g.initialize(s);
        } else {
            g.initialize((Integer) spec);
        }
        return g.generateKeyPair();
    }

    static X509Certificate selfSigned(String dn, KeyPair kp, String sigAlg) throws Exception {
        return certificate(dn, kp.getPublic(), new JcaContentSignerBuilder(sigAlg).build(kp.getPrivate()));
    }

    @Test
    void es256_signed_in_the_hsm_verifies_with_jose4j_and_with_our_certificate_lookup() throws Exception {
        byte[] payload = "{\"con\":\"22.1\"}".getBytes(StandardCharsets.UTF_8);
        String compact = Signatures.sign(
                payload, new HsmJwsSigner(hsm, SOURCE), sourceCert, false, Serialization.COMPACT, POLICY);
        JsonWebSignature jws = new JsonWebSignature();
        jws.setCompactSerialization(compact);
        jws.setKey(sourceCert.getPublicKey());
        assertThat(jws.verifySignature()).isTrue();
        assertThat(jws.getHeader("x5t#S256")).isEqualTo(new CertificateRecipient(sourceCert).thumbprint());

        String thumb = new CertificateRecipient(sourceCert).thumbprint();
        JoseEnvelopes.CertificateLookup certs = t -> t.equals(thumb) ? Optional.of(sourceCert) : Optional.empty();
        for (Serialization s : Serialization.values()) {
            String env = Signatures.sign(payload, new HsmJwsSigner(hsm, SOURCE), sourceCert, true, s, POLICY);
            assertThat(SignatureVerification.verifySignature(env, s, certs, POLICY))
                    .isEqualTo(payload);
        }
        // tampered payload, unknown certificate, and an HMAC pretending to be a certificate signature
        String[] p = compact.split("\\.");
        String forged = p[0] + "."
                + java.util.Base64.getUrlEncoder().withoutPadding().encodeToString("{\"con\":\"99\"}".getBytes()) + "."
                + p[2];
        assertThatThrownBy(() -> SignatureVerification.verifySignature(forged, Serialization.COMPACT, certs, POLICY))
                .isInstanceOf(Refused.class)
                .extracting(x -> ((Refused) x).reason)
                .isEqualTo(Refused.Reason.INTEGRITY);
        assertThatThrownBy(() -> SignatureVerification.verifySignature(
                        compact, Serialization.COMPACT, t -> Optional.empty(), POLICY))
                .isInstanceOf(Refused.class)
                .extracting(x -> ((Refused) x).reason)
                .isEqualTo(Refused.Reason.UNKNOWN_KEY);
        String hs = Signatures.mac(
                payload,
                new JoseEnvelopes.Recipient("k", SecretBytes.copyOf(new byte[32])),
                "HS256",
                Serialization.COMPACT,
                POLICY);
        assertThatThrownBy(() -> SignatureVerification.verifySignature(hs, Serialization.COMPACT, certs, POLICY))
                .isInstanceOf(Refused.class)
                .extracting(x -> ((Refused) x).reason)
                .isEqualTo(Refused.Reason.POLICY);
    }

    @Test
    void encryption_for_ec_and_rsa_certificates_is_opened_by_jose4j_with_the_targets_private_key() throws Exception {
        byte[] payload = "for your eyes only".getBytes(StandardCharsets.UTF_8);
        KeyPair ec = keyPair("EC", new ECGenParameterSpec("secp256r1"));
        X509Certificate ecCert = selfSigned("CN=target EC", ec, "SHA256withECDSA");
        String e1 = CertificateEnvelopes.encryptForCertificates(
                payload,
                null,
                List.of(new CertificateRecipient(ecCert)),
                "ECDH-ES+A256KW",
                "A256GCM",
                Serialization.COMPACT,
                POLICY,
                null);
        JsonWebEncryption jwe = new JsonWebEncryption();
        jwe.setCompactSerialization(e1);
        jwe.setKey(ec.getPrivate());
        assertThat(jwe.getPlaintextBytes()).isEqualTo(payload);
        assertThat(jwe.getHeader("x5t#S256")).isEqualTo(new CertificateRecipient(ecCert).thumbprint());

        KeyPair rsa = keyPair("RSA", 2048);
        X509Certificate rsaCert = selfSigned("CN=target RSA", rsa, "SHA256withRSA");
        String e2 = CertificateEnvelopes.encryptForCertificates(
                payload,
                null,
                List.of(new CertificateRecipient(rsaCert)),
                "ECDH-ES+A256KW",
                "A256GCM",
                Serialization.COMPACT,
                POLICY,
                null);
        JsonWebEncryption r = new JsonWebEncryption();
        r.setCompactSerialization(e2);
        r.setKey(rsa.getPrivate());
        assertThat(r.getAlgorithmHeaderValue()).isEqualTo("RSA-OAEP-256");
        assertThat(r.getPlaintextBytes()).isEqualTo(payload);

        // both in one JSON envelope; each target opens its own recipient
        String both = CertificateEnvelopes.encryptForCertificates(
                payload,
                "aad".getBytes(),
                List.of(new CertificateRecipient(ecCert), new CertificateRecipient(rsaCert)),
                "ECDH-ES+A256KW",
                "A256GCM",
                Serialization.JSON,
                POLICY,
                null);
        JWEObjectJSON parsed = JWEObjectJSON.parse(both);
        parsed.decrypt(new MultiDecrypter(new ECKey.Builder(Curve.P_256, (ECPublicKey) ec.getPublic())
                .privateKey(ec.getPrivate())
                .keyID(new CertificateRecipient(ecCert).thumbprint())
                .build()));
        assertThat(parsed.getPayload().toBytes()).isEqualTo(payload);

        // weak RSA is refused
        KeyPair weak = keyPair("RSA", 1024);
        X509Certificate weakCert = selfSigned("CN=weak", weak, "SHA256withRSA");
        assertThatThrownBy(() -> CertificateEnvelopes.encryptForCertificates(
                        payload,
                        null,
                        List.of(new CertificateRecipient(weakCert)),
                        "ECDH-ES+A256KW",
                        "A256GCM",
                        Serialization.COMPACT,
                        POLICY,
                        null))
                .isInstanceOf(Refused.class)
                .extracting(x -> ((Refused) x).reason)
                .isEqualTo(Refused.Reason.POLICY);
    }

    @Test
    void an_hsm_signature_and_a_mac_on_one_payload_are_verified_independently_and_by_us() throws Exception {
        byte[] payload = "{\"con\":\"signed twice\"}".getBytes(StandardCharsets.UTF_8);
        byte[] mac = new byte[32];
        new SecureRandom().nextBytes(mac);
        String kid = "00112233445566778899aabbccddeeff@maf.acme.example";
        String env = Signatures.signAll(
                payload,
                List.of(
                        Signatures.certificateKey(new HsmJwsSigner(hsm, SOURCE), sourceCert, false, POLICY),
                        Signatures.macKey(new JoseEnvelopes.Recipient(kid, SecretBytes.copyOf(mac)), "HS256", POLICY)),
                Serialization.JSON,
                POLICY);
        String thumb = new CertificateRecipient(sourceCert).thumbprint();
        assertThat(io.m2mtrust.testsupport.JcaJose.verifyJws(
                        env,
                        h -> h.has("kid")
                                ? new javax.crypto.spec.SecretKeySpec(mac, "HmacSHA256")
                                : sourceCert.getPublicKey()))
                .containsExactly(thumb, kid);
        JoseEnvelopes.VerificationKeys both = h -> h.getKeyID() != null
                ? Optional.of(new JoseEnvelopes.VerificationKey.Symmetric(kid, SecretBytes.copyOf(mac)))
                : SignatureVerification.certificateKeys(
                                t -> t.equals(thumb) ? Optional.of(sourceCert) : Optional.empty())
                        .find(h);
        assertThat(SignatureVerification.verifyAll(env, Serialization.JSON, both, POLICY)
                        .keyIds())
                .containsExactly(thumb, kid);
        assertThat(SignatureVerification.verifySignature(env, Serialization.JSON, t -> Optional.of(sourceCert), POLICY))
                .isEqualTo(payload);
    }

    @Test
    void nested_sign_then_encrypt_opens_and_verifies_with_jose4j() throws Exception {
        byte[] payload = "signed, then sealed".getBytes(StandardCharsets.UTF_8);
        String inner = Signatures.sign(
                payload, new HsmJwsSigner(hsm, SOURCE), sourceCert, false, Serialization.COMPACT, POLICY);
        byte[] kek = new byte[32];
        new SecureRandom().nextBytes(kek);
        String outer = SymmetricEnvelopes.encryptNested(
                inner,
                Serialization.COMPACT,
                List.of(new JoseEnvelopes.Recipient("k@maf.acme.example", SecretBytes.copyOf(kek))),
                "A256KW",
                "A256GCM",
                Serialization.COMPACT,
                POLICY);
        JsonWebEncryption jwe = new JsonWebEncryption();
        jwe.setCompactSerialization(outer);
        jwe.setKey(new AesKey(kek));
        assertThat(jwe.getContentTypeHeaderValue()).isEqualTo("JOSE");
        JsonWebSignature jws = new JsonWebSignature();
        jws.setCompactSerialization(jwe.getPlaintextString());
        jws.setKey(sourceCert.getPublicKey());
        assertThat(jws.verifySignature()).isTrue();
        assertThat(jws.getPayloadBytes()).isEqualTo(payload);
    }
}
