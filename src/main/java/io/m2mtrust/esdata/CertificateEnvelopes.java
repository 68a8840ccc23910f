package io.m2mtrust.esdata;

import com.nimbusds.jose.EncryptionMethod;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWEAlgorithm;
import com.nimbusds.jose.JWEDecrypter;
import com.nimbusds.jose.JWEEncrypter;
import com.nimbusds.jose.JWEHeader;
import com.nimbusds.jose.JWEObject;
import com.nimbusds.jose.JWEObjectJSON;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.MultiEncrypter;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.util.JSONObjectUtils;
import io.m2mtrust.esdata.JoseEnvelopes.CertificateRecipient;
import io.m2mtrust.esdata.JoseEnvelopes.EncryptionPlan;
import io.m2mtrust.esdata.JoseEnvelopes.Policy;
import io.m2mtrust.esdata.JoseEnvelopes.Refused;
import io.m2mtrust.esdata.JoseEnvelopes.Serialization;

import javax.crypto.SecretKey;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** ESData envelopes encrypted for certificates (TS-0003 §8.5): ECDH-ES+A*KW for EC keys, RSA-OAEP-256 for RSA, one or several recipients, decryption in the HSM. */
public final class CertificateEnvelopes {

    private CertificateEnvelopes() {}

    /**
     * The checks of {@link #encryptForCertificates}, before any key work: recipient count, allow-lists, sizes,
     * serialization; EC keys get {@code ecAlg}, RSA keys (≥ 2048 bits) RSA-OAEP-256.
     */
    public static EncryptionPlan planCertificateEncryption(
            List<CertificateRecipient> certs,
            String ecAlg,
            String enc,
            Serialization serialization,
            boolean hasAad,
            int payloadLength,
            Policy policy)
            throws Refused {
        EnvelopeChecks.checkRecipientCount(certs.size(), policy);
        EnvelopeChecks.checkAllowed(policy, ecAlg, enc);
        EnvelopeChecks.checkPayloadAndSerialization(payloadLength, serialization, certs.size(), hasAad, policy);
        List<String> algs = new ArrayList<>();
        for (CertificateRecipient c : certs) {
            java.security.PublicKey pk = c.certificate().getPublicKey();
            if (pk instanceof java.security.interfaces.ECPublicKey) {
                algs.add(ecAlg);
            } else if (pk instanceof java.security.interfaces.RSAPublicKey rsa) {
                if (rsa.getModulus().bitLength() < 2048) {
                    throw new Refused(Refused.Reason.POLICY, "RSA keys under 2048 bits are refused");
                }
                EnvelopeChecks.checkAllowed(policy, "RSA-OAEP-256", enc);
                algs.add("RSA-OAEP-256");
            } else {
                throw new Refused(Refused.Reason.KEY_UNSUITABLE, "unsupported certificate key");
            }
        }
        return new EncryptionPlan(List.copyOf(algs), enc);
    }

