package io.m2mtrust.mef;

import io.m2mtrust.common.SecretBytes;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.text.Normalizer;

/**
 * Key derivations under Ke (TS-0003 §10.3.2, §10.3.3, §10.3.7). Ke is an exporter output and so a
 * host-class key, not an HSM key (docs/interop-profile.md): these run with the JDK's HmacSHA256 into
 * {@link SecretBytes}. Identifiers are UTF-8 after NFKC; the SUID is two ASCII digits (interop profile).
 */
public final class EnrolmentKdf {

    static final byte[] KM_LABEL = ascii("oneM2M Enrolment Key to Master Credential derivation");
    static final byte[] KPSA_LABEL = ascii("oneM2M Enrolment Key to Provisioned Secure Connection Key derivation");
    static final byte[] USAGE_LABEL = ascii("oneM2M Enrolment Key to Usage-Constrained Symmetric Key derivation");

    private EnrolmentKdf() {}

    /** §10.3.2: Km = HMAC-SHA-256(Ke, label || MAF-ID). */
    public static SecretBytes km(SecretBytes ke, String mafId) {
        return hmac(ke, KM_LABEL, id(mafId));
    }

    /** §10.3.3: Kpsa = HMAC-SHA-256(Ke, label || Enrolee-B-ID). */
    public static SecretBytes kpsa(SecretBytes ke, String enroleeBId) {
        return hmac(ke, KPSA_LABEL, id(enroleeBId));
    }

    /** §10.3.7: K = HMAC-SHA-256(Ke, label || SUID || Enrolment-Target-ID), SUID as two ASCII digits. */
    public static SecretBytes usageConstrained(SecretBytes ke, int suid, String enrolmentTargetFqdn) {
        if (suid < 10 || suid > 99) {
            throw new IllegalArgumentException("SUID must be two digits");
        }
        return hmac(ke, USAGE_LABEL, ascii(Integer.toString(suid)), id(enrolmentTargetFqdn));
    }

    private static SecretBytes hmac(SecretBytes key, byte[]... parts) {
        return key.reveal(k -> {
            try {
                Mac mac = Mac.getInstance("HmacSHA256");
                mac.init(new SecretKeySpec(k, "HmacSHA256"));
                ByteArrayOutputStream in = new ByteArrayOutputStream();
                for (byte[] p : parts) {
                    in.writeBytes(p);
                }
                return SecretBytes.adopt(mac.doFinal(in.toByteArray()));
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("HmacSHA256 unavailable", e);
            }
        });
    }

    static byte[] id(String identifier) {
        return Normalizer.normalize(identifier, Normalizer.Form.NFKC).getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
