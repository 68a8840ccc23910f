package io.m2mtrust.esdata;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.crypto.MACVerifier;
import io.m2mtrust.esdata.JoseEnvelopes.Accept;
import io.m2mtrust.esdata.JoseEnvelopes.CertificateLookup;
import io.m2mtrust.esdata.JoseEnvelopes.KeyLookup;
import io.m2mtrust.esdata.JoseEnvelopes.Policy;
import io.m2mtrust.esdata.JoseEnvelopes.Refused;
import io.m2mtrust.esdata.JoseEnvelopes.Serialization;
import io.m2mtrust.esdata.JoseEnvelopes.VerificationKey;
import io.m2mtrust.esdata.JoseEnvelopes.VerificationKeys;
import io.m2mtrust.esdata.JoseEnvelopes.Verified;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Verifies ESData signatures: every signature of a JWS (RFC 7515 §7.2) against the keys its header names, MACs and certificate signatures as the caller accepts. */
public final class SignatureVerification {

    private SignatureVerification() {}

    /**
     * Verifies a JWS, compact or JSON with several signatures (RFC 7515 §7.2). Every signature must use an
     * allowed algorithm with an integrity-protected {@code alg} (a signature whose {@code alg} sits only in the
     * unprotected header is not counted); every signature whose key is known here must verify, and at least
     * one must. The key's kind must match the algorithm: an HMAC is never checked with a public key, an RS/ES
     * signature never with a symmetric key (algorithm confusion), RSA keys under 2048 bits are refused.
     */
    public static Verified verifyAll(String envelope, Serialization serialization, VerificationKeys keys, Policy policy)
            throws Refused {
        return verifyAll(envelope, serialization, keys, policy, Accept.ANY);
    }