    /**
     * Encrypts for target certificates (and optionally symmetric recipients too): a random CEK wrapped per
     * recipient. Identified by {@code x5t#S256} (interop profile). RSA keys under 2048 bits are refused. {@code contentType}: the {@code cty} (nested: "JOSE"), or null.
     */
    public static String encryptForCertificates(
            byte[] payload,
            byte[] aad,
            List<CertificateRecipient> certs,
            String ecAlg,
            String enc,
            Serialization serialization,
            Policy policy,
            String contentType)
            throws Refused {
        boolean hasAad = aad != null && aad.length > 0;
        planCertificateEncryption(certs, ecAlg, enc, serialization, hasAad, payload.length, policy);
        EncryptionMethod e = EncryptionMethod.parse(enc);
        try {
            List<JWK> keys = new ArrayList<>();
            for (CertificateRecipient c : certs) {
                java.security.PublicKey pk = c.certificate().getPublicKey();
                com.nimbusds.jose.util.Base64URL x5t = new com.nimbusds.jose.util.Base64URL(c.thumbprint());
                if (pk instanceof java.security.interfaces.ECPublicKey ec) {
                    keys.add(new com.nimbusds.jose.jwk.ECKey.Builder(
                                    com.nimbusds.jose.jwk.Curve.forECParameterSpec(ec.getParams()), ec)
                            .algorithm(JWEAlgorithm.parse(ecAlg))
                            .keyID(c.thumbprint())
                            .x509CertSHA256Thumbprint(x5t)
                            .build());
                } else { // RSA, at least 2048 bits (planned above)
                    keys.add(new com.nimbusds.jose.jwk.RSAKey.Builder((java.security.interfaces.RSAPublicKey) pk)
                            .algorithm(JWEAlgorithm.RSA_OAEP_256)
                            .keyID(c.thumbprint())
                            .x509CertSHA256Thumbprint(x5t)
                            .build());
                }
            }
            if (keys.size() == 1) {
                // one recipient: its header is the protected header (Nimbus's multi-recipient encrypter would drop it)
                JWK k = keys.get(0);
                JWEHeader header = new JWEHeader.Builder((JWEAlgorithm) k.getAlgorithm(), e)
                        .x509CertSHA256Thumbprint(k.getX509CertSHA256Thumbprint())
                        .keyID(k.getKeyID())
                        .contentType(contentType)
                        .build();
                JWEEncrypter encrypter = k instanceof com.nimbusds.jose.jwk.ECKey ec
                        ? new com.nimbusds.jose.crypto.ECDHEncrypter(ec)
                        : new com.nimbusds.jose.crypto.RSAEncrypter((com.nimbusds.jose.jwk.RSAKey) k);
                encrypter.getJCAContext().setProvider(JoseEnvelopes.BC);
                if (hasAad) {
                    return JoseAlgorithms.json(
                            oneCertificateRecipientWithAad(k, e, contentType, payload, aad), serialization);
                }
                JWEObject jwe = new JWEObject(header, new Payload(payload));
                jwe.encrypt(encrypter);
                if (serialization == Serialization.COMPACT) {
                    return jwe.serialize();
                }
                // the same envelope in JWE JSON general serialization (RFC 7516 §7.2.1): protected header, one
                // recipient
                String[] p = jwe.serialize().split("\\.", -1);
                Map<String, Object> general = new LinkedHashMap<>();
                general.put("protected", p[0]);
                general.put("recipients", List.of(Map.of("encrypted_key", p[1])));
                general.put("iv", p[2]);
                general.put("ciphertext", p[3]);
                general.put("tag", p[4]);
                return JoseAlgorithms.json(JSONObjectUtils.toJSONString(general), serialization);
            }
            JWEObjectJSON jwe = new JWEObjectJSON(
                    new JWEHeader.Builder(e).contentType(contentType).build(),
                    new Payload(payload),
                    null,
                    hasAad ? JoseAlgorithms.aadMember(aad) : null);
            MultiEncrypter multi = new MultiEncrypter(new JWKSet(keys));
            multi.getJCAContext().setProvider(JoseEnvelopes.BC);
            jwe.encrypt(multi);
            return JoseAlgorithms.json(jwe.serializeGeneral(), serialization);
        } catch (JOSEException x) {
            throw new Refused(Refused.Reason.KEY_UNSUITABLE, "cannot encrypt for the certificate: " + x.getMessage());
        }
    }

