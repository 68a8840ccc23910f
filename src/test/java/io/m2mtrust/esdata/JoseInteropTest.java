package io.m2mtrust.esdata;

import static io.m2mtrust.esdata.CertificateEnvelopesTest.keyPair;
import static io.m2mtrust.esdata.CertificateEnvelopesTest.selfSigned;
import static io.m2mtrust.esdata.JoseEnvelopesTest.JSON;
import static io.m2mtrust.esdata.JoseEnvelopesTest.assertRefused;
import static io.m2mtrust.esdata.JoseEnvelopesTest.only;
import static io.m2mtrust.esdata.JoseEnvelopesTest.random;
import static io.m2mtrust.esdata.JoseEnvelopesTest.vector;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.nimbusds.jose.crypto.ECDHDecrypter;
import com.nimbusds.jose.crypto.RSADecrypter;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.esdata.JoseEnvelopes.CertificateRecipient;
import io.m2mtrust.esdata.JoseEnvelopes.Policy;
import io.m2mtrust.esdata.JoseEnvelopes.Refused;
import io.m2mtrust.esdata.JoseEnvelopes.Serialization;
import io.m2mtrust.esdata.JoseEnvelopes.VerificationKey;
import io.m2mtrust.testsupport.JcaJose;
import io.m2mtrust.testsupport.JcaJose.EncryptFor;
import io.m2mtrust.testsupport.JcaJose.SignWith;
import org.junit.jupiter.api.Test;

import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The asymmetric and multi-party options against outside references: the RFC 7520 (JOSE Cookbook)
 * vectors for ES512, RS256, several signatures, ECDH-ES+A128KW and AAD; and {@link JcaJose}, a JOSE written
 * from the RFCs on the JDK's own providers, opening our JSON envelopes (several signatures, certificate
 * recipients with AAD, several certificate recipients) and making envelopes we must open. jose4j, used
 * elsewhere, has no JSON serialization.
 */
class JoseInteropTest {

    static final Policy POLICY = new Policy(
            Set.of(
                    "A128KW",
                    "A256KW",
                    "ECDH-ES+A128KW",
                    "ECDH-ES+A256KW",
                    "RSA-OAEP-256",
                    "HS256",
                    "HS512",
                    "ES256",
                    "ES384",
                    "ES512",
                    "RS256",
                    "RS384"),
            Set.of("A128GCM", "A256GCM"),
            4,
            65536,
            200_000);

    static VerificationKey.Asymmetric publicKey(JsonNode jwk) throws Exception {
        return new VerificationKey.Asymmetric(
                jwk.get("kid").asText(),
                JWK.parse(jwk.toString()).toPublicJWK() instanceof ECKey ec
                        ? ec.toECPublicKey()
                        : JWK.parse(jwk.toString()).toRSAKey().toRSAPublicKey());
    }

    // ---------------------------------------------------------------- RFC 7520

    @Test
    void rfc7520_4_3_es512_verifies_and_a_changed_byte_does_not() throws Exception {
        JsonNode v = vector("4_3_es512.json");
        VerificationKey.Asymmetric key = publicKey(v.get("key"));
        JoseEnvelopes.VerificationKeys byKid = h -> key.id().equals(h.getKeyID()) ? Optional.of(key) : Optional.empty();
        String compact = v.get("compact").asText();
        JoseEnvelopes.Verified ok = SignatureVerification.verifyAll(compact, Serialization.COMPACT, byKid, POLICY);
        assertThat(new String(ok.payload(), StandardCharsets.UTF_8))
                .isEqualTo(v.get("payload").asText());
        assertThat(ok.keyIds()).containsExactly("bilbo.baggins@hobbiton.example");

        String[] p = compact.split("\\.");
        byte[] sig = Base64.getUrlDecoder().decode(p[2]);
        sig[10] ^= 1;
        String tampered = p[0] + "." + p[1] + "."
                + Base64.getUrlEncoder().withoutPadding().encodeToString(sig);
        assertRefused(
                () -> SignatureVerification.verifyAll(tampered, Serialization.COMPACT, byKid, POLICY),
                Refused.Reason.INTEGRITY);
        // ES512 is not allowed by a policy that does not list it: refused before any key is looked up
        Policy es256Only = new Policy(Set.of("ES256"), Set.of(), 4, 65536, 200_000);
        assertRefused(
                () -> SignatureVerification.verifyAll(
                        compact,
                        Serialization.COMPACT,
                        h -> {
                            throw new AssertionError("no key lookup for a refused algorithm");
                        },
                        es256Only),
                Refused.Reason.POLICY);
        // the same signature claimed to come from a P-256 key: the curve does not go with ES512
        KeyPair p256 = keyPair("EC", new ECGenParameterSpec("secp256r1"));
        assertRefused(
                () -> SignatureVerification.verifyAll(
                        compact,
                        Serialization.COMPACT,
                        h -> Optional.of(new VerificationKey.Asymmetric("x", p256.getPublic())),
                        POLICY),
                Refused.Reason.POLICY);
    }

