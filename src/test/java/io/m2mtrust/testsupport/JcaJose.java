package io.m2mtrust.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import javax.crypto.Cipher;
import javax.crypto.KeyAgreement;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import javax.crypto.spec.SecretKeySpec;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.Key;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.spec.MGF1ParameterSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.function.Function;

/**
 * An independent JOSE for tests: JWE and JWS JSON (RFC 7516 §7.2, RFC 7515 §7.2) written from the RFCs
 * with the JDK's own providers only (SunEC, SunJCE, SunRsaSign) — no Nimbus, no Bouncy Castle, no jose4j
 * (which has no JSON serialization). Used to open what the service produces and to make what it must open.
 */
public final class JcaJose {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Base64.Decoder B64 = Base64.getUrlDecoder();
    private static final Base64.Encoder E64 = Base64.getUrlEncoder().withoutPadding();

    private JcaJose() {}

    /** A signature to make: {@code alg}, the header member naming the key ({@code kid} or {@code x5t#S256}) and the key. */
    public record SignWith(String alg, String idMember, String id, Key key) {}

    /** A recipient to encrypt for: {@code alg} (A*KW, ECDH-ES+A*KW, RSA-OAEP-256), naming member and value, its key. */
    public record EncryptFor(String alg, String idMember, String id, Key key) {}

    // ---------------------------------------------------------------- JWE JSON

