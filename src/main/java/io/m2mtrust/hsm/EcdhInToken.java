package io.m2mtrust.hsm;

import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.interfaces.ECPublicKey;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * ECDH with an end-point's private key inside the token (CKM_ECDH1_DERIVE), for JOSE ECDH-ES: the JOSE
 * Concat KDF needs the shared secret Z, but SunPKCS11 derives it under the provider's {@code generate}
 * template — sensitive here, so its value cannot be read (CKR_ATTRIBUTE_SENSITIVE on SoftHSM2). This
 * calls the PKCS#11 module directly (the JDK's wrapper, opened by {@code --add-opens
 * jdk.crypto.cryptoki/sun.security.pkcs11.wrapper}) with a template for that one derived session object:
 * not a token object, readable once, destroyed at once. The private key never leaves the token; Z is a
 * per-message value like an unsealed key. The key must allow derivation ({@link #allowDerive}).
 */
public final class EcdhInToken {

    /** Sessions this class has open on the token now (each lives for one derivation); part of {@code m2m_hsm_sessions}. */
    static final AtomicInteger OPEN_SESSIONS = new AtomicInteger();

    // PKCS#11 constants (v2.40)
    private static final long CKF_SERIAL_SESSION = 0x4, CKF_RW_SESSION = 0x2;
    private static final long CKA_CLASS = 0x0,
            CKA_TOKEN = 0x1,
            CKA_VALUE = 0x11,
            CKA_KEY_TYPE = 0x100,
            CKA_ID = 0x102,
            CKA_SENSITIVE = 0x103,
            CKA_DERIVE = 0x10C,
            CKA_VALUE_LEN = 0x161,
            CKA_EXTRACTABLE = 0x162;
    private static final long CKO_PRIVATE_KEY = 0x3, CKO_SECRET_KEY = 0x4, CKK_GENERIC_SECRET = 0x10;
    private static final long CKM_ECDH1_DERIVE = 0x1050, CKD_NULL = 0x1;

    private final Pkcs11Token token;
    private final HsmCrypto hsm;
    /** The PKCS#11 library named by the provider config, read once (not per decryption). */
    private volatile String library;

    /** ECDH in {@code hsm}'s token; every derivation passes its operation gate (the tenant's HSM quota) first. */
    public EcdhInToken(HsmCrypto hsm) {
        this.token = hsm.token();
        this.hsm = hsm;
    }

    /** Z = ECDH(private key of {@code label}, {@code peer}): the x coordinate, 32 bytes for P-256, 48 for P-384, 66 for P-521. */
    public byte[] sharedSecret(HsmKeyLabel label, ECPublicKey peer) {
        hsm.admit(label);
        byte[] point = uncompressed(peer);
        long zLength = coordinateLength(peer);
        return withSession((p11, session) -> {
            long key = privateKeyHandle(p11, session, label);
            Object params = cls("CK_ECDH1_DERIVE_PARAMS")
                    .getConstructor(long.class, byte[].class, byte[].class)
                    .newInstance(CKD_NULL, null, point);
            Object mechanism = cls("CK_MECHANISM")
                    .getConstructor(long.class, cls("CK_ECDH1_DERIVE_PARAMS"))
                    .newInstance(CKM_ECDH1_DERIVE, params);
            Object template = attributes(
                    attr(CKA_CLASS, CKO_SECRET_KEY),
                    attr(CKA_KEY_TYPE, CKK_GENERIC_SECRET),
                    attr(CKA_VALUE_LEN, zLength),
                    attr(CKA_TOKEN, false),
                    attr(CKA_SENSITIVE, false),
                    attr(CKA_EXTRACTABLE, true));
            long derived = (long) p11.getClass()
                    .getMethod("C_DeriveKey", long.class, cls("CK_MECHANISM"), long.class, template.getClass())
                    .invoke(p11, session, mechanism, key, template);
            try {
                Object value = attributes(attr(CKA_VALUE, null));
                p11.getClass()
                        .getMethod("C_GetAttributeValue", long.class, long.class, value.getClass())
                        .invoke(p11, session, derived, value);
                Object a = java.lang.reflect.Array.get(value, 0);
                return (byte[]) a.getClass().getField("pValue").get(a);
            } finally {
                p11.getClass()
                        .getMethod("C_DestroyObject", long.class, long.class)
                        .invoke(p11, session, derived);
            }
        });
    }

    /** Sets CKA_DERIVE on the private key of {@code label} (only end-point keys need it; others stay sign-only). */
    public void allowDerive(HsmKeyLabel label) {
        withSession((p11, session) -> {
            long key = privateKeyHandle(p11, session, label);
            Object t = attributes(attr(CKA_DERIVE, true));
            p11.getClass()
                    .getMethod("C_SetAttributeValue", long.class, long.class, t.getClass())
                    .invoke(p11, session, key, t);
            return null;
        });
    }

    // ---------------------------------------------------------------- plumbing

    @FunctionalInterface
    private interface InSession<T> {
        T run(Object p11, long session) throws Exception;
    }

    private <T> T withSession(InSession<T> work) {
        try {
            Object p11 = module();
            long[] slots = (long[])
                    p11.getClass().getMethod("C_GetSlotList", boolean.class).invoke(p11, true);
            if (slots.length == 0) {
                throw new HsmUnavailableException("no token present", null);
            }
            long session = (long) p11.getClass()
                    .getMethod("C_OpenSession", long.class, long.class, Object.class, cls("CK_NOTIFY"))
                    .invoke(p11, slots[0], CKF_SERIAL_SESSION | CKF_RW_SESSION, null, null);
            OPEN_SESSIONS.incrementAndGet();
            try {
                return work.run(p11, session);
            } finally {
                OPEN_SESSIONS.decrementAndGet();
                p11.getClass().getMethod("C_CloseSession", long.class).invoke(p11, session);
            }
        } catch (HsmUnavailableException e) {
            throw e;
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw new HsmCryptoException("PKCS#11 ECDH refused: " + e.getCause(), e.getCause());
        } catch (Exception e) {
            throw new HsmCryptoException(
                    "PKCS#11 ECDH not available in this JVM (needs --add-opens "
                            + "jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED): " + e,
                    e);
        }
    }

    /** The module SunPKCS11 already initialised for the configured library (same login state). */
    private Object module() throws Exception {
        String library = this.library;
        if (library == null) {
            for (String line : Files.readAllLines(token.settings().providerConfig(), StandardCharsets.UTF_8)) {
                String t = line.strip();
                if (t.startsWith("library") && t.contains("=")) {
                    library = t.substring(t.indexOf('=') + 1).strip();
                }
            }
            this.library = library;
        }
        token.generation(); // makes sure the provider (and so the module) is open
        Method getInstance = cls("PKCS11")
                .getMethod("getInstance", String.class, String.class, cls("CK_C_INITIALIZE_ARGS"), boolean.class);
        return getInstance.invoke(null, Path.of(library).toString(), "C_GetFunctionList", null, true);
    }

    private static long privateKeyHandle(Object p11, long session, HsmKeyLabel label) throws Exception {
        // a PKCS#11 KeyStore stores the entry's alias as CKA_ID of the private key (its CKA_LABEL stays empty)
        Object t = attributes(
                attr(CKA_CLASS, CKO_PRIVATE_KEY), attr(CKA_ID, label.value().getBytes(StandardCharsets.UTF_8)));
        p11.getClass().getMethod("C_FindObjectsInit", long.class, t.getClass()).invoke(p11, session, t);
        long[] found;
        try {
            found = (long[]) p11.getClass()
                    .getMethod("C_FindObjects", long.class, long.class)
                    .invoke(p11, session, 2L);
        } finally {
            p11.getClass().getMethod("C_FindObjectsFinal", long.class).invoke(p11, session);
        }
        if (found.length == 0) {
            throw new HsmKeyNotFoundException(label);
        }
        if (found.length > 1) {
            throw new HsmCryptoException("private key " + label + " is ambiguous in the token", null);
        }
        return found[0];
    }

    private static Object attr(long type, Object value) throws Exception {
        Class<?> c = cls("CK_ATTRIBUTE");
        if (value == null) {
            return c.getConstructor(long.class).newInstance(type);
        }
        if (value instanceof Boolean b) {
            return c.getConstructor(long.class, boolean.class).newInstance(type, b);
        }
        if (value instanceof Long l) {
            return c.getConstructor(long.class, long.class).newInstance(type, l);
        }
        return c.getConstructor(long.class, Object.class).newInstance(type, value);
    }

    private static Object attributes(Object... attrs) throws Exception {
        Object array = java.lang.reflect.Array.newInstance(cls("CK_ATTRIBUTE"), attrs.length);
        for (int i = 0; i < attrs.length; i++) {
            java.lang.reflect.Array.set(array, i, attrs[i]);
        }
        return array;
    }

    private static Class<?> cls(String name) throws ClassNotFoundException {
        return Class.forName("sun.security.pkcs11.wrapper." + name);
    }

    /** Bytes of one coordinate (and of Z) on the key's curve: 32 for P-256, 48 for P-384, 66 for P-521. */
    private static int coordinateLength(ECPublicKey k) {
        return (k.getParams().getCurve().getField().getFieldSize() + 7) / 8;
    }

    private static byte[] uncompressed(ECPublicKey k) {
        int n = coordinateLength(k);
        byte[] out = new byte[1 + 2 * n];
        out[0] = 0x04;
        System.arraycopy(fixed(k.getW().getAffineX().toByteArray(), n), 0, out, 1, n);
        System.arraycopy(fixed(k.getW().getAffineY().toByteArray(), n), 0, out, 1 + n, n);
        return out;
    }

    private static byte[] fixed(byte[] b, int n) {
        byte[] out = new byte[n];
        int len = Math.min(b.length, n);
        System.arraycopy(b, b.length - len, out, n - len, len);
        return out;
    }
}
