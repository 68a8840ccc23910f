package io.m2mtrust.esdata;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWEAlgorithm;
import com.nimbusds.jose.JWEDecrypter;
import com.nimbusds.jose.JWEHeader;
import com.nimbusds.jose.JWEObjectJSON;
import com.nimbusds.jose.crypto.AESDecrypter;
import com.nimbusds.jose.crypto.DirectDecrypter;
import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.esdata.JoseEnvelopes.Refused;
import io.m2mtrust.esdata.JoseEnvelopes.Serialization;

import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;

/** Algorithm facts and small helpers the envelope classes share: key sizes per algorithm (RFC 7518), JWE JSON headers and AAD (RFC 7516 §5.2, §7.2.1), the software provider. */
final class JoseAlgorithms {

    private JoseAlgorithms() {}

    /** AES-GCM content encryption key sizes (RFC 7518 §5.3); 0 for anything else. */
    static int gcmKeyBytes(String enc) {
        return switch (enc) {
            case "A128GCM" -> 16;
            case "A192GCM" -> 24;
            case "A256GCM" -> 32;
            default -> 0;
        };
    }

    /** AES key wrap KEK sizes (RFC 7518 §4.4); 0 for anything else. */
    static int kwKeyBytes(String alg) {
        return switch (alg) {
            case "A128KW" -> 16;
            case "A192KW" -> 24;
            case "A256KW" -> 32;
            default -> 0;
        };
    }

    static String gcmFor(int keyBytes) {
        return switch (keyBytes) {
            case 16 -> "A128GCM";
            case 24 -> "A192GCM";
            case 32 -> "A256GCM";
            default -> null;
        };
    }

    static String kwFor(int keyBytes) {
        return switch (keyBytes) {
            case 16 -> "A128KW";
            case 24 -> "A192KW";
            case 32 -> "A256KW";
            default -> null;
        };
    }

    /**
     * The {@code aad} member of a JWE JSON serialization: BASE64URL(JWE AAD) (RFC 7516 §7.2.1). Nimbus takes the
     * member's text as given and builds the AAD input {@code BASE64URL(protected) "." member} from it (§5.1 step 14).
     */
    static byte[] aadMember(byte[] aad) {
        return com.nimbusds.jose.util.Base64URL.encode(aad).toString().getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * A recipient's JOSE header: the protected header, the shared unprotected header and the recipient's header,
     * which must be disjoint (RFC 7516 §7.2.1); {@code crit} may only be protected.
     */
    static Map<String, Object> mergeHeaders(JWEObjectJSON jwe, JWEObjectJSON.Recipient r) throws Refused {
        Map<String, Object> m = new java.util.LinkedHashMap<>(jwe.getHeader().toJSONObject());
        for (com.nimbusds.jose.UnprotectedHeader u :
                java.util.Arrays.asList(jwe.getUnprotectedHeader(), r.getUnprotectedHeader())) {
            if (u == null) {
                continue;
            }
            for (Map.Entry<String, Object> e : u.toJSONObject().entrySet()) {
                if (m.containsKey(e.getKey()) || "crit".equals(e.getKey())) {
                    throw new Refused(
                            Refused.Reason.MALFORMED,
                            "header member " + e.getKey()
                                    + " is given twice, or unprotected where it must be protected");
                }
                m.put(e.getKey(), e.getValue());
            }
        }
        return m;
    }

    /** RFC 7516 §5.2 step 14: ASCII(BASE64URL(protected)) [ "." BASE64URL(aad) ]. */
    static byte[] jweJsonAad(JWEHeader protectedHeader, byte[] aad) {
        String p = protectedHeader.getParsedBase64URL() != null
                ? protectedHeader.getParsedBase64URL().toString()
                : protectedHeader.toBase64URL().toString();
        String s = aad == null || aad.length == 0 ? p : p + "." + com.nimbusds.jose.util.Base64URL.encode(aad);
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** The software provider for elliptic-curve and content work outside the HSM. */
    static java.security.Provider softwareProvider() {
        return JoseEnvelopes.BC;
    }

    static int hmacBytes(String alg) {
        return switch (alg) {
            case "HS256" -> 32;
            case "HS384" -> 48;
            case "HS512" -> 64;
            default -> 0;
        };
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> castMap(Object o) {
        return (Map<String, Object>) o;
    }

    static JWEDecrypter decrypter(JWEAlgorithm alg, SecretBytes key) {
        return key.reveal(k -> {
            try {
                return alg.equals(JWEAlgorithm.DIR) ? new DirectDecrypter(secret(k)) : new AESDecrypter(secret(k));
            } catch (JOSEException x) {
                throw new IllegalArgumentException(x.getMessage());
            }
        });
    }

    static SecretKey secret(byte[] k) {
        return new SecretKeySpec(k.clone(), "AES");
    }

    static String json(String serialized, Serialization serialization) {
        return serialization == Serialization.JSON_BASE64
                ? Base64.getEncoder().encodeToString(serialized.getBytes(StandardCharsets.UTF_8))
                : serialized;
    }
}
