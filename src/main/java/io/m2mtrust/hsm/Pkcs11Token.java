package io.m2mtrust.hsm;

import org.jboss.logging.Logger;

import javax.crypto.KeyGenerator;
import javax.crypto.Mac;
import javax.crypto.SecretKey;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Key;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Security;
import java.security.cert.Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The one place that opens the PKCS#11 token (SunPKCS11, configured from {@code hsm-config/}).
 *
 * <p>The provider is used by instance and never registered in {@link Security}, so SecureRandom,
 * TLS and software AES never route through the token by accident. Key objects are looked up by label
 * once and cached (SoftHSM searches are slow, cloud HSMs rate-limit them). When an operation fails
 * and the probe key also fails, the token is marked down: cached handles are dropped and every call
 * answers {@link HsmUnavailableException} until {@link #probe()} reopens it.
 */
public final class Pkcs11Token implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(Pkcs11Token.class);

    /** The HMAC key the health probe uses; created at first start, one per token. */
    public static final HsmKeyLabel PROBE_KEY = HsmKeyLabel.of(HsmKeyLabel.PLATFORM, KeyPurpose.DERIVE, 1);

    private final HsmSettings settings;
    private final Object lifecycle = new Object();
    private volatile Generation current;
    private volatile String downReason = "not opened";
    private final AtomicLong reopenCount = new AtomicLong();

    /** Provider, logged-in key store and handle cache of one successful open. */
    record Generation(
            Provider provider, KeyStore keyStore, Map<String, Key> handles, Map<String, PublicKey> publicKeys) {}

    /** Opens the token or throws {@link HsmStartupException} with one clear sentence. */
    public Pkcs11Token(HsmSettings settings) {
        this(settings, Runnable::run);
    }

    /**
     * Opens the token; {@code serialised} runs the creation of the shared probe key one process at a time (several
     * replicas starting on a fresh token must not both create it: two objects with one label make SunPKCS11's key
     * store unloadable).
     */
    public Pkcs11Token(HsmSettings settings, java.util.function.Consumer<Runnable> serialised) {
        this.settings = settings;
        this.current = openAtStartup(settings);
        this.downReason = null;
        serialised.accept(this::ensureProbeKey);
    }

    Generation generation() {
        Generation g = current;
        if (g == null) {
            throw new HsmUnavailableException("HSM token unavailable: " + downReason);
        }
        return g;
    }

    /** Where the token is configured (PKCS#11 library, slot) and how to log in. */
    public HsmSettings settings() {
        return settings;
    }

    public Provider provider() {
        return generation().provider();
    }

    public boolean isUp() {
        return current != null;
    }

    public Optional<String> downReason() {
        return Optional.ofNullable(current == null ? downReason : null);
    }

    public long reopenCount() {
        return reopenCount.get();
    }

    /**
     * Sessions SunPKCS11 holds on the token now (its pools and those in use): its session manager's own count, read by
     * reflection, which needs {@code --add-opens=jdk.crypto.cryptoki/sun.security.pkcs11=ALL-UNNAMED} (the chart sets
     * it). -1 when the JVM does not open the package; 0 while the token is down. A soak watches it for leaks.
     */
    public int providerSessions() {
        Generation g = current;
        if (g == null) {
            return 0;
        }
        try {
            Object token = declaredField(g.provider(), "token");
            Object manager = declaredField(token, "sessionManager");
            return ((AtomicInteger) declaredField(manager, "activeSessions")).get();
        } catch (ReflectiveOperationException | RuntimeException notOpenOrNotThisJdk) {
            return -1;
        }
    }

    private static Object declaredField(Object owner, String name) throws ReflectiveOperationException {
        for (Class<?> c = owner.getClass(); c != null; c = c.getSuperclass()) {
            try {
                Field f = c.getDeclaredField(name);
                f.setAccessible(true);
                return f.get(owner);
            } catch (NoSuchFieldException inSuperclass) {
                // keep looking up the hierarchy
            }
        }
        throw new NoSuchFieldException(name);
    }

    // ---------------------------------------------------------------- key objects

    /** The cached handle of a secret or private key; one token search per label and generation. */
    public Key key(HsmKeyLabel label) {
        return key(generation(), label);
    }

    /** The handle in a given generation, so an operation uses one provider and its own handles. */
    Key key(Generation g, HsmKeyLabel label) {
        Key k = g.handles().get(label.value());
        if (k != null) {
            return k;
        }
        k = find(g, "key lookup " + label, ks -> (Key) ks.getKey(label.value(), null));
        if (k == null) {
            throw new HsmKeyNotFoundException(label);
        }
        g.handles().put(label.value(), k);
        return k;
    }

    /** A call on the key store of one generation. */
    @FunctionalInterface
    private interface KeyStoreCall<T> {
        T call(KeyStore ks) throws Exception;
    }

    /**
     * Runs a key-store call (label lookups, listings, reloads, creation and deletion of objects — never the
     * per-request crypto, whose handles are cached) under the lifecycle lock, on the generation that is still the
     * current one. A module re-initialise (which holds the same lock) can then never pull the library away from under
     * a lookup: two SIGSEGVs in {@code C_FindObjects} during {@code HsmOutageTest} came from exactly that race. A
     * generation replaced meanwhile is a stale handle (the caller retries once on the new one); none at all, an
     * outage.
     */
    private <T> T onKeyStore(Generation g, String what, KeyStoreCall<T> call) {
        synchronized (lifecycle) {
            if (current != g) {
                if (current == null) {
                    throw new HsmUnavailableException("HSM token unavailable: " + downReason);
                }
                throw new HsmStaleHandleException(what + ": the token was reopened meanwhile", null);
            }
            try {
                return call.call(g.keyStore());
            } catch (HsmUnavailableException
                    | HsmKeyNotFoundException
                    | IllegalStateException
                    | IllegalArgumentException e) {
                throw e; // answers, not token failures
            } catch (Exception e) {
                throw classify(what, e);
            }
        }
    }

    /**
     * {@code lookup} on the key store, and once more after a {@link #rescan} when it finds nothing (null): another
     * replica may have made the object since this key store was loaded.
     */
    private <T> T find(Generation g, String what, KeyStoreCall<T> lookup) {
        long missAt = System.nanoTime();
        return onKeyStore(g, what, ks -> {
            T found = lookup.call(ks);
            if (found == null) {
                rescan(g, missAt);
                found = lookup.call(ks);
            }
            return found;
        });
    }

    private long lastRescanStarted = System.nanoTime(); // guarded by lifecycle

    /**
     * SunPKCS11's key store maps the token's labels once, when it is loaded: an object another process (another
     * replica on the same HSM) created since is invisible until it is loaded again. A miss therefore reloads the map,
     * unless a reload that started after the miss already ran (concurrent misses share one). Called under the
     * lifecycle lock ({@link #onKeyStore}).
     */
    private void rescan(Generation g, long missAt) throws Exception {
        if (lastRescanStarted - missAt > 0) {
            return;
        }
        if (g.handles().containsKey(PROBE_KEY.value()) && !probeUnlocked(g)) {
            // a miss on a token that does not answer is an outage, not a new object: no object search on it (SoftHSM
            // crashed in C_FindObjects once when its token directory had just gone). Before the probe key exists
            // (the first start) there is nothing to probe with.
            markDown("the token did not answer while looking for an object (" + lastProbeFailure + ")");
            throw new HsmUnavailableException("HSM token unavailable: " + downReason);
        }
        lastRescanStarted = System.nanoTime();
        g.keyStore().load(null, settings.readPin());
    }

    /** The public half of an EC key pair (from the certificate stored beside it). */
    public PublicKey publicKey(HsmKeyLabel label) {
        Generation g = generation();
        PublicKey pk = g.publicKeys().get(label.value());
        if (pk != null) {
            return pk;
        }
        Certificate c = find(g, "public key lookup " + label, ks -> ks.getCertificate(label.value()));
        if (c == null) {
            throw new HsmKeyNotFoundException(label);
        }
        g.publicKeys().put(label.value(), c.getPublicKey());
        return c.getPublicKey();
    }

    public boolean exists(HsmKeyLabel label) {
        return find(generation(), "key lookup " + label, ks -> ks.containsAlias(label.value()) ? Boolean.TRUE : null)
                != null;
    }

    /** Labels of every object the service created (parsed), optionally of one owner. */
    public List<HsmKeyLabel> labels(String ownerOrNull) {
        Generation g = generation();
        return onKeyStore(g, "listing keys", ks -> {
            rescan(g, System.nanoTime()); // every object, whichever replica made it (crypto-shredding relies on it)
            List<HsmKeyLabel> out = new ArrayList<>();
            for (String alias : Collections.list(ks.aliases())) {
                HsmKeyLabel l = HsmKeyLabel.parse(alias);
                if (l != null && (ownerOrNull == null || l.owner().equals(ownerOrNull))) {
                    out.add(l);
                }
            }
            return out;
        });
    }

    /**
     * Generates a key inside the token (CKA_SENSITIVE, non-extractable: the generate templates in the
     * provider config) and persists it under {@code label}. The generator makes a session object;
     * {@code KeyStore.setEntry} copies it to a token object carrying the label.
     */
    public void generate(HsmKeyLabel label, CertificateMaker certificateMaker) {
        generate(label, certificateMaker, AsymmetricKeyType.EC_P256);
    }

    /** {@link #generate(HsmKeyLabel, CertificateMaker)} with the key pair type of an end-point key. */
    public void generate(HsmKeyLabel label, CertificateMaker certificateMaker, AsymmetricKeyType keyType) {
        try {
            generateOnce(label, certificateMaker, keyType);
        } catch (HsmStaleHandleException stale) {
            // the token came back under us (its cached handles were dropped by classify): one more try, as HsmCrypto
            // does
            generateOnce(label, certificateMaker, keyType);
        }
    }

    private void generateOnce(HsmKeyLabel label, CertificateMaker certificateMaker, AsymmetricKeyType keyType) {
        Generation g = generation();
        onKeyStore(g, "generating " + label, ks -> {
            if (ks.containsAlias(label.value())) {
                throw new IllegalStateException("HSM key already exists: " + label);
            }
            switch (label.purpose()) {
                case KEK -> {
                    KeyGenerator kg = KeyGenerator.getInstance("AES", g.provider());
                    kg.init(256);
                    ks.setEntry(label.value(), new KeyStore.SecretKeyEntry(kg.generateKey()), null);
                }
                case DERIVE, GROUP -> {
                    // SoftHSM refuses HMAC keys under 32 bytes (CKR_KEY_SIZE_RANGE).
                    KeyGenerator kg = KeyGenerator.getInstance("HmacSHA256", g.provider());
                    kg.init(256);
                    SecretKey k = kg.generateKey();
                    ks.setEntry(label.value(), new KeyStore.SecretKeyEntry(k), null);
                }
                case SIGN, CA, TLS, ENDPOINT -> {
                    if (keyType != AsymmetricKeyType.EC_P256 && label.purpose() != KeyPurpose.ENDPOINT) {
                        throw new IllegalArgumentException(label.purpose() + " keys are EC P-256");
                    }
                    KeyPairGenerator kpg = KeyPairGenerator.getInstance(keyType.jcaKeyAlgorithm(), g.provider());
                    keyType.initialize(kpg);
                    KeyPair kp = kpg.generateKeyPair();
                    // A PKCS#11 KeyStore stores a private key only with a certificate chain.
                    Certificate cert = certificateMaker.selfSigned(label, kp, g.provider());
                    ks.setEntry(
                            label.value(),
                            new KeyStore.PrivateKeyEntry(kp.getPrivate(), new Certificate[] {cert}),
                            null);
                }
                default -> throw new IllegalArgumentException("unsupported purpose");
            }
            return null;
        });
    }

    /** Destroys the object (crypto-shredding): blobs sealed under it become unreadable. */
    public void destroy(HsmKeyLabel label) {
        Generation g = generation();
        try {
            // under one hold of the lifecycle lock: found (after a rescan if need be) and deleted
            find(g, "destroying " + label, ks -> {
                if (!ks.containsAlias(label.value())) {
                    return null;
                }
                ks.deleteEntry(label.value());
                return Boolean.TRUE;
            });
        } finally {
            g.handles().remove(label.value());
            g.publicKeys().remove(label.value());
        }
    }

    /**
     * Generates {@code label}, first destroying an object already carrying it. Only for callers that
     * hold the claim that nothing refers to such an object: an orphan of a creation or rotation that was
     * interrupted between the HSM and the database.
     */
    public void generateReplacingOrphan(HsmKeyLabel label, CertificateMaker certificateMaker) {
        generateReplacingOrphan(label, certificateMaker, AsymmetricKeyType.EC_P256);
    }

    public void generateReplacingOrphan(
            HsmKeyLabel label, CertificateMaker certificateMaker, AsymmetricKeyType keyType) {
        if (exists(label)) {
            LOG.warnf("replacing orphan HSM object %s left by an interrupted operation", label);
            destroy(label);
        }
        generate(label, certificateMaker, keyType);
    }

    /**
     * {@link #destroy} for undo and clean-up paths, where a failure must not hide the original outcome:
     * logged, and left to the key reconciler. Returns whether the object is gone.
     */
    public boolean destroyQuietly(HsmKeyLabel label) {
        try {
            destroy(label);
            return true;
        } catch (RuntimeException e) {
            LOG.errorf("could not destroy %s now (%s); the key reconciler retries", label, e.getMessage());
            return false;
        }
    }

    /** Makes the self-signed certificate that must accompany a private key in a PKCS#11 KeyStore. */
    @FunctionalInterface
    public interface CertificateMaker {
        Certificate selfSigned(HsmKeyLabel label, KeyPair keyPair, Provider provider) throws Exception;
    }

    // ---------------------------------------------------------------- health and recovery

    /**
     * True when the token answers an HMAC with the probe key. When it does not, the token is marked
     * down; when it was down, the probe tries to reopen it (reload, then a full module re-initialise,
     * which SoftHSM needs after its token directory came back).
     */
    public boolean probe() {
        Generation g = current;
        if (g != null) {
            if (probeOnce(g)) {
                return true;
            }
            markDown("probe failed (" + lastProbeFailure + ")");
        }
        return tryReopen();
    }

    /** One HMAC with the probe key, under the lifecycle lock (never beside a module re-initialise). */
    private boolean probeOnce(Generation g) {
        synchronized (lifecycle) {
            return probeUnlocked(g);
        }
    }

    /** Why the last probe failed (for the DOWN log line); guarded by the lifecycle lock. */
    private String lastProbeFailure = "";

    private boolean probeUnlocked(Generation g) {
        try {
            Key k = g.handles().get(PROBE_KEY.value());
            if (k == null) {
                k = g.keyStore().getKey(PROBE_KEY.value(), null);
                if (k == null) {
                    lastProbeFailure = "no probe key";
                    return false;
                }
                g.handles().put(PROBE_KEY.value(), k);
            }
            Mac mac = Mac.getInstance("HmacSHA256", g.provider());
            mac.init(k);
            mac.doFinal(new byte[] {1});
            return true;
        } catch (Exception | Error e) {
            lastProbeFailure = e.toString();
            return false;
        }
    }

    private void markDown(String reason) {
        synchronized (lifecycle) {
            if (current != null) {
                LOG.errorf("HSM token marked DOWN: %s", reason);
                current = null;
                downReason = reason;
            }
        }
    }

    private boolean tryReopen() {
        synchronized (lifecycle) {
            if (current != null) {
                return true;
            }
            for (boolean resetModule : new boolean[] {false, true}) {
                try {
                    Generation g = open(settings, resetModule);
                    if (probeOnce(g)) {
                        current = g;
                        downReason = null;
                        reopenCount.incrementAndGet();
                        LOG.warnf(
                                "HSM token is UP again (reopened%s)", resetModule ? " after module re-initialise" : "");
                        return true;
                    }
                } catch (RuntimeException e) {
                    downReason = e.getMessage();
                }
            }
            return false;
        }
    }

    /**
     * Turns a failure into either {@link HsmUnavailableException} (the probe fails too: the token is
     * gone) or {@link HsmCryptoException} (the token works, the input was refused).
     */
    RuntimeException classify(String what, Exception e) {
        if (e instanceof HsmUnavailableException u) {
            return u;
        }
        Generation g = current;
        if (g == null || !probeOnce(g)) {
            markDown(what + ": " + rootMessage(e));
            return new HsmUnavailableException("HSM token unavailable during " + what, e);
        }
        String root = rootMessage(e);
        if (root.contains("CKR_OBJECT_HANDLE_INVALID") || root.contains("CKR_KEY_HANDLE_INVALID")) {
            // the token works but a cached handle went stale: forget this generation's handles, the caller retries once
            g.handles().clear();
            return new HsmStaleHandleException(what + ": stale object handle (handles dropped)", e);
        }
        return new HsmCryptoException(what + " refused by the HSM", e);
    }

    private static String rootMessage(Throwable t) {
        Throwable r = t;
        while (r.getCause() != null && r.getCause() != r) {
            r = r.getCause();
        }
        return r.getClass().getSimpleName() + (r.getMessage() == null ? "" : " " + r.getMessage());
    }

    private void ensureProbeKey() {
        if (!exists(PROBE_KEY)) {
            generate(PROBE_KEY, null);
            LOG.infof("created HSM probe key %s", PROBE_KEY);
        }
    }

    // ---------------------------------------------------------------- opening

    /**
     * {@link #open} at start-up, again (module re-initialised) on a transient token error: SoftHSM2 reads every token
     * file when the module opens and at login, and another process sharing the token directory may be rewriting one
     * (replicas on one token in the tests, a restart right after a kill -9). PIN and configuration errors fail at once.
     */
    private static Generation openAtStartup(HsmSettings settings) {
        for (int attempt = 1; ; attempt++) {
            try {
                return open(settings, attempt > 1);
            } catch (HsmStartupException e) {
                String root = e.getMessage() == null ? "" : e.getMessage();
                if (attempt >= LOGIN_ATTEMPTS || !transientLoginFailure(root)) {
                    throw e;
                }
                LOG.warnf("HSM start-up failed (%s), attempt %d of %d: retrying", root, attempt, LOGIN_ATTEMPTS);
                try {
                    Thread.sleep(500L * attempt * attempt);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    private static Generation open(HsmSettings settings, boolean resetModule) {
        Path cfg = settings.providerConfig();
        if (!Files.isReadable(cfg)) {
            throw new HsmStartupException("HSM provider config " + cfg + " is missing or unreadable", null);
        }
        String library = libraryOf(cfg);
        if (library != null && !Files.exists(Path.of(library))) {
            throw new HsmStartupException("PKCS#11 library " + library + " (from " + cfg + ") does not exist", null);
        }
        if (resetModule) {
            reinitialiseModules();
        }
        Provider provider;
        try {
            provider = Security.getProvider("SunPKCS11").configure(cfg.toString());
        } catch (RuntimeException e) {
            throw new HsmStartupException(
                    "PKCS#11 module " + library + " could not open the configured slot (" + rootMessage(e)
                            + "); check slot/slotListIndex in " + cfg + " and SOFTHSM2_CONF",
                    e);
        }
        char[] pin = settings.readPin();
        try {
            KeyStore ks = KeyStore.getInstance("PKCS11", provider);
            for (int attempt = 1; ; attempt++) {
                try {
                    ks.load(null, pin);
                    return new Generation(provider, ks, new ConcurrentHashMap<>(), new ConcurrentHashMap<>());
                } catch (IOException e) {
                    String root = rootMessage(e);
                    if (attempt < LOGIN_ATTEMPTS && transientLoginFailure(root)) {
                        // SoftHSM2 reads the token file at login while another process may be rewriting it (replicas
                        // sharing one token directory; seen in ClusterIT after a kill -9): a moment later it reads
                        // whole
                        LOG.warnf("HSM login failed (%s), attempt %d of %d: retrying", root, attempt, LOGIN_ATTEMPTS);
                        Thread.sleep(250L * attempt * attempt);
                        continue;
                    }
                    String hint = root.contains("PIN") ? "wrong HSM PIN" : "login to the token failed";
                    throw new HsmStartupException(hint + " (" + root + ")", e);
                }
            }
        } catch (HsmStartupException e) {
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HsmStartupException("interrupted while logging in to the HSM", e);
        } catch (Exception e) {
            throw new HsmStartupException("HSM key store could not be opened (" + rootMessage(e) + ")", e);
        } finally {
            Arrays.fill(pin, '\0');
        }
    }

    /** Login attempts at start-up: the first and two retries on a transient token error, never on a PIN error. */
    static final int LOGIN_ATTEMPTS = 3;

    /** A token error that a second login may not meet (not a PIN, slot or configuration error). */
    static boolean transientLoginFailure(String rootMessage) {
        if (rootMessage.contains("CKR_PIN_INCORRECT")
                || rootMessage.contains("CKR_PIN_LOCKED")
                || rootMessage.contains("CKR_PIN_INVALID")
                || rootMessage.contains("CKR_PIN_LEN_RANGE")) {
            return false;
        }
        // a token file read while another process rewrites it: SoftHSM2 sees a general error, or a token whose user
        // PIN is not (yet) initialised (seen in EsprimRestartIT)
        return rootMessage.contains("CKR_GENERAL_ERROR")
                || rootMessage.contains("CKR_DEVICE_ERROR")
                || rootMessage.contains("CKR_USER_PIN_NOT_INITIALIZED");
    }

    private static String libraryOf(Path cfg) {
        try {
            for (String line : Files.readAllLines(cfg, StandardCharsets.UTF_8)) {
                String t = line.strip();
                if (t.startsWith("library") && t.contains("=")) {
                    return t.substring(t.indexOf('=') + 1).strip();
                }
            }
            return null;
        } catch (IOException e) {
            throw new HsmStartupException("HSM provider config " + cfg + " cannot be read: " + e.getMessage(), e);
        }
    }

    /**
     * C_Finalize every loaded PKCS#11 module and forget it, so the next provider C_Initialize-s
     * afresh. SunPKCS11 keeps one initialised module per library path for the life of the JVM; SoftHSM
     * (and some network HSM clients) never recover a token that vanished until re-initialised. Needs
     * {@code --add-opens jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED} (set in the jar
     * manifest and the scripts); without it recovery needs a restart, which is logged once.
     */
    private static void reinitialiseModules() {
        try {
            Class<?> wrapper = Class.forName("sun.security.pkcs11.wrapper.PKCS11");
            Field moduleMap = wrapper.getDeclaredField("moduleMap");
            moduleMap.setAccessible(true);
            Map<?, ?> modules = (Map<?, ?>) moduleMap.get(null);
            Method finalizeModule = wrapper.getMethod("C_Finalize", Object.class);
            synchronized (wrapper) {
                for (Object module : modules.values()) {
                    try {
                        finalizeModule.invoke(module, (Object) null);
                    } catch (InvocationTargetException ignored) {
                        // already finalised or the device is gone: nothing more to release
                    }
                }
                modules.clear();
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            if (!reinitWarned) {
                reinitWarned = true;
                LOG.warn(
                        "PKCS#11 module cannot be re-initialised in this JVM (missing --add-opens "
                                + "jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED); HSM recovery may need a restart");
            }
        }
    }

    private static volatile boolean reinitWarned;

    @Override
    public void close() {
        synchronized (lifecycle) {
            Generation g = current;
            current = null;
            downReason = "closed";
            if (g != null) {
                // No C_Logout: PKCS#11 login state belongs to the process, so logging out here would log out
                // every other user of the token in this JVM (another Pkcs11Token, the probe's reopen) and hide
                // their private objects. The login ends with the process.
                g.handles().clear();
                g.publicKeys().clear();
            }
        }
    }
}
