package io.m2mtrust.esdata;

import com.nimbusds.jose.EncryptionMethod;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWEAlgorithm;
import com.nimbusds.jose.JWEEncrypter;
import com.nimbusds.jose.JWEHeader;
import com.nimbusds.jose.JWEObject;
import com.nimbusds.jose.JWEObjectJSON;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.AESEncrypter;
import com.nimbusds.jose.crypto.DirectEncrypter;
import com.nimbusds.jose.crypto.MultiEncrypter;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.OctetSequenceKey;
import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.esdata.JoseEnvelopes.EncryptionPlan;
import io.m2mtrust.esdata.JoseEnvelopes.KeyLookup;
import io.m2mtrust.esdata.JoseEnvelopes.KeySize;
import io.m2mtrust.esdata.JoseEnvelopes.Policy;
import io.m2mtrust.esdata.JoseEnvelopes.Recipient;
import io.m2mtrust.esdata.JoseEnvelopes.Refused;
import io.m2mtrust.esdata.JoseEnvelopes.Serialization;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** ESData envelopes with symmetric keys (TS-0003 §8.5): JWE with {@code dir} or AES key wrap to one or several recipients, nested sign-then-encrypt, and the algorithm planner the dry-run shares. */
public final class SymmetricEnvelopes {

    private SymmetricEnvelopes() {}

    // ---------------------------------------------------------------- encryption

    /** Nested sign-then-encrypt (§8.5): the plaintext is a JWS, signalled by {@code cty} "JOSE" (compact) or "JOSE+JSON". */
    public static String encryptNested(
            String jws,
            Serialization innerSerialization,
            List<Recipient> recipients,
            String alg,
            String enc,
            Serialization serialization,
            Policy policy)
            throws Refused {
        return encrypt(
                jws.getBytes(StandardCharsets.US_ASCII),
                null,
                recipients,
                alg,
                enc,
                serialization,
                policy,
                innerSerialization == Serialization.COMPACT ? "JOSE" : "JOSE+JSON",
                null);
    }

    /**
     * Encrypts for symmetric recipients. {@code contentType}: the {@code cty} (nested: "JOSE"), or null;
     * {@code random}: the CEK and IV source of a single-recipient envelope (null: the JCA default); tests pass RFC
     * 7520's to compare bytes.
     */
    public static String encrypt(
            byte[] payload,
            byte[] aad,
            List<Recipient> recipients,
            String alg,
            String enc,
            Serialization serialization,
            Policy policy,
            String contentType,
            java.security.SecureRandom random)
            throws Refused {
        boolean hasAad = aad != null && aad.length > 0;
        List<KeySize> sizes = new ArrayList<>();
        for (Recipient r : recipients) {
            sizes.add(new KeySize(r.kid(), r.key().length()));
        }
        EncryptionPlan plan = planEncryption(sizes, alg, enc, serialization, hasAad, payload.length, policy);
        EncryptionMethod e = EncryptionMethod.parse(plan.enc());
        try {
            if (recipients.size() == 1) {
                Recipient r = recipients.get(0);
                JWEAlgorithm a = JWEAlgorithm.parse(plan.algs().get(0));
                JWEHeader header = new JWEHeader.Builder(a, e)
                        .keyID(r.kid())
                        .contentType(contentType)
                        .build();
                JWEEncrypter encrypter = r.key().reveal(k -> {
                    try {
                        return a.equals(JWEAlgorithm.DIR)
                                ? new DirectEncrypter(JoseAlgorithms.secret(k))
                                : new AESEncrypter(JoseAlgorithms.secret(k));
                    } catch (JOSEException x) {
                        throw new IllegalArgumentException(x.getMessage());
                    }
                });
                if (random != null) {
                    encrypter.getJCAContext().setSecureRandom(random);
                }
                if (serialization == Serialization.COMPACT) {
                    JWEObject jwe = new JWEObject(header, new Payload(payload));
                    jwe.encrypt(encrypter);
                    return jwe.serialize();
                }
                JWEObjectJSON jwe = new JWEObjectJSON(
                        header, new Payload(payload), null, hasAad ? JoseAlgorithms.aadMember(aad) : null);
                jwe.encrypt(encrypter);
                return JoseAlgorithms.json(jwe.serializeGeneral(), serialization);
            }
            // several recipients: a random CEK wrapped once per recipient, each with the key wrap that fits its key
            // (RFC 7516 §7.2.1)
            List<JWK> keys = new ArrayList<>();
            for (int i = 0; i < recipients.size(); i++) {
                Recipient r = recipients.get(i);
                JWEAlgorithm a = JWEAlgorithm.parse(plan.algs().get(i));
                keys.add(r.key()
                        .reveal(k -> new OctetSequenceKey.Builder(k)
                                .keyID(r.kid())
                                .algorithm(a)
                                .keyUse(KeyUse.ENCRYPTION)
                                .build()));
            }
            JWEObjectJSON jwe = new JWEObjectJSON(
                    new JWEHeader.Builder(e).contentType(contentType).build(),
                    new Payload(payload),
                    null,
                    hasAad ? JoseAlgorithms.aadMember(aad) : null);
            jwe.encrypt(new MultiEncrypter(new JWKSet(keys)));
            return JoseAlgorithms.json(jwe.serializeGeneral(), serialization);
        } catch (IllegalArgumentException | JOSEException x) {
            throw new Refused(
                    Refused.Reason.KEY_UNSUITABLE,
                    "the key does not fit " + plan.alg() + "/" + plan.enc() + ": " + x.getMessage());
        }
    }