    @Test
    void rfc7520_4_8_several_signatures_rs256_and_hs256_verify_the_unprotected_alg_is_not_counted() throws Exception {
        JsonNode v = vector("4_8_multiple_signatures.json");
        String env = v.get("json").toString();
        VerificationKey.Asymmetric rsa = publicKey(v.get("rsa"));
        byte[] hmac = Base64.getUrlDecoder().decode(v.get("oct").get("k").asText());
        JoseEnvelopes.VerificationKeys keys = h -> switch (h.getAlgorithm().getName()) {
            case "RS256" -> Optional.of(rsa);
            case "HS256" -> Optional.of(new VerificationKey.Symmetric(h.getKeyID(), SecretBytes.copyOf(hmac)));
            default -> Optional.empty();
        };
        JoseEnvelopes.Verified ok = SignatureVerification.verifyAll(env, Serialization.JSON, keys, POLICY);
        assertThat(new String(ok.payload(), StandardCharsets.UTF_8))
                .isEqualTo(v.get("payload").asText());
        assertThat(ok.keyIds())
                .containsExactly("bilbo.baggins@hobbiton.example", "018c0ae5-4d9b-471b-bfd6-eef314bc7037");
        // the independent implementation agrees on all three, the unprotected-alg ES512 included
        assertThat(JcaJose.verifyJws(env, h -> {
                    try {
                        return switch (h.get("alg").asText()) {
                            case "RS256" -> rsa.key();
                            case "ES512" -> publicKey(v.get("ec")).key();
                            default -> new SecretKeySpec(hmac, "HmacSHA256");
                        };
                    } catch (Exception x) {
                        throw new IllegalStateException(x);
                    }
                }))
                .hasSize(3);
        // one bad signature among the known ones refuses the envelope
        ObjectNode bad = (ObjectNode) v.get("json").deepCopy();
        ((ObjectNode) bad.get("signatures").get(2)).put("signature", "t0h6KThzkfBBBkLspW1h84VsJZFTsPPqMDA7g1Md7p0");
        assertRefused(
                () -> SignatureVerification.verifyAll(bad.toString(), Serialization.JSON, keys, POLICY),
                Refused.Reason.INTEGRITY);
        // the RSA key used as an HMAC secret (algorithm confusion) is refused
        JoseEnvelopes.VerificationKeys confused = h -> Optional.of(
                new VerificationKey.Symmetric("k", SecretBytes.copyOf(rsa.key().getEncoded())));
        assertRefused(
                () -> SignatureVerification.verifyAll(env, Serialization.JSON, confused, POLICY),
                Refused.Reason.POLICY);
        // a header member both protected and unprotected
        ObjectNode dup = (ObjectNode) v.get("json").deepCopy();
        ((ObjectNode) dup.get("signatures").get(0).get("header")).put("alg", "HS256");
        assertRefused(
                () -> SignatureVerification.verifyAll(dup.toString(), Serialization.JSON, keys, POLICY),
                Refused.Reason.MALFORMED);
    }

    @Test
    void rfc7520_5_4_ecdh_es_a128kw_p384_decrypts_with_the_vectors_private_key() throws Exception {
        JsonNode v = vector("5_4_ecdh_es_a128kw_a128gcm.json");
        ECKey key = ECKey.parse(v.get("key").toString());
        byte[] plain = CertificateEnvelopes.decryptFor(
                v.get("compact").asText(),
                Serialization.COMPACT,
                h -> "peregrin.took@tuckborough.example".equals(h.getKeyID()),
                new ECDHDecrypter(key),
                POLICY);
        assertThat(new String(plain, StandardCharsets.UTF_8))
                .isEqualTo(v.get("plaintext").asText());
        assertRefused(
                () -> CertificateEnvelopes.decryptFor(
                        v.get("compact").asText(), Serialization.COMPACT, h -> false, new ECDHDecrypter(key), POLICY),
                Refused.Reason.UNKNOWN_KEY);
    }

