package io.m2mtrust.esprim;

import com.nimbusds.jose.EncryptionMethod;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWEAlgorithm;
import com.nimbusds.jose.JWEHeader;
import com.nimbusds.jose.JWEObject;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.DirectDecrypter;
import com.nimbusds.jose.crypto.DirectEncrypter;
import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.common.StrictJson;

import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.Set;

/**
 * The ESPrim object (TS-0003 §8.4.3.2; m2m:e2eCompactJWE): a JWE in compact serialization with
 * {@code "alg":"dir"}, {@code enc} A128GCM/A192GCM/A256GCM, {@code kid} = the pairwiseESPrimKeyID, {@code ori}
 * and {@code rri} = the originator's and receiver's esprimRandIDs, optionally {@code oro} (originator) or
 * {@code rro} (receiver) with a full rand object, and {@code cty} with the inner primitive's media type. The
 * encrypted-key part is always empty; the AAD is the protected header. Parsing refuses everything else
 * before any key is looked up.
 */
public final class EsprimObject {

    public static final Set<String> ENCS = Set.of("A128GCM", "A192GCM", "A256GCM");
    public static final int MAX_LENGTH = 1_000_000;
    private static final int MAX_HEADER = 4096;
    private static final Set<String> HEADER_MEMBERS = Set.of("alg", "enc", "kid", "ori", "rri", "oro", "rro", "cty");

    /** What the header says, checked for shape; {@code jwe} is ready to decrypt. */
    public record Parsed(
            String kid,
            String enc,
            String ori,
            String rri,
            Map<String, Object> oro,
            Map<String, Object> rro,
            String cty,
            JWEObject jwe) {}

    private EsprimObject() {}

    public static Parsed parse(String compact) throws EsprimError {
        if (compact == null || compact.isEmpty() || compact.length() > MAX_LENGTH) {
            throw new EsprimError(
                    EsprimError.BAD_REQUEST,
                    "the ESPrim object is missing or larger than " + MAX_LENGTH + " characters");
        }
        String[] p = compact.split("\\.", -1);
        if (p.length != 5) {
            throw new EsprimError(EsprimError.BAD_REQUEST, "an ESPrim object is a compact JWE with five parts");
        }
        if (!p[1].isEmpty()) {
            throw new EsprimError(
                    EsprimError.BAD_REQUEST, "the encrypted-key part of an ESPrim object is empty (alg dir)");
        }
        for (String part : p) {
            if (!part.matches("[A-Za-z0-9_-]*")) {
                throw new EsprimError(EsprimError.BAD_REQUEST, "invalid base64url");
            }
        }
        if (p[0].length() > MAX_HEADER) {
            throw new EsprimError(
                    EsprimError.BAD_REQUEST, "the protected header is larger than " + MAX_HEADER + " characters");
        }
        Map<String, Object> h;
        try {
            h = StrictJson.object(Base64.getUrlDecoder().decode(p[0]));
        } catch (Exception e) {
            throw new EsprimError(
                    EsprimError.BAD_REQUEST, "the protected header is not a JSON object without duplicate members");
        }
        for (String k : h.keySet()) {
            if (!HEADER_MEMBERS.contains(k)) {
                // crit, zip, jku, jwk, x5u… have no place in an ESPrim object
                throw new EsprimError(
                        EsprimError.UNSUPPORTED_OPTION, "header member " + k + " is not part of an ESPrim object");
            }
        }
        if (!"dir".equals(h.get("alg"))) {
            throw new EsprimError(EsprimError.UNSUPPORTED_OPTION, "alg must be dir");
        }
        if (!(h.get("enc") instanceof String enc) || !ENCS.contains(enc)) {
            throw new EsprimError(EsprimError.UNSUPPORTED_OPTION, "enc must be A128GCM, A192GCM or A256GCM");
        }
        String kid = string(h, "kid", 330);
        String ori = string(h, "ori", 64);
        String rri = string(h, "rri", 64);
        if (kid == null || ori == null || rri == null) {
            throw new EsprimError(EsprimError.BAD_REQUEST, "kid, ori and rri are required");
        }
        Map<String, Object> oro = object(h, "oro");
        Map<String, Object> rro = object(h, "rro");
        Object cty = h.get("cty");
        if (cty != null && !(cty instanceof String)) {
            throw new EsprimError(EsprimError.BAD_REQUEST, "cty is a string");
        }
        try {
            return new Parsed(kid, enc, ori, rri, oro, rro, (String) cty, JWEObject.parse(compact));
        } catch (java.text.ParseException e) {
            throw new EsprimError(EsprimError.BAD_REQUEST, "not a JWE: " + e.getMessage());
        }
    }