    /**
     * Chooses how to encrypt for symmetric keys of the given lengths, or refuses as {@link #encrypt} would
     * (RFC 7518: {@code dir} needs exactly the {@code enc} key size, {@code A*KW} exactly the KEK size). With no
     * {@code alg}, one key goes {@code dir} with the AES-GCM of its size (or, when {@code enc} is given and does
     * not fit the key, the key wrap of its size), several keys each get the key wrap of their size — recipients
     * may differ (RFC 7516 §7.2.1 per-recipient {@code alg}). The content encryption defaults to the key's size for
     * {@code dir} and A256GCM for key wrap. Everything chosen must be in the tenant policy.
     */
    public static EncryptionPlan planEncryption(
            List<KeySize> recipients,
            String alg,
            String enc,
            Serialization serialization,
            boolean hasAad,
            int payloadLength,
            Policy policy)
            throws Refused {
        EnvelopeChecks.checkRecipientCount(recipients.size(), policy);
        EnvelopeChecks.checkPayloadAndSerialization(payloadLength, serialization, recipients.size(), hasAad, policy);
        if (enc != null && !policy.encs().contains(enc)) {
            throw new Refused(
                    Refused.Reason.POLICY,
                    "enc " + EnvelopeChecks.printable(enc) + " is not allowed by the tenant policy");
        }
        if (enc != null && JoseAlgorithms.gcmKeyBytes(enc) == 0) {
            throw new Refused(
                    Refused.Reason.KEY_UNSUITABLE,
                    "enc " + EnvelopeChecks.printable(enc)
                            + " is not an ESData content encryption (A128GCM, A192GCM, A256GCM)");
        }
        List<String> algs = new ArrayList<>();
        String chosenEnc = enc;
        if (alg != null) {
            if (alg.equals("dir")) {
                if (recipients.size() != 1) {
                    throw new Refused(Refused.Reason.POLICY, "dir takes exactly one symmetric key");
                }
                KeySize k = recipients.get(0);
                chosenEnc = enc != null ? enc : JoseAlgorithms.gcmFor(k.length());
                if (chosenEnc == null || JoseAlgorithms.gcmKeyBytes(chosenEnc) != k.length()) {
                    throw new Refused(
                            Refused.Reason.KEY_UNSUITABLE,
                            k.kid() + ": a " + k.length() + "-byte key does not fit dir"
                                    + (chosenEnc == null
                                            ? " (dir takes a 16, 24 or 32-byte key)"
                                            : " with " + chosenEnc + " (it takes "
                                                    + JoseAlgorithms.gcmKeyBytes(chosenEnc) + " bytes)"));
                }
                algs.add("dir");
            } else if (JoseAlgorithms.kwKeyBytes(alg) > 0) {
                for (KeySize k : recipients) {
                    if (k.length() != JoseAlgorithms.kwKeyBytes(alg)) {
                        throw new Refused(
                                Refused.Reason.KEY_UNSUITABLE,
                                k.kid() + ": a " + k.length() + "-byte key does not fit " + alg + " (it takes "
                                        + JoseAlgorithms.kwKeyBytes(alg) + " bytes)");
                    }
                    algs.add(alg);
                }
            } else {
                EnvelopeChecks.checkAllowed(policy, alg, null);
                throw new Refused(
                        Refused.Reason.KEY_UNSUITABLE,
                        alg + " is not a key-management algorithm for symmetric keys (dir, A128KW, A192KW, A256KW)");
            }
        } else if (recipients.size() == 1
                && (enc == null
                        ? JoseAlgorithms.gcmFor(recipients.get(0).length()) != null
                        : JoseAlgorithms.gcmKeyBytes(enc) == recipients.get(0).length())
                && policy.algs().contains("dir")) {
            algs.add("dir");
            chosenEnc =
                    enc != null ? enc : JoseAlgorithms.gcmFor(recipients.get(0).length());
        } else {
            for (KeySize k : recipients) {
                String kw = JoseAlgorithms.kwFor(k.length());
                if (kw == null) {
                    throw new Refused(
                            Refused.Reason.KEY_UNSUITABLE,
                            k.kid() + ": a " + k.length() + "-byte key fits no key wrap (A128KW, A192KW, A256KW)");
                }
                algs.add(kw);
            }
        }
        if (chosenEnc == null) {
            chosenEnc = "A256GCM";
        }
        for (int i = 0; i < algs.size(); i++) {
            if (!policy.algs().contains(algs.get(i))) {
                throw new Refused(
                        Refused.Reason.POLICY,
                        "alg " + algs.get(i)
                                + (alg == null
                                        ? " (chosen for " + recipients.get(i).kid() + "'s "
                                                + recipients.get(i).length() + "-byte key)"
                                        : "")
                                + " is not allowed by the tenant policy");
            }
        }
        EnvelopeChecks.checkAllowed(policy, algs.get(0), chosenEnc);
        return new EncryptionPlan(List.copyOf(algs), chosenEnc);
    }