    @Test
    void rfc7520_5_10_aad_in_json_decrypts_and_the_aad_is_bound() throws Exception {
        JsonNode v = vector("5_10_aad_a128kw_a128gcm.json");
        byte[] kek = Base64.getUrlDecoder().decode(v.get("key").get("k").asText());
        String kid = v.get("key").get("kid").asText();
        byte[] plain = SymmetricEnvelopes.decrypt(v.get("json").toString(), Serialization.JSON, only(kid, kek), POLICY);
        assertThat(new String(plain, StandardCharsets.UTF_8))
                .isEqualTo(v.get("plaintext").asText());
        ObjectNode other = (ObjectNode) v.get("json").deepCopy();
        other.put(
                "aad",
                Base64.getUrlEncoder()
                        .withoutPadding()
                        .encodeToString("[\"vcard\",[]]".getBytes(StandardCharsets.UTF_8)));
        assertRefused(
                () -> SymmetricEnvelopes.decrypt(other.toString(), Serialization.JSON, only(kid, kek), POLICY),
                Refused.Reason.INTEGRITY);
    }

    // ---------------------------------------------------------------- JcaJose, both ways

    @Test
    void several_signatures_from_an_independent_implementation_verify_and_weak_or_confused_keys_are_refused()
            throws Exception {
        byte[] payload = "{\"con\":\"21.5\"}".getBytes(StandardCharsets.UTF_8);
        KeyPair ec = keyPair("EC", new ECGenParameterSpec("secp256r1"));
        KeyPair ec384 = keyPair("EC", new ECGenParameterSpec("secp384r1"));
        KeyPair rsa = keyPair("RSA", 2048);
        X509Certificate ecCert = selfSigned("CN=ec", ec, "SHA256withECDSA");
        X509Certificate ec384Cert = selfSigned("CN=ec384", ec384, "SHA384withECDSA");
        X509Certificate rsaCert = selfSigned("CN=rsa", rsa, "SHA256withRSA");
        byte[] mac = random(64);
        String kid = "0123456789abcdef0123456789abcdef@maf.acme.example";
        String env = JcaJose.makeJws(
                payload,
                List.of(
                        new SignWith(
                                "ES256", "x5t#S256", new CertificateRecipient(ecCert).thumbprint(), ec.getPrivate()),
                        new SignWith(
                                "ES384",
                                "x5t#S256",
                                new CertificateRecipient(ec384Cert).thumbprint(),
                                ec384.getPrivate()),
                        new SignWith(
                                "RS256", "x5t#S256", new CertificateRecipient(rsaCert).thumbprint(), rsa.getPrivate()),
                        new SignWith("HS512", "kid", kid, new SecretKeySpec(mac, "HmacSHA512"))));
        Map<String, X509Certificate> store = Map.of(
                new CertificateRecipient(ecCert).thumbprint(),
                ecCert,
                new CertificateRecipient(ec384Cert).thumbprint(),
                ec384Cert,
                new CertificateRecipient(rsaCert).thumbprint(),
                rsaCert);
        JoseEnvelopes.VerificationKeys both = h -> h.getKeyID() != null
                ? only(kid, mac).find(h.getKeyID()).map(k -> new VerificationKey.Symmetric(h.getKeyID(), k))
                : SignatureVerification.certificateKeys(t -> Optional.ofNullable(store.get(t)))
                        .find(h);
        for (Serialization s : List.of(Serialization.JSON, Serialization.JSON_BASE64)) {
            String e = s == Serialization.JSON
                    ? env
                    : Base64.getEncoder().encodeToString(env.getBytes(StandardCharsets.UTF_8));
            JoseEnvelopes.Verified ok = SignatureVerification.verifyAll(e, s, both, POLICY);
            assertThat(ok.payload()).isEqualTo(payload);
            assertThat(ok.keyIds()).hasSize(4).contains(kid);
        }
        // a receiver that holds only the MAC key verifies only that one
        assertThat(SignatureVerification.verify(env, Serialization.JSON, only(kid, mac), POLICY))
                .isEqualTo(payload);

        // a 1024-bit RSA signer is refused even though its signature is valid
        KeyPair weak = keyPair("RSA", 1024);
        X509Certificate weakCert = selfSigned("CN=weak", weak, "SHA256withRSA");
        String weakEnv = JcaJose.makeJws(
                payload,
                List.of(new SignWith(
                        "RS256", "x5t#S256", new CertificateRecipient(weakCert).thumbprint(), weak.getPrivate())));
        assertRefused(
                () -> SignatureVerification.verifySignature(
                        weakEnv, Serialization.JSON, t -> Optional.of(weakCert), POLICY),
                Refused.Reason.POLICY);
        // HS256 "signed" with the certificate's public key bytes (the classic confusion): never checked with a public
        // key
        String confused = JcaJose.makeJws(
                payload,
                List.of(new SignWith(
                        "HS256",
                        "x5t#S256",
                        new CertificateRecipient(rsaCert).thumbprint(),
                        new SecretKeySpec(rsaCert.getPublicKey().getEncoded(), "HmacSHA256"))));
        assertRefused(
                () -> SignatureVerification.verifySignature(
                        confused, Serialization.JSON, t -> Optional.of(rsaCert), POLICY),
                Refused.Reason.POLICY);
        // more signatures than the policy allows
        String many = JcaJose.makeJws(
                payload,
                List.of(
                        new SignWith("HS256", "kid", "a", new SecretKeySpec(mac, "HmacSHA256")),
                        new SignWith("HS256", "kid", "b", new SecretKeySpec(mac, "HmacSHA256")),
                        new SignWith("HS256", "kid", "c", new SecretKeySpec(mac, "HmacSHA256")),
                        new SignWith("HS256", "kid", "d", new SecretKeySpec(mac, "HmacSHA256")),
                        new SignWith("HS256", "kid", "e", new SecretKeySpec(mac, "HmacSHA256"))));
        assertRefused(
                () -> SignatureVerification.verify(many, Serialization.JSON, only("a", mac), POLICY),
                Refused.Reason.POLICY);
    }