    public static Verified verifyAll(
            String envelope, Serialization serialization, VerificationKeys keys, Policy policy, Accept accept)
            throws Refused {
        EnvelopeChecks.checkSize(envelope, policy);
        List<String[]> parts = new ArrayList<>(); // protected, payload, signature, unprotected JSON (or null)
        if (serialization == Serialization.COMPACT) {
            if (envelope.chars().filter(c -> c == '.').count() != 2) {
                throw new Refused(Refused.Reason.MALFORMED, "a compact JWS has three parts");
            }
            EnvelopeChecks.requireBase64Url(envelope);
            String[] p = envelope.split("\\.", -1);
            parts.add(new String[] {p[0], p[1], p[2], null});
        } else {
            Map<String, Object> m = EnvelopeChecks.strictJson(envelope, serialization);
            if (!(m.get("payload") instanceof String payload)) {
                throw new Refused(Refused.Reason.MALFORMED, "a JWS JSON has a payload string");
            }
            List<?> sigs;
            if (m.containsKey("signatures")) {
                if (!(m.get("signatures") instanceof List<?> l) || m.containsKey("signature")) {
                    throw new Refused(
                            Refused.Reason.MALFORMED, "signatures is an array (and not mixed with the flattened form)");
                }
                sigs = l;
            } else {
                sigs = List.of(m); // flattened (RFC 7515 §7.2.2)
            }
            if (sigs.isEmpty() || sigs.size() > policy.maxRecipients()) {
                throw new Refused(Refused.Reason.POLICY, "1 to " + policy.maxRecipients() + " signatures");
            }
            for (Object o : sigs) {
                if (!(o instanceof Map<?, ?> sm)
                        || !(sm.get("signature") instanceof String sig)
                        || (sm.get("protected") != null && !(sm.get("protected") instanceof String))
                        || (sm.get("header") != null && !(sm.get("header") instanceof Map))) {
                    throw new Refused(
                            Refused.Reason.MALFORMED,
                            "each signature has a signature string, a protected string and a header object");
                }
                String unprotected = sm.get("header") == null
                        ? null
                        : com.nimbusds.jose.util.JSONObjectUtils.toJSONString(JoseAlgorithms.castMap(sm.get("header")));
                parts.add(new String[] {(String) sm.get("protected"), payload, sig, unprotected});
            }
            for (String[] p : parts) {
                EnvelopeChecks.requireBase64Url((p[0] == null ? "" : p[0]) + "." + p[1] + "." + p[2]);
            }
        }
        List<String> verified = new ArrayList<>();
        byte[] payload = null;
        String otherKind = null;
        int otherKinds = 0;
        try {
            for (String[] p : parts) {
                if (p[0] == null || p[0].isEmpty()) {
                    continue; // alg not integrity-protected (e.g. RFC 7520 §4.8's second signature): not counted
                }
                EnvelopeChecks.precheckHeader(p[0], policy);
                JWSObject jws = new JWSObject(
                        new com.nimbusds.jose.util.Base64URL(p[0]),
                        new com.nimbusds.jose.util.Base64URL(p[1]),
                        new com.nimbusds.jose.util.Base64URL(p[2]));
                JWSHeader h = jws.getHeader();
                if (p[3] != null) { // RFC 7515 §7.2.1: protected and unprotected members are disjoint; the union names
                    // the key
                    Map<String, Object> merged = new java.util.LinkedHashMap<>(h.toJSONObject());
                    Map<String, Object> unprotected = com.nimbusds.jose.util.JSONObjectUtils.parse(p[3]);
                    for (String name : unprotected.keySet()) {
                        if (merged.containsKey(name) || "crit".equals(name) || "b64".equals(name)) {
                            throw new Refused(
                                    Refused.Reason.MALFORMED,
                                    "header member " + name
                                            + " is both protected and unprotected, or may not be unprotected");
                        }
                    }
                    merged.putAll(unprotected);
                    h = EnvelopeChecks.nimbus(() -> JWSHeader.parse(merged));
                }
                if (h.getCriticalParams() != null && !h.getCriticalParams().isEmpty()) {
                    throw new Refused(
                            Refused.Reason.POLICY, "unknown critical header parameters " + h.getCriticalParams());
                }
                if (!h.isBase64URLEncodePayload()) {
                    throw new Refused(Refused.Reason.POLICY, "unencoded payloads (b64=false) are not accepted");
                }
                JWSAlgorithm alg = h.getAlgorithm();
                boolean hmac = JWSAlgorithm.Family.HMAC_SHA.contains(alg);
                boolean ec = JWSAlgorithm.Family.EC.contains(alg)
                        && alg.getName().startsWith("ES")
                        && !alg.equals(JWSAlgorithm.ES256K);
                boolean rsa = alg.getName().matches("RS(256|384|512)");
                if (!hmac && !ec && !rsa) {
                    throw new Refused(Refused.Reason.POLICY, alg + " is not an ESData signature algorithm");
                }
                if ((accept == Accept.MAC && !hmac) || (accept == Accept.CERTIFICATE && hmac)) {
                    otherKind = accept == Accept.MAC
                            ? alg + " is not a MAC: symmetric keys verify HMACs only"
                            : alg + " is not a certificate signature algorithm";
                    otherKinds++;
                    continue; // another receiver's kind of signature: not looked up, not counted
                }
                Optional<VerificationKey> found = keys.find(h);
                if (found.isEmpty()) {
                    continue;
                }
                try (VerificationKey key = found.get()) {
                    com.nimbusds.jose.JWSVerifier verifier = verifierFor(alg, hmac, ec, key);
                    if (!jws.verify(verifier)) {
                        throw new Refused(Refused.Reason.INTEGRITY, "signature by " + key.id() + " does not verify");
                    }
                    verified.add(key.id());
                    payload = jws.getPayload().toBytes();
                }
            }
        } catch (java.text.ParseException | IllegalArgumentException x) {
            throw new Refused(Refused.Reason.MALFORMED, "not a JWS: " + x.getMessage());
        } catch (JOSEException x) {
            throw new Refused(Refused.Reason.KEY_UNSUITABLE, "the key does not fit the signature: " + x.getMessage());
        }
        if (verified.isEmpty() && otherKinds == parts.size()) {
            throw new Refused(Refused.Reason.POLICY, otherKind);
        }
        if (verified.isEmpty()) {
            throw new Refused(Refused.Reason.UNKNOWN_KEY, "no signature names a key known to this end-point");
        }
        return new Verified(payload, List.copyOf(verified));
    }

