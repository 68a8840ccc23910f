package io.m2mtrust.esprim;

import io.m2mtrust.common.SecretBytes;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Arrays;

/**
 * sessionESPrimKey (TS-0003 §10.3.8, esprimKeyGenAlgID 1 = HMAC-SHA256):
 * {@code HMAC-SHA256(pairwiseESPrimKey, receiverRand || originatorRand || "oneM2M HMAC-SHA256 sessionESPrimKey derivation algorithm")}.
 * The rand objects enter as their 16 decoded random bytes, the receiver's first (interop profile); the
 * 32-byte output is used whole for A256GCM and its leftmost bytes for A128GCM/A192GCM. Computed with the JDK's
 * HmacSHA256 on a key that already left the HSM (the pairwise key reaches peers by design).
 */
public final class EsprimKdf {

    public static final int KEY_GEN_HMAC_SHA256 = 1;
    private static final byte[] LABEL =
            "oneM2M HMAC-SHA256 sessionESPrimKey derivation algorithm".getBytes(StandardCharsets.US_ASCII);

    private EsprimKdf() {}

    public static SecretBytes sessionKey(SecretBytes pairwiseKey, byte[] receiverRand, byte[] originatorRand) {
        if (receiverRand.length != 16 || originatorRand.length != 16) {
            throw new IllegalArgumentException("esprimRandValue is 16 bytes");
        }
        return pairwiseKey.reveal(k -> {
            try {
                Mac mac = Mac.getInstance("HmacSHA256");
                mac.init(new SecretKeySpec(k, "HmacSHA256"));
                mac.update(receiverRand);
                mac.update(originatorRand);
                mac.update(LABEL);
                return SecretBytes.adopt(mac.doFinal());
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("HmacSHA256 unavailable", e);
            }
        });
    }

    /** The content key for {@code enc}: the leftmost 16, 24 or 32 bytes of the session key. */
    public static SecretBytes contentKey(SecretBytes sessionKey, String enc) {
        int n = switch (enc) {
            case "A128GCM" -> 16;
            case "A192GCM" -> 24;
            case "A256GCM" -> 32;
            default -> throw new IllegalArgumentException("enc " + enc);
        };
        return sessionKey.reveal(k -> SecretBytes.adopt(Arrays.copyOf(k, n)));
    }
}