    /**
     * One certificate recipient with AAD (JWE JSON): the ephemeral key (or the RSA-wrapped CEK) goes in the
     * recipient's own header, so the protected header ({@code enc}, {@code cty}) and with it the JSON AAD
     * (RFC 7516 §5.1 step 14: BASE64URL(protected) "." BASE64URL(aad)) are fixed before the key is wrapped.
     * ECDH-ES+A*KW per RFC 7518 §4.6 (Concat KDF over the recipient's {@code alg}, no apu/apv).
     */
    static String oneCertificateRecipientWithAad(
            JWK k, EncryptionMethod e, String contentType, byte[] payload, byte[] aad) throws JOSEException {
        java.security.SecureRandom random = new java.security.SecureRandom();
        SecretKey cek = com.nimbusds.jose.crypto.impl.ContentCryptoProvider.generateCEK(e, random);
        JWEAlgorithm alg = (JWEAlgorithm) k.getAlgorithm();
        Map<String, Object> recipientHeader = new java.util.LinkedHashMap<>();
        recipientHeader.put("alg", alg.getName());
        recipientHeader.put("kid", k.getKeyID());
        recipientHeader.put("x5t#S256", k.getX509CertSHA256Thumbprint().toString());
        byte[] encryptedKey;
        if (k instanceof com.nimbusds.jose.jwk.ECKey ec) {
            try {
                java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("EC", JoseEnvelopes.BC);
                g.initialize(ec.getCurve().toECParameterSpec(), random);
                java.security.KeyPair eph = g.generateKeyPair();
                com.nimbusds.jose.jwk.ECKey epk = new com.nimbusds.jose.jwk.ECKey.Builder(
                                ec.getCurve(), (java.security.interfaces.ECPublicKey) eph.getPublic())
                        .build();
                SecretKey z = com.nimbusds.jose.crypto.impl.ECDH.deriveSharedSecret(
                        ec.toECPublicKey(), eph.getPrivate(), JoseEnvelopes.BC);
                JWEHeader kdfHeader = new JWEHeader.Builder(alg, e).build();
                SecretKey kek = com.nimbusds.jose.crypto.impl.ECDH.deriveSharedKey(
                        kdfHeader, z, new com.nimbusds.jose.crypto.impl.ConcatKDF("SHA-256"));
                encryptedKey = com.nimbusds.jose.crypto.impl.AESKW.wrapCEK(cek, kek, JoseEnvelopes.BC);
                recipientHeader.put("epk", epk.toJSONObject());
            } catch (java.security.GeneralSecurityException x) {
                throw new JOSEException("ephemeral key: " + x.getMessage(), x);
            }
        } else {
            encryptedKey = com.nimbusds.jose.crypto.impl.RSA_OAEP_SHA2.encryptCEK(
                    ((com.nimbusds.jose.jwk.RSAKey) k).toRSAPublicKey(),
                    cek,
                    256,
                    com.nimbusds.jose.crypto.opts.CipherMode.ENCRYPT_DECRYPT,
                    JoseEnvelopes.BC);
        }
        JWEHeader protectedHeader =
                new JWEHeader.Builder(e).contentType(contentType).build();
        String protectedB64 = protectedHeader.toBase64URL().toString();
        byte[] fullAad =
                (protectedB64 + "." + com.nimbusds.jose.util.Base64URL.encode(aad)).getBytes(StandardCharsets.US_ASCII);
        byte[] iv = com.nimbusds.jose.crypto.impl.AESGCM.generateIV(random);
        com.nimbusds.jose.crypto.impl.AuthenticatedCipherText ct = com.nimbusds.jose.crypto.impl.AESGCM.encrypt(
                cek, new com.nimbusds.jose.util.Container<>(iv), payload, fullAad, null);
        Map<String, Object> recipient = new java.util.LinkedHashMap<>();
        recipient.put("header", recipientHeader);
        recipient.put(
                "encrypted_key",
                com.nimbusds.jose.util.Base64URL.encode(encryptedKey).toString());
        Map<String, Object> out = new java.util.LinkedHashMap<>();
        out.put("protected", protectedB64);
        out.put("recipients", List.of(recipient));
        out.put("aad", com.nimbusds.jose.util.Base64URL.encode(aad).toString());
        out.put("iv", com.nimbusds.jose.util.Base64URL.encode(iv).toString());
        out.put(
                "ciphertext",
                com.nimbusds.jose.util.Base64URL.encode(ct.getCipherText()).toString());
        out.put(
                "tag",
                com.nimbusds.jose.util.Base64URL.encode(ct.getAuthenticationTag())
                        .toString());
        return com.nimbusds.jose.util.JSONObjectUtils.toJSONString(out);
    }

    /**
     * Decrypts an envelope encrypted for a certificate whose private key is in the HSM ({@code x5t} is its
     * thumbprint): compact, or JSON with that recipient among others.
     */
    public static byte[] decryptForCertificate(
            String envelope, Serialization serialization, String x5t, JWEDecrypter hsmDecrypter, Policy policy)
            throws Refused {
        return decryptFor(
                envelope,
                serialization,
                h -> h.getX509CertSHA256Thumbprint() != null
                        && x5t.equals(h.getX509CertSHA256Thumbprint().toString()),
                hsmDecrypter,
                policy);
    }

