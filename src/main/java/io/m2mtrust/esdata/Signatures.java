package io.m2mtrust.esdata;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.JWSObjectJSON;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.MACSigner;
import io.m2mtrust.esdata.JoseEnvelopes.CertificateRecipient;
import io.m2mtrust.esdata.JoseEnvelopes.KeySize;
import io.m2mtrust.esdata.JoseEnvelopes.Policy;
import io.m2mtrust.esdata.JoseEnvelopes.Recipient;
import io.m2mtrust.esdata.JoseEnvelopes.Refused;
import io.m2mtrust.esdata.JoseEnvelopes.Serialization;
import io.m2mtrust.esdata.JoseEnvelopes.SigningKey;

import java.util.List;
import java.util.Set;

/** ESData signatures (TS-0003 §8.5): MACs with symmetric keys, certificate signatures made in the HSM, one or several in JWS JSON, and the size-only stand-ins of the dry-run. */
public final class Signatures {

    private Signatures() {}

    /**
     * Chooses the MAC algorithm for symmetric keys of the given lengths (HS256 unless asked), or refuses as
     * {@link #macKey} and {@link #signAll} would: an allowed HMAC, keys at least as long as the hash (RFC 7518 §3.2).
     */
    public static String planMacs(
            List<KeySize> keys, String alg, Serialization serialization, int payloadLength, Policy policy)
            throws Refused {
        if (keys.isEmpty() || keys.size() > policy.maxRecipients()) {
            throw new Refused(Refused.Reason.POLICY, "1 to " + policy.maxRecipients() + " signatures");
        }
        if (serialization == Serialization.COMPACT && keys.size() > 1) {
            throw new Refused(Refused.Reason.POLICY, "several signatures need JSON serialization");
        }
        if (payloadLength > policy.maxPayloadBytes()) {
            throw new Refused(Refused.Reason.POLICY, "payload larger than " + policy.maxPayloadBytes() + " bytes");
        }
        String a = alg != null ? alg : "HS256";
        EnvelopeChecks.checkAllowed(policy, a, null);
        int hashBytes = JoseAlgorithms.hmacBytes(a);
        if (hashBytes == 0) {
            throw new Refused(Refused.Reason.POLICY, EnvelopeChecks.printable(a) + " is not an HMAC algorithm");
        }
        for (KeySize k : keys) {
            if (k.length() < hashBytes) {
                throw new Refused(
                        Refused.Reason.KEY_UNSUITABLE,
                        k.kid() + ": a " + k.length() + "-byte key does not fit " + a
                                + " (RFC 7518 wants at least the hash length, " + hashBytes + " bytes)");
            }
        }
        return a;
    }

    /** A MAC with a symmetric key (HS256/384/512; RFC 7518 wants a key at least as long as the hash). */
    public static SigningKey macKey(Recipient key, String alg, Policy policy) throws Refused {
        EnvelopeChecks.checkAllowed(policy, alg, null);
        JWSAlgorithm a = JWSAlgorithm.parse(alg);
        if (!JWSAlgorithm.Family.HMAC_SHA.contains(a)) {
            throw new Refused(Refused.Reason.POLICY, alg + " is not an HMAC algorithm");
        }
        try {
            MACSigner signer = key.key().reveal(k -> {
                try {
                    return new MACSigner(k);
                } catch (JOSEException x) {
                    throw new IllegalArgumentException(x.getMessage());
                }
            });
            if (!signer.supportedJWSAlgorithms().contains(a)) {
                throw new Refused(
                        Refused.Reason.KEY_UNSUITABLE,
                        "the key does not fit " + alg + " (RFC 7518 wants at least the hash length)");
            }
            return new SigningKey(new JWSHeader.Builder(a).keyID(key.kid()).build(), signer);
        } catch (IllegalArgumentException x) {
            throw new Refused(
                    Refused.Reason.KEY_UNSUITABLE,
                    "the key does not fit " + alg + " (RFC 7518 wants at least the hash length): " + x.getMessage());
        }
    }