    @Test
    void our_several_mac_signatures_are_verified_by_the_independent_implementation() throws Exception {
        byte[] payload = random(1024);
        byte[] k1 = random(32);
        byte[] k2 = random(64);
        String env = Signatures.signAll(
                payload,
                List.of(
                        Signatures.macKey(
                                new JoseEnvelopes.Recipient("a@maf.acme.example", SecretBytes.copyOf(k1)),
                                "HS256",
                                POLICY),
                        Signatures.macKey(
                                new JoseEnvelopes.Recipient("b@maf.acme.example", SecretBytes.copyOf(k2)),
                                "HS512",
                                POLICY)),
                Serialization.JSON,
                POLICY);
        assertThat(JcaJose.verifyJws(
                        env,
                        h -> h.get("kid").asText().startsWith("a")
                                ? new SecretKeySpec(k1, "HmacSHA256")
                                : new SecretKeySpec(k2, "HmacSHA512")))
                .containsExactly("a@maf.acme.example", "b@maf.acme.example");
        assertThat(JSON.readTree(env).get("payload").asText())
                .isEqualTo(Base64.getUrlEncoder().withoutPadding().encodeToString(payload));
        assertRefused(
                () -> Signatures.signAll(
                        payload,
                        List.of(
                                Signatures.macKey(
                                        new JoseEnvelopes.Recipient("a", SecretBytes.copyOf(k1)), "HS256", POLICY),
                                Signatures.macKey(
                                        new JoseEnvelopes.Recipient("b", SecretBytes.copyOf(k2)), "HS256", POLICY)),
                        Serialization.COMPACT,
                        POLICY),
                Refused.Reason.POLICY);
    }