    /**
     * Decrypts for the recipient whose (merged) header {@code mine} accepts, with {@code decrypter} (ECDH-ES+A*KW
     * or RSA-OAEP-256 with a private key); the same checks as every other path. Production names
     * certificates by {@code x5t#S256}; the RFC 7520 vectors name theirs by {@code kid}.
     */
    static byte[] decryptFor(
            String envelope,
            Serialization serialization,
            java.util.function.Predicate<JWEHeader> mine,
            JWEDecrypter decrypter,
            Policy policy)
            throws Refused {
        JWEDecrypter hsmDecrypter = decrypter;
        EnvelopeChecks.checkSize(envelope, policy);
        try {
            if (serialization == Serialization.COMPACT) {
                JWEObject jwe = EnvelopeChecks.parseCompactJwe(envelope, policy);
                JWEHeader h = jwe.getHeader();
                EnvelopeChecks.checkHeader(
                        policy,
                        h.getAlgorithm().getName(),
                        h.getEncryptionMethod().getName(),
                        h.getCriticalParams(),
                        h.getCompressionAlgorithm() != null);
                if (!mine.test(h)) {
                    throw new Refused(Refused.Reason.UNKNOWN_KEY, "not encrypted for this end-point's certificate");
                }
                EnvelopeChecks.requireGcmParts(jwe.getIV(), jwe.getAuthTag());
                jwe.decrypt(hsmDecrypter);
                return jwe.getPayload().toBytes();
            }
            Map<String, Object> map = EnvelopeChecks.strictJson(envelope, serialization);
            EnvelopeChecks.requireJweJsonMembers(map);
            JWEObjectJSON jwe = EnvelopeChecks.nimbus(() -> JWEObjectJSON.parse(map));
            JWEHeader shared = jwe.getHeader();
            if (jwe.getRecipients().size() == 1 && shared.getAlgorithm() != null) {
                // one recipient whose header is the protected header; Nimbus assembles the JSON AAD itself
                if (!mine.test(shared)) {
                    throw new Refused(Refused.Reason.UNKNOWN_KEY, "not encrypted for this end-point's certificate");
                }
                EnvelopeChecks.checkHeader(
                        policy,
                        shared.getAlgorithm().getName(),
                        shared.getEncryptionMethod().getName(),
                        shared.getCriticalParams(),
                        shared.getCompressionAlgorithm() != null);
                EnvelopeChecks.requireGcmParts(jwe.getIV(), jwe.getAuthTag());
                jwe.decrypt(hsmDecrypter);
                return jwe.getPayload().toBytes();
            }
            if (jwe.getRecipients().isEmpty() || jwe.getRecipients().size() > policy.maxRecipients()) {
                throw new Refused(Refused.Reason.POLICY, "1 to " + policy.maxRecipients() + " recipients");
            }
            for (JWEObjectJSON.Recipient r : jwe.getRecipients()) {
                if (r.getUnprotectedHeader() == null || r.getUnprotectedHeader().getParam("alg") == null) {
                    continue;
                }
                var headers = JoseAlgorithms.mergeHeaders(jwe, r);
                JWEHeader merged = EnvelopeChecks.nimbus(() -> JWEHeader.parse(headers));
                if (!mine.test(merged)) {
                    continue;
                }
                EnvelopeChecks.checkHeader(
                        policy,
                        merged.getAlgorithm().getName(),
                        merged.getEncryptionMethod().getName(),
                        merged.getCriticalParams(),
                        merged.getCompressionAlgorithm() != null);
                byte[] aadBytes = jwe.getAAD() != null
                        ? jwe.getAAD()
                        : JoseAlgorithms.jweJsonAad(shared, null); // Nimbus returns the full JSON AAD
                EnvelopeChecks.requireGcmParts(jwe.getIV(), jwe.getAuthTag());
                byte[] plain = hsmDecrypter.decrypt(
                        merged, r.getEncryptedKey(), jwe.getIV(), jwe.getCipherText(), jwe.getAuthTag(), aadBytes);
                return plain;
            }
            throw new Refused(Refused.Reason.UNKNOWN_KEY, "not encrypted for this end-point's certificate");
        } catch (java.text.ParseException | JOSEException x) {
            throw EnvelopeChecks.unopened(x);
        } catch (RuntimeException x) {
            throw new Refused(Refused.Reason.KEY_UNSUITABLE, "decryption failed: " + x.getMessage());
        }
    }
}