    /**
     * Opens a JWE JSON envelope for the recipient whose merged header has {@code idMember} = {@code id}, with
     * {@code key} (a KEK for A*KW, the private key for ECDH-ES+A*KW and RSA-OAEP-256).
     */
    public static byte[] openJwe(String json, String idMember, String id, Key key) throws Exception {
        JsonNode j = JSON.readTree(json);
        JsonNode prot =
                j.has("protected") ? JSON.readTree(B64.decode(j.get("protected").asText())) : JSON.createObjectNode();
        for (JsonNode r : j.get("recipients")) {
            ObjectNode h = ((ObjectNode) prot).deepCopy();
            if (j.has("unprotected")) {
                h.setAll((ObjectNode) j.get("unprotected"));
            }
            if (r.has("header")) {
                h.setAll((ObjectNode) r.get("header"));
            }
            if (!h.has(idMember) || !id.equals(h.get(idMember).asText())) {
                continue;
            }
            String alg = h.get("alg").asText();
            String enc = h.get("enc").asText();
            byte[] wrapped =
                    r.has("encrypted_key") ? B64.decode(r.get("encrypted_key").asText()) : new byte[0];
            Key cek;
            if (alg.matches("A(128|192|256)KW")) {
                cek = unwrap(new SecretKeySpec(((SecretKeySpec) key).getEncoded(), "AES"), wrapped);
            } else if (alg.startsWith("ECDH-ES+A")) {
                JsonNode epk = h.get("epk");
                PublicKey ephemeral = ecPublic(epk, ((java.security.interfaces.ECPrivateKey) key).getParams());
                KeyAgreement ka = KeyAgreement.getInstance("ECDH", "SunEC");
                ka.init((PrivateKey) key);
                ka.doPhase(ephemeral, true);
                int bits = Integer.parseInt(alg.substring("ECDH-ES+A".length(), "ECDH-ES+A".length() + 3));
                byte[] kek = concatKdf(ka.generateSecret(), alg, bits);
                cek = unwrap(new SecretKeySpec(kek, "AES"), wrapped);
            } else if (alg.equals("RSA-OAEP-256")) {
                Cipher rsa = Cipher.getInstance("RSA/ECB/OAEPPadding", "SunJCE");
                rsa.init(
                        Cipher.DECRYPT_MODE,
                        key,
                        new OAEPParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, PSource.PSpecified.DEFAULT));
                cek = new SecretKeySpec(rsa.doFinal(wrapped), "AES");
            } else if (alg.equals("dir")) {
                cek = key;
            } else {
                throw new IllegalArgumentException("alg " + alg);
            }
            if (!enc.matches("A(128|192|256)GCM")) {
                throw new IllegalArgumentException("enc " + enc);
            }
            Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding", "SunJCE");
            gcm.init(
                    Cipher.DECRYPT_MODE,
                    new SecretKeySpec(cek.getEncoded(), "AES"),
                    new GCMParameterSpec(128, B64.decode(j.get("iv").asText())));
            String aad = (j.has("protected") ? j.get("protected").asText() : "")
                    + (j.has("aad") ? "." + j.get("aad").asText() : "");
            gcm.updateAAD(aad.getBytes(StandardCharsets.US_ASCII));
            gcm.update(B64.decode(j.get("ciphertext").asText()));
            return gcm.doFinal(B64.decode(j.get("tag").asText()));
        }
        throw new AssertionError("no recipient with " + idMember + " " + id);
    }

    /** Makes a JWE JSON envelope (general serialization) for several recipients, a random CEK wrapped per recipient. */
    public static String makeJwe(byte[] plaintext, byte[] aad, String enc, String cty, List<EncryptFor> recipients)
            throws Exception {
        SecureRandom random = new SecureRandom();
        int cekBits = Integer.parseInt(enc.substring(1, 4));
        byte[] cek = new byte[cekBits / 8];
        random.nextBytes(cek);
        ObjectNode prot = JSON.createObjectNode().put("enc", enc);
        if (cty != null) {
            prot.put("cty", cty);
        }
        String protB64 = E64.encodeToString(JSON.writeValueAsBytes(prot));
        ArrayNode rs = JSON.createArrayNode();
        for (EncryptFor r : recipients) {
            ObjectNode h = JSON.createObjectNode().put("alg", r.alg()).put(r.idMember(), r.id());
            byte[] wrapped;
            if (r.alg().matches("A(128|192|256)KW")) {
                wrapped = wrap(new SecretKeySpec(((SecretKeySpec) r.key()).getEncoded(), "AES"), cek);
            } else if (r.alg().startsWith("ECDH-ES+A")) {
                ECPublicKey target = (ECPublicKey) r.key();
                KeyPairGenerator g = KeyPairGenerator.getInstance("EC", "SunEC");
                g.initialize(target.getParams(), random);
                KeyPair eph = g.generateKeyPair();
                KeyAgreement ka = KeyAgreement.getInstance("ECDH", "SunEC");
                ka.init(eph.getPrivate());
                ka.doPhase(target, true);
                int bits = Integer.parseInt(r.alg().substring("ECDH-ES+A".length(), "ECDH-ES+A".length() + 3));
                wrapped = wrap(new SecretKeySpec(concatKdf(ka.generateSecret(), r.alg(), bits), "AES"), cek);
                h.set("epk", ecJwk((ECPublicKey) eph.getPublic()));
            } else if (r.alg().equals("RSA-OAEP-256")) {
                Cipher rsa = Cipher.getInstance("RSA/ECB/OAEPPadding", "SunJCE");
                rsa.init(
                        Cipher.ENCRYPT_MODE,
                        r.key(),
                        new OAEPParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, PSource.PSpecified.DEFAULT));
                wrapped = rsa.doFinal(cek);
            } else {
                throw new IllegalArgumentException("alg " + r.alg());
            }
            ObjectNode rec = JSON.createObjectNode();
            rec.set("header", h);
            rec.put("encrypted_key", E64.encodeToString(wrapped));
            rs.add(rec);
        }
        byte[] iv = new byte[12];
        random.nextBytes(iv);
        Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding", "SunJCE");
        gcm.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(cek, "AES"), new GCMParameterSpec(128, iv));
        String aadB64 = aad == null ? null : E64.encodeToString(aad);
        gcm.updateAAD((protB64 + (aadB64 == null ? "" : "." + aadB64)).getBytes(StandardCharsets.US_ASCII));
        byte[] out = gcm.doFinal(plaintext);
        ObjectNode env = JSON.createObjectNode().put("protected", protB64);
        env.set("recipients", rs);
        if (aadB64 != null) {
            env.put("aad", aadB64);
        }
        env.put("iv", E64.encodeToString(iv));
        env.put("ciphertext", E64.encodeToString(Arrays.copyOf(out, out.length - 16)));
        env.put("tag", E64.encodeToString(Arrays.copyOfRange(out, out.length - 16, out.length)));
        return JSON.writeValueAsString(env);
    }

    // ---------------------------------------------------------------- JWS JSON

    /** Verifies every signature whose key {@code keys} returns (by merged header); returns the ids that verified, fails on any that does not. */
    public static List<String> verifyJws(String json, Function<JsonNode, Key> keys) throws Exception {
        JsonNode j = JSON.readTree(json);
        List<String> ok = new ArrayList<>();
        Iterator<JsonNode> sigs = j.has("signatures")
                ? j.get("signatures").elements()
                : List.of(j).iterator();
        while (sigs.hasNext()) {
            JsonNode s = sigs.next();
            String prot = s.has("protected") ? s.get("protected").asText() : "";
            ObjectNode h = prot.isEmpty() ? JSON.createObjectNode() : (ObjectNode) JSON.readTree(B64.decode(prot));
            if (s.has("header")) {
                h.setAll((ObjectNode) s.get("header"));
            }
            Key key = keys.apply(h);
            if (key == null) {
                continue;
            }
            byte[] input = (prot + "." + j.get("payload").asText()).getBytes(StandardCharsets.US_ASCII);
            byte[] sig = B64.decode(s.get("signature").asText());
            String alg = h.get("alg").asText();
            boolean good;
            if (alg.startsWith("HS")) {
                Mac mac = Mac.getInstance("HmacSHA" + alg.substring(2), "SunJCE");
                mac.init(key);
                good = MessageDigest.isEqual(mac.doFinal(input), sig);
            } else {
                Signature v = Signature.getInstance(
                        "SHA" + alg.substring(2) + (alg.startsWith("ES") ? "withECDSA" : "withRSA"),
                        alg.startsWith("ES") ? "SunEC" : "SunRsaSign");
                v.initVerify((PublicKey) key);
                v.update(input);
                good = v.verify(alg.startsWith("ES") ? rawToDer(sig) : sig);
            }
            if (!good) {
                throw new AssertionError("signature " + h + " does not verify");
            }
            ok.add(h.has("kid") ? h.get("kid").asText() : h.get("x5t#S256").asText());
        }
        return ok;
    }

    /** Makes a JWS JSON envelope (general serialization) with one signature per key, each header protected. */
    public static String makeJws(byte[] payload, List<SignWith> signers) throws Exception {
        String payloadB64 = E64.encodeToString(payload);
        ArrayNode sigs = JSON.createArrayNode();
        for (SignWith w : signers) {
            String prot = E64.encodeToString(JSON.writeValueAsBytes(
                    JSON.createObjectNode().put("alg", w.alg()).put(w.idMember(), w.id())));
            byte[] input = (prot + "." + payloadB64).getBytes(StandardCharsets.US_ASCII);
            byte[] sig;
            if (w.alg().startsWith("HS")) {
                Mac mac = Mac.getInstance("HmacSHA" + w.alg().substring(2), "SunJCE");
                mac.init(w.key());
                sig = mac.doFinal(input);
            } else {
                Signature s = Signature.getInstance(
                        "SHA" + w.alg().substring(2) + (w.alg().startsWith("ES") ? "withECDSA" : "withRSA"));
                s.initSign((PrivateKey) w.key());
                s.update(input);
                sig = w.alg().startsWith("ES")
                        ? derToRaw(s.sign(), Integer.parseInt(w.alg().substring(2)))
                        : s.sign();
            }
            sigs.add(JSON.createObjectNode().put("protected", prot).put("signature", E64.encodeToString(sig)));
        }
        ObjectNode env = JSON.createObjectNode().put("payload", payloadB64);
        env.set("signatures", sigs);
        return JSON.writeValueAsString(env);
    }

    // ---------------------------------------------------------------- primitives, from the RFCs

    /** RFC 7518 §4.6.2: Concat KDF (NIST SP 800-56A) with SHA-256, AlgorithmID = alg, empty apu/apv, keydatalen in bits. */
    static byte[] concatKdf(byte[] z, String alg, int bits) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] algId = alg.getBytes(StandardCharsets.US_ASCII);
        for (int counter = 1; out.size() < bits / 8; counter++) {
            sha.update(ByteBuffer.allocate(4).putInt(counter).array());
            sha.update(z);
            sha.update(ByteBuffer.allocate(4).putInt(algId.length).array());
            sha.update(algId);
            sha.update(new byte[4]); // PartyUInfo: length 0
            sha.update(new byte[4]); // PartyVInfo: length 0
            sha.update(ByteBuffer.allocate(4).putInt(bits).array());
            out.write(sha.digest());
        }
        return Arrays.copyOf(out.toByteArray(), bits / 8);
    }

    private static Key unwrap(SecretKeySpec kek, byte[] wrapped) throws Exception {
        Cipher c = Cipher.getInstance("AESWrap", "SunJCE");
        c.init(Cipher.UNWRAP_MODE, kek);
        return c.unwrap(wrapped, "AES", Cipher.SECRET_KEY);
    }

    private static byte[] wrap(SecretKeySpec kek, byte[] cek) throws Exception {
        Cipher c = Cipher.getInstance("AESWrap", "SunJCE");
        c.init(Cipher.WRAP_MODE, kek);
        return c.wrap(new SecretKeySpec(cek, "AES"));
    }

    private static PublicKey ecPublic(JsonNode jwk, java.security.spec.ECParameterSpec params) throws Exception {
        java.security.spec.ECPoint w = new java.security.spec.ECPoint(
                new BigInteger(1, B64.decode(jwk.get("x").asText())),
                new BigInteger(1, B64.decode(jwk.get("y").asText())));
        return java.security.KeyFactory.getInstance("EC", "SunEC")
                .generatePublic(new java.security.spec.ECPublicKeySpec(w, params));
    }

    private static ObjectNode ecJwk(ECPublicKey k) {
        int size = (k.getParams().getCurve().getField().getFieldSize() + 7) / 8;
        String crv = switch (size) {
            case 32 -> "P-256";
            case 48 -> "P-384";
            default -> "P-521";
        };
        return JSON.createObjectNode()
                .put("kty", "EC")
                .put("crv", crv)
                .put("x", E64.encodeToString(fixed(k.getW().getAffineX(), size)))
                .put("y", E64.encodeToString(fixed(k.getW().getAffineY(), size)));
    }

    private static byte[] fixed(BigInteger v, int size) {
        byte[] b = v.toByteArray();
        byte[] out = new byte[size];
        int n = Math.min(b.length, size);
        System.arraycopy(b, b.length - n, out, size - n, n);
        return out;
    }

    /** RFC 7518 §3.4: ECDSA signatures are R‖S, each the curve's size; the JDK speaks DER. */
    static byte[] rawToDer(byte[] raw) {
        int n = raw.length / 2;
        byte[] r = new BigInteger(1, Arrays.copyOfRange(raw, 0, n)).toByteArray();
        byte[] s = new BigInteger(1, Arrays.copyOfRange(raw, n, raw.length)).toByteArray();
        ByteArrayOutputStream seq = new ByteArrayOutputStream();
        derInt(seq, r);
        derInt(seq, s);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0x30);
        derLength(out, seq.size());
        out.writeBytes(seq.toByteArray());
        return out.toByteArray();
    }

    private static void derInt(ByteArrayOutputStream out, byte[] v) {
        out.write(0x02);
        derLength(out, v.length);
        out.writeBytes(v);
    }

    private static void derLength(ByteArrayOutputStream out, int len) {
        if (len < 128) {
            out.write(len);
        } else {
            out.write(0x81);
            out.write(len);
        }
    }

    static byte[] derToRaw(byte[] der, int hashBits) {
        int size = switch (hashBits) {
            case 256 -> 32;
            case 384 -> 48;
            default -> 66;
        };
        int i = 2;
        if ((der[1] & 0xff) == 0x81) {
            i = 3;
        }
        int rLen = der[i + 1];
        BigInteger r = new BigInteger(1, Arrays.copyOfRange(der, i + 2, i + 2 + rLen));
        int j = i + 2 + rLen;
        int sLen = der[j + 1];
        BigInteger s = new BigInteger(1, Arrays.copyOfRange(der, j + 2, j + 2 + sLen));
        byte[] out = new byte[2 * size];
        System.arraycopy(fixed(r, size), 0, out, 0, size);
        System.arraycopy(fixed(s, size), 0, out, size, size);
        return out;
    }
}