    /**
     * A signature with the source's certificate key ({@code signer} holds it in the HSM, e.g. {@link HsmJwsSigner});
     * the header names the certificate by {@code x5t#S256} (and carries {@code x5c} when asked).
     */
    public static SigningKey certificateKey(
            com.nimbusds.jose.JWSSigner signer,
            java.security.cert.X509Certificate certificate,
            boolean withX5c,
            Policy policy)
            throws Refused {
        JWSAlgorithm alg = signer.supportedJWSAlgorithms().iterator().next();
        EnvelopeChecks.checkAllowed(policy, alg.getName(), null);
        try {
            JWSHeader.Builder h = new JWSHeader.Builder(alg)
                    .x509CertSHA256Thumbprint(
                            new com.nimbusds.jose.util.Base64URL(new CertificateRecipient(certificate).thumbprint()));
            if (withX5c) {
                h.x509CertChain(List.of(com.nimbusds.jose.util.Base64.encode(certificate.getEncoded())));
            }
            return new SigningKey(h.build(), signer);
        } catch (java.security.cert.CertificateEncodingException x) {
            throw new Refused(Refused.Reason.KEY_UNSUITABLE, "unusable certificate");
        }
    }

    /**
     * Signs {@code payload} with every key given: compact takes exactly one, JSON (general serialization,
     * RFC 7515 §7.2.1) one signature per key, each with its own protected header.
     */
    public static String signAll(byte[] payload, List<SigningKey> keys, Serialization serialization, Policy policy)
            throws Refused {
        if (keys.isEmpty() || keys.size() > policy.maxRecipients()) {
            throw new Refused(Refused.Reason.POLICY, "1 to " + policy.maxRecipients() + " signatures");
        }
        if (serialization == Serialization.COMPACT && keys.size() > 1) {
            throw new Refused(Refused.Reason.POLICY, "several signatures need JSON serialization");
        }
        if (payload.length > policy.maxPayloadBytes()) {
            throw new Refused(Refused.Reason.POLICY, "payload larger than " + policy.maxPayloadBytes() + " bytes");
        }
        try {
            if (serialization == Serialization.COMPACT) {
                JWSObject jws = new JWSObject(keys.get(0).header(), new Payload(payload));
                jws.sign(keys.get(0).signer());
                return jws.serialize();
            }
            JWSObjectJSON jws = new JWSObjectJSON(new Payload(payload));
            for (SigningKey k : keys) {
                jws.sign(k.header(), k.signer());
            }
            return JoseAlgorithms.json(jws.serializeGeneral(), serialization);
        } catch (JOSEException x) {
            throw new Refused(Refused.Reason.KEY_UNSUITABLE, "signing failed: " + x.getMessage());
        }
    }

    /**
     * A signer for dry-runs only: it signs nothing and returns zeros of the signature's length, so that a dry-run
     * runs {@link #signAll} (and the size limits of what is then encrypted) exactly as protect does, without a key.
     * Its output is never returned to anyone.
     */
    static com.nimbusds.jose.JWSSigner sizeOnlySigner(String alg, int signatureBytes) {
        JWSAlgorithm a = JWSAlgorithm.parse(alg);
        com.nimbusds.jose.jca.JCAContext jca = new com.nimbusds.jose.jca.JCAContext();
        return new com.nimbusds.jose.JWSSigner() {
            @Override
            public com.nimbusds.jose.util.Base64URL sign(JWSHeader header, byte[] signingInput) {
                return com.nimbusds.jose.util.Base64URL.encode(new byte[signatureBytes]);
            }

            @Override
            public Set<JWSAlgorithm> supportedJWSAlgorithms() {
                return Set.of(a);
            }

            @Override
            public com.nimbusds.jose.jca.JCAContext getJCAContext() {
                return jca;
            }
        };
    }

    /** The dry-run's stand-in for {@link #macKey} (after {@link #planMacs} checked the key's length). */
    static SigningKey sizeOnlyMacKey(String kid, String alg) {
        return new SigningKey(
                new JWSHeader.Builder(JWSAlgorithm.parse(alg)).keyID(kid).build(),
                sizeOnlySigner(alg, JoseAlgorithms.hmacBytes(alg)));
    }

    /** A MAC envelope with one symmetric key. */
    public static String mac(byte[] payload, Recipient key, String alg, Serialization serialization, Policy policy)
            throws Refused {
        return signAll(payload, List.of(macKey(key, alg, policy)), serialization, policy);
    }

    /** A certificate signature made in the HSM ({@link #certificateKey}). */
    public static String sign(
            byte[] payload,
            com.nimbusds.jose.JWSSigner signer,
            java.security.cert.X509Certificate certificate,
            boolean withX5c,
            Serialization serialization,
            Policy policy)
            throws Refused {
        return signAll(payload, List.of(certificateKey(signer, certificate, withX5c, policy)), serialization, policy);
    }
}
