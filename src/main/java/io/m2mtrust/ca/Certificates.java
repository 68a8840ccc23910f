package io.m2mtrust.ca;

import io.m2mtrust.common.ApiProblem;

import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECParameterSpec;
import java.time.Instant;
import java.util.HexFormat;

/** Certificate helpers of the tenant CA: parsing, thumbprints (RFC 7515 §4.1.8), key checks, CRL reason codes. */
public final class Certificates {

    private Certificates() {}

    private static final SecureRandom RANDOM = new SecureRandom();

    /** RFC 5280 §5.3.1 reason codes used here. */
    public static final int REASON_UNSPECIFIED = 0;

    public static final int REASON_KEY_COMPROMISE = 1;
    public static final int REASON_SUPERSEDED = 4;
    public static final int REASON_CESSATION = 5;

    // ---------------------------------------------------------------- helpers

    /** {@code x5t#S256} of a DER certificate (RFC 7515 §4.1.8): base64url of its SHA-256, unpadded. */
    public static String thumbprint(byte[] der) {
        try {
            return java.util.Base64.getUrlEncoder()
                    .withoutPadding()
                    .encodeToString(
                            java.security.MessageDigest.getInstance("SHA-256").digest(der));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A DER X.509 certificate; IllegalArgumentException when it is not one. */
    public static X509Certificate parse(byte[] der) {
        try {
            return (X509Certificate)
                    CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
        } catch (CertificateException | RuntimeException e) {
            throw new IllegalArgumentException("not an X.509 certificate", e);
        }
    }

    static final ECParameterSpec P256 = p256();

    static ECParameterSpec p256() {
        try {
            java.security.AlgorithmParameters p = java.security.AlgorithmParameters.getInstance("EC");
            p.init(new java.security.spec.ECGenParameterSpec("secp256r1"));
            return p.getParameterSpec(ECParameterSpec.class);
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    public static boolean isP256(PublicKey key) {
        if (!(key instanceof ECPublicKey ec)) {
            return false;
        }
        ECParameterSpec s = ec.getParams();
        return s.getCurve().equals(P256.getCurve())
                && s.getGenerator().equals(P256.getGenerator())
                && s.getOrder().equals(P256.getOrder());
    }

    static void requireP256(PublicKey key) {
        if (!isP256(key)) {
            throw new IllegalArgumentException("the subject key must be EC P-256 (TS-0003 §10.1.1.1)");
        }
    }

    static BigInteger randomSerial() {
        byte[] b = new byte[16];
        RANDOM.nextBytes(b);
        b[0] &= 0x7f; // positive (RFC 5280 §4.1.2.2)
        b[0] |= 0x40; // and always 16 octets, so the hex form has a fixed width
        return new BigInteger(b);
    }

    static Instant min(Instant a, Instant b) {
        return a.isBefore(b) ? a : b;
    }

    static Instant toInstant(Object o) {
        if (o instanceof Instant i) {
            return i;
        }
        if (o instanceof java.time.OffsetDateTime odt) {
            return odt.toInstant();
        }
        if (o instanceof java.sql.Timestamp ts) {
            return ts.toInstant();
        }
        throw new IllegalStateException("unexpected timestamp type " + o.getClass());
    }

    /** Hex of a byte array, for fingerprints in views. */
    static String sha256Hex(byte[] der) {
        try {
            return HexFormat.of()
                    .formatHex(
                            java.security.MessageDigest.getInstance("SHA-256").digest(der));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The RFC 5280 reason code for a name used in the admin API. */
    public static int reasonCode(String name) {
        return switch (name == null ? "unspecified" : name) {
            case "unspecified" -> REASON_UNSPECIFIED;
            case "keyCompromise" -> REASON_KEY_COMPROMISE;
            case "superseded" -> REASON_SUPERSEDED;
            case "cessationOfOperation" -> REASON_CESSATION;
            default ->
                throw ApiProblem.badRequest(
                        "invalid-reason",
                        "reason must be unspecified, keyCompromise, superseded or cessationOfOperation");
        };
    }
}