    /** Decrypts with the session key (its leftmost bytes for the {@code enc}); a wrong key or altered object is 4115. */
    public static byte[] decrypt(Parsed p, SecretBytes sessionKey) throws EsprimError {
        try (SecretBytes k = EsprimKdf.contentKey(sessionKey, p.enc())) {
            DirectDecrypter d = k.reveal(b -> {
                try {
                    return new DirectDecrypter(new SecretKeySpec(b, "AES"));
                } catch (JOSEException e) {
                    throw new IllegalStateException(e);
                }
            });
            p.jwe().decrypt(d);
            return p.jwe().getPayload().toBytes();
        } catch (JOSEException | IllegalStateException e) {
            throw new EsprimError(
                    EsprimError.BAD_MAC,
                    "the ESPrim object does not decrypt with the session key (altered, or another key)");
        }
    }

    /** Builds an ESPrim object: {@code oro} or {@code rro} (a rand object's JSON) may be null. */
    public static String protect(
            byte[] plaintext,
            SecretBytes sessionKey,
            String enc,
            String kid,
            String ori,
            String rri,
            String cty,
            Map<String, Object> oro,
            Map<String, Object> rro)
            throws EsprimError {
        if (!ENCS.contains(enc)) {
            throw new EsprimError(EsprimError.UNSUPPORTED_OPTION, "enc " + enc);
        }
        JWEHeader.Builder h = new JWEHeader.Builder(JWEAlgorithm.DIR, EncryptionMethod.parse(enc))
                .keyID(kid)
                .customParam("ori", ori)
                .customParam("rri", rri);
        if (cty != null) {
            h.contentType(cty);
        }
        if (oro != null) {
            h.customParam("oro", oro);
        }
        if (rro != null) {
            h.customParam("rro", rro);
        }
        try (SecretBytes k = EsprimKdf.contentKey(sessionKey, enc)) {
            JWEObject jwe = new JWEObject(h.build(), new Payload(plaintext));
            jwe.encrypt(k.reveal(b -> {
                try {
                    return new DirectEncrypter(new SecretKeySpec(b, "AES"));
                } catch (JOSEException e) {
                    throw new IllegalStateException(e);
                }
            }));
            return jwe.serialize();
        } catch (JOSEException | IllegalStateException e) {
            throw new EsprimError(EsprimError.ENCRYPTION_ERROR, "the ESPrim object could not be made");
        }
    }

    /** The 12-byte IV of a parsed object, base64url: with the key id it identifies a message for replay protection. */
    public static String iv(Parsed p) {
        return p.jwe().getIV().toString();
    }

    private static String string(Map<String, Object> h, String name, int max) throws EsprimError {
        Object v = h.get(name);
        if (v == null) {
            return null;
        }
        if (!(v instanceof String s) || s.isEmpty() || s.length() > max) {
            throw new EsprimError(EsprimError.BAD_REQUEST, name + " must be a string of 1 to " + max + " characters");
        }
        return s;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Map<String, Object> h, String name) throws EsprimError {
        Object v = h.get(name);
        if (v == null) {
            return null;
        }
        if (!(v instanceof Map)) {
            throw new EsprimError(EsprimError.BAD_REQUEST, name + " must be a rand object");
        }
        return (Map<String, Object>) v;
    }

    static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
