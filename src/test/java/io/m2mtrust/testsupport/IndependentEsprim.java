package io.m2mtrust.testsupport;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An ESPrim originator written independently of the service: the originator rand object and the
 * sessionESPrimKey from TS-0003 §10.3.8 with plain javax.crypto, the ESPrim object with jose4j.
 */
public final class IndependentEsprim {

    private static final SecureRandom RANDOM = new SecureRandom();

    private IndependentEsprim() {}

    /** An originator rand object (short names): 16 random bytes as {@code _} + hex, expiring with the receiver's, HMAC-SHA256, A256GCM. */
    /** The primitive an ESPrim object carries (TS-0004 short names), release 3. */
    public static Map<String, Object> primitive(int op, String to, String from, String rqi, Integer ty, Object pc) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("op", op);
        m.put("to", to);
        m.put("fr", from);
        m.put("rqi", rqi);
        m.put("rvi", "3");
        if (ty != null) {
            m.put("ty", ty);
        }
        if (pc != null) {
            m.put("pc", pc);
        }
        return m;
    }

    public static Map<String, Object> originatorRand(String id, String receiverExpiry) {
        byte[] v = new byte[16];
        RANDOM.nextBytes(v);
        Map<String, Object> oro = new LinkedHashMap<>();
        oro.put("esri", id);
        oro.put("esrv", "_" + HexFormat.of().formatHex(v));
        oro.put("esrx", receiverExpiry);
        oro.put("esk", 1);
        oro.put("espa", List.of(12));
        return oro;
    }

    /** HMAC-SHA256(pairwise, rr ‖ or ‖ label), the rand values given as their {@code esrv} text. */
    public static byte[] sessionKey(byte[] pairwise, String receiverEsrv, String originatorEsrv) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(pairwise, "HmacSHA256"));
            mac.update(HexFormat.of().parseHex(receiverEsrv.substring(1)));
            mac.update(HexFormat.of().parseHex(originatorEsrv.substring(1)));
            mac.update("oneM2M HMAC-SHA256 sessionESPrimKey derivation algorithm".getBytes(StandardCharsets.US_ASCII));
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** An ESPrim object (JWE compact, dir, A256GCM) with kid, ori, rri and {@code oro}, around {@code innerJson}. */
    public static String esprimObject(
            byte[] sessionKey, String kid, String ori, String rri, Map<String, Object> oro, String innerJson) {
        try {
            org.jose4j.jwe.JsonWebEncryption jwe = new org.jose4j.jwe.JsonWebEncryption();
            jwe.setAlgorithmHeaderValue(org.jose4j.jwe.KeyManagementAlgorithmIdentifiers.DIRECT);
            jwe.setEncryptionMethodHeaderParameter("A256GCM");
            jwe.setKeyIdHeaderValue(kid);
            jwe.setHeader("ori", ori);
            jwe.setHeader("rri", rri);
            jwe.getHeaders().setObjectHeaderValue("oro", oro);
            jwe.setKey(new org.jose4j.keys.AesKey(sessionKey));
            jwe.setPlaintext(innerJson);
            return jwe.getCompactSerialization();
        } catch (org.jose4j.lang.JoseException e) {
            throw new IllegalStateException(e);
        }
    }
}