    static com.nimbusds.jose.JWSVerifier verifierFor(JWSAlgorithm alg, boolean hmac, boolean ec, VerificationKey key)
            throws Refused, JOSEException {
        if (hmac) {
            if (!(key instanceof VerificationKey.Symmetric s)) {
                throw new Refused(
                        Refused.Reason.POLICY,
                        alg + " with a public key: an HMAC is only checked with a symmetric key");
            }
            return s.key().reveal(k -> {
                try {
                    MACVerifier v = new MACVerifier(k);
                    if (!v.supportedJWSAlgorithms().contains(alg)) {
                        throw new IllegalStateException("the key is shorter than " + alg + " needs");
                    }
                    return v;
                } catch (JOSEException x) {
                    throw new IllegalStateException(x.getMessage());
                }
            });
        }
        if (!(key instanceof VerificationKey.Asymmetric a)) {
            throw new Refused(
                    Refused.Reason.POLICY,
                    alg + " with a symmetric key: signatures are only checked with a certificate's public key");
        }
        com.nimbusds.jose.JWSVerifier v;
        if (ec && a.key() instanceof java.security.interfaces.ECPublicKey e) {
            com.nimbusds.jose.jwk.Curve curve = com.nimbusds.jose.jwk.Curve.forECParameterSpec(e.getParams());
            if (curve == null
                    || !com.nimbusds.jose.jwk.Curve.forJWSAlgorithm(alg).contains(curve)) {
                throw new Refused(Refused.Reason.POLICY, alg + " does not go with the key's curve " + curve);
            }
            v = new com.nimbusds.jose.crypto.ECDSAVerifier(e);
        } else if (!ec && a.key() instanceof java.security.interfaces.RSAPublicKey r) {
            if (r.getModulus().bitLength() < 2048) {
                throw new Refused(Refused.Reason.POLICY, "RSA keys under 2048 bits are refused");
            }
            v = new com.nimbusds.jose.crypto.RSASSAVerifier(r);
        } else {
            throw new Refused(Refused.Reason.POLICY, "the certificate's key does not match " + alg);
        }
        v.getJCAContext().setProvider(JoseEnvelopes.BC);
        return v;
    }

    /**
     * Verifies a certificate signature (ES256/384/512, RS256/384/512) with the certificate its
     * {@code x5t#S256} names in {@code certs} — never with a key carried in the envelope, and never an HMAC.
     */
    public static byte[] verifySignature(
            String envelope, Serialization serialization, CertificateLookup certs, Policy policy) throws Refused {
        return verifyAll(envelope, serialization, certificateKeys(certs), policy, Accept.CERTIFICATE)
                .payload();
    }

    /** Certificate keys by {@code x5t#S256} (the only way a certificate is named here; x5c and jwk in headers are ignored). */
    public static VerificationKeys certificateKeys(CertificateLookup certs) {
        return h -> h.getX509CertSHA256Thumbprint() == null
                ? Optional.empty()
                : certs.find(h.getX509CertSHA256Thumbprint().toString())
                        .map(c -> new VerificationKey.Asymmetric(
                                h.getX509CertSHA256Thumbprint().toString(), c.getPublicKey()));
    }

    /** Symmetric keys by {@code kid}. */
    public static VerificationKeys symmetricKeys(KeyLookup keys) {
        return h -> h.getKeyID() == null
                ? Optional.empty()
                : keys.find(h.getKeyID()).map(k -> new VerificationKey.Symmetric(h.getKeyID(), k));
    }

    /** Verifies a MAC with the symmetric keys the lookup knows; returns the payload. */
    public static byte[] verify(String envelope, Serialization serialization, KeyLookup keys, Policy policy)
            throws Refused {
        return verifyAll(envelope, serialization, symmetricKeys(keys), policy, Accept.MAC)
                .payload();
    }
}