    /** Decrypts for the caller: the first recipient whose {@code kid} the lookup knows is used. */
    public static byte[] decrypt(String envelope, Serialization serialization, KeyLookup keys, Policy policy)
            throws Refused {
        EnvelopeChecks.checkSize(envelope, policy);
        try {
            if (serialization == Serialization.COMPACT) {
                JWEObject jwe = EnvelopeChecks.parseCompactJwe(envelope, policy);
                EnvelopeChecks.checkHeader(
                        policy,
                        jwe.getHeader().getAlgorithm().getName(),
                        jwe.getHeader().getEncryptionMethod().getName(),
                        jwe.getHeader().getCriticalParams(),
                        jwe.getHeader().getCompressionAlgorithm() != null);
                String kid = jwe.getHeader().getKeyID();
                SecretBytes key = EnvelopeChecks.lookup(keys, kid);
                try (key) {
                    EnvelopeChecks.requireGcmParts(jwe.getIV(), jwe.getAuthTag());
                    jwe.decrypt(JoseAlgorithms.decrypter(jwe.getHeader().getAlgorithm(), key));
                }
                return jwe.getPayload().toBytes();
            }
            Map<String, Object> map = EnvelopeChecks.strictJson(envelope, serialization);
            EnvelopeChecks.requireJweJsonMembers(map);
            JWEObjectJSON jwe = EnvelopeChecks.nimbus(() -> JWEObjectJSON.parse(map));
            JWEHeader protectedHeader = jwe.getHeader();
            String enc = protectedHeader.getEncryptionMethod() == null
                    ? null
                    : protectedHeader.getEncryptionMethod().getName();
            if (protectedHeader.getCompressionAlgorithm() != null) {
                throw new Refused(Refused.Reason.POLICY, "compressed content (zip) is not accepted");
            }
            List<JWEObjectJSON.Recipient> recipients = jwe.getRecipients();
            if (recipients.isEmpty() || recipients.size() > policy.maxRecipients()) {
                throw new Refused(Refused.Reason.POLICY, "1 to " + policy.maxRecipients() + " recipients");
            }
            for (JWEObjectJSON.Recipient r : recipients) {
                // the recipient's header is protected ∪ shared unprotected ∪ its own (RFC 7516 §7.2.1, disjoint)
                var headers = JoseAlgorithms.mergeHeaders(jwe, r);
                JWEHeader merged = EnvelopeChecks.nimbus(() -> JWEHeader.parse(headers));
                String alg = merged.getAlgorithm() == null
                        ? null
                        : merged.getAlgorithm().getName();
                String kid = merged.getKeyID();
                EnvelopeChecks.checkHeader(policy, alg, enc, protectedHeader.getCriticalParams(), false);
                if (kid == null) {
                    continue;
                }
                Optional<SecretBytes> key = keys.find(kid);
                if (key.isEmpty()) {
                    continue;
                }
                if (JWEAlgorithm.DIR.getName().equals(alg) && recipients.size() != 1) {
                    key.get().close();
                    throw new Refused(Refused.Reason.POLICY, "dir takes exactly one recipient");
                }
                try (SecretBytes k = key.get()) {
                    EnvelopeChecks.requireGcmParts(jwe.getIV(), jwe.getAuthTag());
                    // the recipient's own encrypted key and the JSON AAD as sent: BASE64URL(protected) [ "." aad ]
                    // (§5.2 step 15)
                    byte[] plain = JoseAlgorithms.decrypter(merged.getAlgorithm(), k)
                            .decrypt(
                                    merged,
                                    r.getEncryptedKey(),
                                    jwe.getIV(),
                                    jwe.getCipherText(),
                                    jwe.getAuthTag(),
                                    jwe.getAAD());
                    return plain;
                }
            }
            throw new Refused(Refused.Reason.UNKNOWN_KEY, "none of the recipients' keys is known to this end-point");
        } catch (java.text.ParseException | JOSEException x) {
            throw EnvelopeChecks.unopened(x);
        } catch (IllegalArgumentException | IllegalStateException x) {
            throw new Refused(Refused.Reason.KEY_UNSUITABLE, "the key does not fit the envelope: " + x.getMessage());
        }
    }
}