    @Test
    void certificate_recipients_in_json_with_aad_one_or_several_are_opened_independently_and_the_other_way_round()
            throws Exception {
        byte[] payload = "meter 17: 4711 kWh".getBytes(StandardCharsets.UTF_8);
        byte[] aad = "{\"ri\":\"/cse-in/cnt-7\"}".getBytes(StandardCharsets.UTF_8);
        KeyPair ec = keyPair("EC", new ECGenParameterSpec("secp256r1"));
        KeyPair ec2 = keyPair("EC", new ECGenParameterSpec("secp256r1"));
        KeyPair rsa = keyPair("RSA", 2048);
        X509Certificate ecCert = selfSigned("CN=ec", ec, "SHA256withECDSA");
        X509Certificate ec2Cert = selfSigned("CN=ec2", ec2, "SHA256withECDSA");
        X509Certificate rsaCert = selfSigned("CN=rsa", rsa, "SHA256withRSA");
        String t1 = new CertificateRecipient(ecCert).thumbprint();
        String t2 = new CertificateRecipient(ec2Cert).thumbprint();
        String t3 = new CertificateRecipient(rsaCert).thumbprint();

        // one EC recipient with AAD: the ephemeral key sits in the recipient's header, the AAD is bound
        for (String alg : List.of("ECDH-ES+A128KW", "ECDH-ES+A256KW")) {
            String one = CertificateEnvelopes.encryptForCertificates(
                    payload,
                    aad,
                    List.of(new CertificateRecipient(ecCert)),
                    alg,
                    "A256GCM",
                    Serialization.JSON,
                    POLICY,
                    null);
            assertThat(JcaJose.openJwe(one, "x5t#S256", t1, ec.getPrivate()))
                    .as(alg)
                    .isEqualTo(payload);
            assertThat(CertificateEnvelopes.decryptForCertificate(
                            one,
                            Serialization.JSON,
                            t1,
                            new ECDHDecrypter((java.security.interfaces.ECPrivateKey) ec.getPrivate()),
                            POLICY))
                    .isEqualTo(payload);
            ObjectNode changed = (ObjectNode) JSON.readTree(one);
            changed.put(
                    "aad",
                    Base64.getUrlEncoder()
                            .withoutPadding()
                            .encodeToString("{\"ri\":\"/elsewhere\"}".getBytes(StandardCharsets.UTF_8)));
            assertRefused(
                    () -> CertificateEnvelopes.decryptForCertificate(
                            changed.toString(),
                            Serialization.JSON,
                            t1,
                            new ECDHDecrypter((java.security.interfaces.ECPrivateKey) ec.getPrivate()),
                            POLICY),
                    Refused.Reason.INTEGRITY);
        }
        // one RSA recipient with AAD
        String oneRsa = CertificateEnvelopes.encryptForCertificates(
                payload,
                aad,
                List.of(new CertificateRecipient(rsaCert)),
                "ECDH-ES+A256KW",
                "A256GCM",
                Serialization.JSON_BASE64,
                POLICY,
                null);
        String oneRsaJson = new String(Base64.getDecoder().decode(oneRsa), StandardCharsets.UTF_8);
        assertThat(JcaJose.openJwe(oneRsaJson, "x5t#S256", t3, rsa.getPrivate()))
                .isEqualTo(payload);

        // three certificate recipients (EC, EC, RSA) with AAD: each opens it independently
        String three = CertificateEnvelopes.encryptForCertificates(
                payload,
                aad,
                List.of(
                        new CertificateRecipient(ecCert),
                        new CertificateRecipient(ec2Cert),
                        new CertificateRecipient(rsaCert)),
                "ECDH-ES+A256KW",
                "A256GCM",
                Serialization.JSON,
                POLICY,
                null);
        assertThat(JcaJose.openJwe(three, "x5t#S256", t1, ec.getPrivate())).isEqualTo(payload);
        assertThat(JcaJose.openJwe(three, "x5t#S256", t2, ec2.getPrivate())).isEqualTo(payload);
        assertThat(JcaJose.openJwe(three, "x5t#S256", t3, rsa.getPrivate())).isEqualTo(payload);

        // the other way round: an independent envelope for EC, EC and RSA targets (plus a symmetric one) opens here
        byte[] kek = random(32);
        String theirs = JcaJose.makeJwe(
                payload,
                aad,
                "A256GCM",
                null,
                List.of(
                        new EncryptFor("ECDH-ES+A256KW", "x5t#S256", t1, ec.getPublic()),
                        new EncryptFor("ECDH-ES+A128KW", "x5t#S256", t2, ec2.getPublic()),
                        new EncryptFor("RSA-OAEP-256", "x5t#S256", t3, rsa.getPublic()),
                        new EncryptFor("A256KW", "kid", "k@maf.acme.example", new SecretKeySpec(kek, "AES"))));
        assertThat(CertificateEnvelopes.decryptForCertificate(
                        theirs,
                        Serialization.JSON,
                        t1,
                        new ECDHDecrypter((java.security.interfaces.ECPrivateKey) ec.getPrivate()),
                        POLICY))
                .isEqualTo(payload);
        assertThat(CertificateEnvelopes.decryptForCertificate(
                        theirs,
                        Serialization.JSON,
                        t2,
                        new ECDHDecrypter((java.security.interfaces.ECPrivateKey) ec2.getPrivate()),
                        POLICY))
                .isEqualTo(payload);
        assertThat(CertificateEnvelopes.decryptForCertificate(
                        theirs, Serialization.JSON, t3, new RSADecrypter(rsa.getPrivate()), POLICY))
                .isEqualTo(payload);
        assertThat(SymmetricEnvelopes.decrypt(theirs, Serialization.JSON, only("k@maf.acme.example", kek), POLICY))
                .isEqualTo(payload);
        // a target not among the recipients
        assertRefused(
                () -> CertificateEnvelopes.decryptForCertificate(
                        theirs,
                        Serialization.JSON,
                        "not-a-recipient",
                        new ECDHDecrypter((java.security.interfaces.ECPrivateKey) ec.getPrivate()),
                        POLICY),
                Refused.Reason.UNKNOWN_KEY);
    }
}
