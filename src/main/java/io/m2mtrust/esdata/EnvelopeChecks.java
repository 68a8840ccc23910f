package io.m2mtrust.esdata;

import com.nimbusds.jose.JWEObject;
import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.esdata.JoseEnvelopes.KeyLookup;
import io.m2mtrust.esdata.JoseEnvelopes.Policy;
import io.m2mtrust.esdata.JoseEnvelopes.Refused;
import io.m2mtrust.esdata.JoseEnvelopes.Serialization;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The checks every envelope passes before any key is used: the tenant policy's algorithms, size limits, strict JSON without duplicate members, base64url members, critical headers. */
final class EnvelopeChecks {

    private EnvelopeChecks() {}

    // ---------------------------------------------------------------- checks and helpers

    /** Why a JWE could not be opened: it does not parse (MALFORMED), or its tag does not verify (INTEGRITY). */
    static Refused unopened(Exception parseOrJose) {
        return parseOrJose instanceof java.text.ParseException
                ? new Refused(Refused.Reason.MALFORMED, "not a JWE: " + parseOrJose.getMessage())
                : new Refused(Refused.Reason.INTEGRITY, "decryption failed (wrong key, or the envelope was altered)");
    }

    /** 1 to the policy's maximum of recipients. */
    static void checkRecipientCount(int recipients, Policy policy) throws Refused {
        if (recipients == 0 || recipients > policy.maxRecipients()) {
            throw new Refused(Refused.Reason.POLICY, "1 to " + policy.maxRecipients() + " recipients");
        }
    }

    /** The payload within the policy's size; compact serialization only for one recipient and no AAD. */
    static void checkPayloadAndSerialization(
            int payloadLength, Serialization serialization, int recipients, boolean hasAad, Policy policy)
            throws Refused {
        if (payloadLength > policy.maxPayloadBytes()) {
            throw new Refused(Refused.Reason.POLICY, "payload larger than " + policy.maxPayloadBytes() + " bytes");
        }
        if (serialization == Serialization.COMPACT && (recipients > 1 || hasAad)) {
            throw new Refused(Refused.Reason.POLICY, "several recipients or AAD need JSON serialization");
        }
    }

    static void checkAllowed(Policy policy, String alg, String enc) throws Refused {
        if (alg == null) {
            throw new Refused(Refused.Reason.MALFORMED, "no alg: the header names no algorithm (or not as a string)");
        }
        if (alg.equalsIgnoreCase("none") || !policy.algs().contains(alg)) {
            throw new Refused(Refused.Reason.POLICY, "alg " + printable(alg) + " is not allowed by the tenant policy");
        }
        if (enc != null && !policy.encs().contains(enc)) {
            throw new Refused(Refused.Reason.POLICY, "enc " + printable(enc) + " is not allowed by the tenant policy");
        }
    }

