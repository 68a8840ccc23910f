package io.m2mtrust.hsm;

import io.m2mtrust.common.SecretBytes;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The cryptographic operations that run inside the token: HMAC-SHA256 derivation, AES-256-GCM
 * seal/open with associated data, ECDSA P-256 signing. Each call is timed and counted per operation
 * and outcome ({@code m2m_hsm_operation_seconds}).
 */
public final class HsmCrypto {

    public static final int GCM_IV_BYTES = 12;
    public static final int GCM_TAG_BITS = 128;

    public enum Op {
        HMAC,
        SEAL,
        OPEN,
        SIGN
    }

    /**
     * Asked before every operation under a key (issue 21): the tenant quotas install one that charges the key owner's
     * HSM bucket and refuses (an unchecked exception, before the token is touched) when it is empty.
     */
    @FunctionalInterface
    public interface OperationGate {
        void beforeOperation(HsmKeyLabel key);
    }

    private volatile OperationGate gate = key -> {};

    /** Set while the service does its own bookkeeping ({@link #unmetered}): the gate is not asked. */
    private static final ThreadLocal<Boolean> UNMETERED = new ThreadLocal<>();

    /**
     * Runs {@code work} without the operation gate: for what the service does for itself under a tenant's key, never
     * for what a tenant's caller asked — the audit chain's head signature, which a tenant over its HSM quota must not
     * be able to stop (a refused request is audited too).
     */
    public <T> T unmetered(java.util.function.Supplier<T> work) {
        Boolean outer = UNMETERED.get();
        UNMETERED.set(Boolean.TRUE);
        try {
            return work.get();
        } finally {
            if (outer == null) {
                UNMETERED.remove();
            }
        }
    }

    private void pass(HsmKeyLabel key) {
        if (UNMETERED.get() == null) {
            gate.beforeOperation(key);
        }
    }

    /** Passes the gate for an operation under {@code key} done outside this class (ECDH in the token). */
    public void admit(HsmKeyLabel key) {
        pass(key);
    }

    /** Installs the gate every operation passes (one per process: the tenant quotas). */
    public void gate(OperationGate gate) {
        this.gate = gate;
    }

    private final Pkcs11Token token;
    private final Map<Op, Timer> ok = new EnumMap<>(Op.class);
    private final Map<Op, Timer> failed = new EnumMap<>(Op.class);

    public HsmCrypto(Pkcs11Token token, MeterRegistry registry) {
        this.token = token;
        for (Op op : Op.values()) {
            ok.put(op, timer(registry, op, "ok"));
            failed.put(op, timer(registry, op, "error"));
        }
    }

    private static Timer timer(MeterRegistry registry, Op op, String outcome) {
        return Timer.builder("m2m.hsm.operation")
                .description("PKCS#11 operations run by the service")
                .tag("op", op.name().toLowerCase())
                .tag("outcome", outcome)
                .publishPercentileHistogram(false)
                .register(registry);
    }

    public Pkcs11Token token() {
        return token;
    }

    /** HMAC-SHA256 under an HSM derivation key; the output is key material, so it comes back as a secret. */
    public SecretBytes hmacSha256(HsmKeyLabel key, byte[] data) {
        pass(key);
        return retryingStaleHandle(() -> hmacSha256Once(key, data));
    }

    private SecretBytes hmacSha256Once(HsmKeyLabel key, byte[] data) {
        long t0 = System.nanoTime();
        try {
            Pkcs11Token.Generation g = token.generation();
            Mac mac = Mac.getInstance("HmacSHA256", g.provider());
            mac.init(token.key(g, key));
            SecretBytes out = SecretBytes.adopt(mac.doFinal(data));
            ok.get(Op.HMAC).record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
            return out;
        } catch (GeneralSecurityException | RuntimeException e) {
            failed.get(Op.HMAC).record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
            throw rethrow("HMAC with " + key, e);
        }
    }

    /** AES-256-GCM encryption under an HSM KEK; returns ciphertext || 16-byte tag. */
    public byte[] sealAesGcm(HsmKeyLabel kek, byte[] iv, byte[] plaintext, byte[] aad) {
        pass(kek);
        checkIv(iv);
        return retryingStaleHandle(() -> sealAesGcmOnce(kek, iv, plaintext, aad));
    }

    private byte[] sealAesGcmOnce(HsmKeyLabel kek, byte[] iv, byte[] plaintext, byte[] aad) {
        long t0 = System.nanoTime();
        try {
            Pkcs11Token.Generation g = token.generation();
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding", g.provider());
            c.init(Cipher.ENCRYPT_MODE, token.key(g, kek), new GCMParameterSpec(GCM_TAG_BITS, iv));
            c.updateAAD(aad);
            byte[] out = c.doFinal(plaintext);
            ok.get(Op.SEAL).record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
            return out;
        } catch (GeneralSecurityException | RuntimeException e) {
            failed.get(Op.SEAL).record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
            throw rethrow("seal with " + kek, e);
        }
    }

    /**
     * AES-256-GCM decryption under an HSM KEK. A wrong tag, key or associated data answers
     * {@link SealedBlobRejectedException}; the plaintext is key material and comes back as a secret.
     */
    public SecretBytes openAesGcm(HsmKeyLabel kek, byte[] iv, byte[] ciphertextAndTag, byte[] aad) {
        pass(kek);
        checkIv(iv);
        return retryingStaleHandle(() -> openAesGcmOnce(kek, iv, ciphertextAndTag, aad));
    }

    private SecretBytes openAesGcmOnce(HsmKeyLabel kek, byte[] iv, byte[] ciphertextAndTag, byte[] aad) {
        long t0 = System.nanoTime();
        try {
            Pkcs11Token.Generation g = token.generation();
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding", g.provider());
            c.init(Cipher.DECRYPT_MODE, token.key(g, kek), new GCMParameterSpec(GCM_TAG_BITS, iv));
            c.updateAAD(aad);
            byte[] out = c.doFinal(ciphertextAndTag);
            ok.get(Op.OPEN).record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
            return SecretBytes.adopt(out);
        } catch (AEADBadTagException e) {
            failed.get(Op.OPEN).record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
            throw new SealedBlobRejectedException("sealed blob failed authentication");
        } catch (GeneralSecurityException | RuntimeException e) {
            failed.get(Op.OPEN).record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
            if (isBadTag(e)) {
                throw new SealedBlobRejectedException("sealed blob failed authentication");
            }
            throw rethrow("open with " + kek, e);
        }
    }

    /** ECDSA P-256 with SHA-256 (SoftHSM has no CKM_ECDSA_SHA256: SunPKCS11 hashes, the token signs). DER output. */
    public byte[] signEcdsaP256(HsmKeyLabel key, byte[] data) {
        pass(key);
        return sign(key, "SHA256withECDSA", data, "sign with ");
    }

    /**
     * ECDSA P-256 over a SHA-256 digest computed by the caller (CKM_ECDSA, "NONEwithECDSA"): the TLS
     * stack hashes the handshake itself and hands over only the digest. DER output.
     */
    public byte[] signEcdsaP256Digest(HsmKeyLabel key, byte[] sha256Digest) {
        pass(key);
        if (sha256Digest == null || sha256Digest.length != 32) {
            throw new IllegalArgumentException("expected a 32-byte SHA-256 digest");
        }
        return sign(key, "NONEwithECDSA", sha256Digest, "sign digest with ");
    }

    /** A signature with an end-point key of any {@link AsymmetricKeyType} (JCA algorithm, e.g. SHA384withECDSA, SHA256withRSA). */
    public byte[] signWith(HsmKeyLabel key, String jcaAlgorithm, byte[] data) {
        pass(key);
        return sign(key, jcaAlgorithm, data, "sign with ");
    }

    /**
     * The raw RSA private-key operation (CKM_RSA_X_509, "RSA/ECB/NoPadding") on one block: the padding
     * (OAEP) is removed by the caller, so the private key never leaves the token whatever padding the
     * token's provider supports.
     */
    public byte[] rsaPrivateRaw(HsmKeyLabel key, byte[] block) {
        pass(key);
        return retryingStaleHandle(() -> {
            long t0 = System.nanoTime();
            try {
                Pkcs11Token.Generation g = token.generation();
                javax.crypto.Cipher c = javax.crypto.Cipher.getInstance("RSA/ECB/NoPadding", g.provider());
                c.init(javax.crypto.Cipher.DECRYPT_MODE, (PrivateKey) token.key(g, key));
                byte[] out = c.doFinal(block);
                ok.get(Op.SIGN).record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
                return out;
            } catch (java.security.GeneralSecurityException e) {
                throw token.classify("RSA private operation with " + key, e);
            }
        });
    }

    private byte[] sign(HsmKeyLabel key, String algorithm, byte[] input, String what) {
        return retryingStaleHandle(() -> signOnce(key, algorithm, input, what));
    }

    private byte[] signOnce(HsmKeyLabel key, String algorithm, byte[] input, String what) {
        long t0 = System.nanoTime();
        try {
            Pkcs11Token.Generation g = token.generation();
            Signature s = Signature.getInstance(algorithm, g.provider());
            s.initSign((PrivateKey) token.key(g, key));
            s.update(input);
            byte[] out = s.sign();
            ok.get(Op.SIGN).record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
            return out;
        } catch (GeneralSecurityException | RuntimeException e) {
            failed.get(Op.SIGN).record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
            throw rethrow(what + key, e);
        }
    }

    /** Verifies in software with the public key stored beside the HSM private key. */
    public boolean verifyEcdsaP256(HsmKeyLabel key, byte[] data, byte[] derSignature) {
        try {
            Signature s = Signature.getInstance("SHA256withECDSA");
            s.initVerify(token.publicKey(key));
            s.update(data);
            return s.verify(derSignature);
        } catch (java.security.SignatureException e) {
            return false;
        } catch (GeneralSecurityException e) {
            throw new HsmCryptoException("verification with " + key + " failed", e);
        }
    }

    private static void checkIv(byte[] iv) {
        if (iv == null || iv.length != GCM_IV_BYTES) {
            throw new IllegalArgumentException("AES-GCM IV must be 12 bytes");
        }
    }

    private static boolean isBadTag(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof AEADBadTagException) {
                return true;
            }
            String m = t.getMessage();
            if (m != null && (m.contains("CKR_ENCRYPTED_DATA_INVALID") || m.contains("CKR_ENCRYPTED_DATA_LEN_RANGE"))) {
                return true;
            }
        }
        return false;
    }

    /** One retry with fresh handles when the token reported a stale cached handle ({@link Pkcs11Token#classify}). */
    private static <T> T retryingStaleHandle(java.util.function.Supplier<T> op) {
        try {
            return op.get();
        } catch (HsmStaleHandleException stale) {
            return op.get();
        }
    }

    private RuntimeException rethrow(String what, Exception e) {
        if (e instanceof HsmKeyNotFoundException
                || e instanceof HsmUnavailableException
                || e instanceof HsmCryptoException
                || e instanceof IllegalArgumentException) {
            return (RuntimeException) e;
        }
        return token.classify(what, e);
    }
}