    /** An algorithm name as sent, quoted for an error answer: control and non-ASCII characters escaped, at most 40 characters. */
    static String printable(String name) {
        if (name == null) {
            return "(none)";
        }
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < name.length() && i < 40; i++) {
            char c = name.charAt(i);
            if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
                b.append(c);
            } else {
                b.append(String.format("\\u%04x", (int) c));
            }
        }
        return b.append(name.length() > 40 ? "…\"" : "\"").toString();
    }

    static void checkHeader(Policy policy, String alg, String enc, Set<String> crit, boolean zip) throws Refused {
        checkAllowed(policy, alg, enc);
        if (enc == null) {
            throw new Refused(Refused.Reason.MALFORMED, "no enc");
        }
        if (crit != null && !crit.isEmpty()) {
            throw new Refused(Refused.Reason.POLICY, "unknown critical header parameters " + crit);
        }
        if (zip) {
            throw new Refused(Refused.Reason.POLICY, "compressed content (zip) is not accepted");
        }
    }

    static void checkSize(String envelope, Policy policy) throws Refused {
        if (envelope == null || envelope.isEmpty()) {
            throw new Refused(Refused.Reason.MALFORMED, "empty envelope");
        }
        if (envelope.length() > policy.maxEnvelopeBytes()) {
            throw new Refused(Refused.Reason.POLICY, "envelope larger than " + policy.maxEnvelopeBytes() + " bytes");
        }
    }

    static JWEObject parseCompactJwe(String s, Policy policy) throws java.text.ParseException, Refused {
        if (s.chars().filter(c -> c == '.').count() != 4) {
            throw new Refused(Refused.Reason.MALFORMED, "a compact JWE has five parts");
        }
        requireBase64Url(s);
        precheckHeader(s.substring(0, s.indexOf('.')), policy);
        return nimbus(() -> JWEObject.parse(s));
    }

    /** A Nimbus parse that may throw {@link java.text.ParseException}. */
    interface NimbusParse<T> {
        T parse() throws java.text.ParseException;
    }

    /**
     * Runs a Nimbus parser on peer input. Besides its {@link java.text.ParseException}, Nimbus throws unchecked
     * exceptions on some malformed input — a {@link NullPointerException} for a JWE header without {@code enc}
     * (found by fuzzing, issue 21) — which are the same refusal: malformed, never a 500.
     */
    static <T> T nimbus(NimbusParse<T> parse) throws java.text.ParseException, Refused {
        try {
            return parse.parse();
        } catch (RuntimeException e) {
            throw new Refused(
                    Refused.Reason.MALFORMED, "malformed JOSE (" + e.getClass().getSimpleName() + ")");
        }
    }

    /**
     * The IV and tag of an AES-GCM content encryption as RFC 7518 §5.3 fixes them: 96 and 128 bits. Checked before
     * decrypting: the JDK's GCM throws an unchecked {@code ProviderException} for a tag shorter than its own length,
     * which escaped Nimbus as a 500 (finding 4 of docs/fuzzing.md).
     */
    static void requireGcmParts(com.nimbusds.jose.util.Base64URL iv, com.nimbusds.jose.util.Base64URL tag)
            throws Refused {
        if (iv == null || iv.decode().length != 12) {
            throw new Refused(Refused.Reason.MALFORMED, "the IV of AES-GCM is 96 bits (RFC 7518 §5.3)");
        }
        if (tag == null || tag.decode().length != 16) {
            throw new Refused(
                    Refused.Reason.MALFORMED, "the authentication tag of AES-GCM is 128 bits (RFC 7518 §5.3)");
        }
    }

    /** The protected header as sent: strict JSON (no duplicate members) and an allowed {@code alg}, before Nimbus sees it. */
    static void precheckHeader(String b64u, Policy policy) throws Refused {
        byte[] json;
        try {
            json = Base64.getUrlDecoder().decode(b64u);
        } catch (IllegalArgumentException x) {
            throw new Refused(Refused.Reason.MALFORMED, "invalid base64url header");
        }
        Map<String, Object> h = strictJson(new String(json, StandardCharsets.UTF_8), Serialization.JSON);
        Object alg = h.get("alg");
        checkAllowed(policy, alg instanceof String a ? a : null, null);
    }

    /**
     * The members of a JWE JSON serialization that are BASE64URL (RFC 7516 §7.2.1: protected, encrypted_key, iv,
     * aad, ciphertext, tag) must be strings of the base64url alphabet without padding; header members must be
     * objects. Nimbus keeps a member's text as given, so an {@code aad} that is not base64url would otherwise be
     * authenticated as raw text.
     */
    static void requireJweJsonMembers(Map<String, Object> jwe) throws Refused {
        for (String name : List.of("protected", "encrypted_key", "iv", "aad", "ciphertext", "tag")) {
            requireBase64UrlMember(jwe, name);
        }
        if (jwe.get("unprotected") != null && !(jwe.get("unprotected") instanceof Map)) {
            throw new Refused(Refused.Reason.MALFORMED, "unprotected is a JSON object");
        }
        if (jwe.get("header") != null && !(jwe.get("header") instanceof Map)) {
            throw new Refused(Refused.Reason.MALFORMED, "header is a JSON object");
        }
        if (jwe.containsKey("recipients")) {
            if (!(jwe.get("recipients") instanceof List<?> rs)
                    || jwe.containsKey("encrypted_key")
                    || jwe.containsKey("header")) {
                throw new Refused(
                        Refused.Reason.MALFORMED, "recipients is an array (and not mixed with the flattened form)");
            }
            for (Object r : rs) {
                if (!(r instanceof Map<?, ?> rm) || (rm.get("header") != null && !(rm.get("header") instanceof Map))) {
                    throw new Refused(
                            Refused.Reason.MALFORMED, "each recipient is an object whose header is an object");
                }
                requireBase64UrlMember(JoseAlgorithms.castMap(rm), "encrypted_key");
            }
        }
    }

    static void requireBase64UrlMember(Map<String, Object> object, String name) throws Refused {
        Object v = object.get(name);
        if (v == null) {
            return;
        }
        if (!(v instanceof String text)
                || text.length() % 4 == 1
                || !text.chars().allMatch(EnvelopeChecks::isBase64UrlChar)) {
            throw new Refused(Refused.Reason.MALFORMED, name + " is not base64url (RFC 7516 §7.2.1)");
        }
    }

    static boolean isBase64UrlChar(int c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    }

    static void requireBase64Url(String s) throws Refused {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = (c >= 'A' && c <= 'Z')
                    || (c >= 'a' && c <= 'z')
                    || (c >= '0' && c <= '9')
                    || c == '-'
                    || c == '_'
                    || c == '.';
            if (!ok) {
                throw new Refused(Refused.Reason.MALFORMED, "invalid base64url character");
            }
        }
    }

    /** Parses JSON refusing duplicate members and deep nesting (Nimbus's parser would take the last duplicate). */
    @SuppressWarnings("unchecked")
    static Map<String, Object> strictJson(String envelope, Serialization serialization) throws Refused {
        String text = envelope;
        if (serialization == Serialization.JSON_BASE64) {
            try {
                text = new String(Base64.getMimeDecoder().decode(envelope), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException x) {
                throw new Refused(Refused.Reason.MALFORMED, "not base64");
            }
        }
        try {
            com.fasterxml.jackson.databind.JsonNode node = JoseEnvelopes.STRICT.readTree(text);
            if (node == null || !node.isObject()) {
                throw new Refused(Refused.Reason.MALFORMED, "not a JSON object");
            }
            if (depth(node) > JoseEnvelopes.MAX_JSON_DEPTH) {
                throw new Refused(Refused.Reason.MALFORMED, "JSON nested too deeply");
            }
            return JoseEnvelopes.STRICT.convertValue(node, Map.class);
        } catch (com.fasterxml.jackson.core.JsonProcessingException x) {
            throw new Refused(
                    Refused.Reason.MALFORMED,
                    x.getOriginalMessage().contains("Duplicate") ? "duplicate JSON member" : "malformed JSON");
        }
    }

    static int depth(com.fasterxml.jackson.databind.JsonNode n) {
        int d = 0;
        for (com.fasterxml.jackson.databind.JsonNode c : n) {
            d = Math.max(d, depth(c));
        }
        return n.isContainerNode() ? d + 1 : 0;
    }

    static SecretBytes lookup(KeyLookup keys, String kid) throws Refused {
        if (kid == null) {
            throw new Refused(Refused.Reason.UNKNOWN_KEY, "no kid: the key cannot be identified");
        }
        return keys.find(kid).orElseThrow(() -> new Refused(Refused.Reason.UNKNOWN_KEY, "unknown key " + kid));
    }
}
