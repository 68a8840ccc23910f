package io.m2mtrust.tls;

import io.m2mtrust.hsm.HsmCrypto;
import io.m2mtrust.hsm.HsmKeyLabel;
import org.eclipse.californium.scandium.dtls.SignatureAndHashAlgorithm;

import java.security.InvalidKeyException;
import java.security.InvalidParameterException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Security;
import java.security.Signature;
import java.security.SignatureException;
import java.security.SignatureSpi;
import java.util.Objects;

/**
 * Lets Scandium sign the ServerKeyExchange of the ECDHE_ECDSA suites with the tenant's TLS key inside the HSM
 * (ADR 0025, "certificate suites").
 *
 * <p>Scandium signs through {@code Signature.getInstance("SHA256withECDSA")}: one instance per thread, which the JDK binds
 * to a provider at its first {@code init} and keeps. The JDK's SunEC takes only software keys, and the tenant's key is
 * sensitive (never exported). So this class adds one small provider, <em>last</em> in the JVM's list, that claims
 * exactly one key class, {@link HsmSigningKey}: a handle naming a key in the HSM, with no key material. It hashes in
 * software and has the token sign the digest (CKM_ECDSA through {@link HsmCrypto#signEcdsaP256Digest}), exactly as
 * the TCP listener's {@link HsmTlsSigner} does; verifying (the client's CertificateVerify) goes to the JDK's own
 * provider. Nobody else's keys ever reach it: every other key fails its {@code supportsParameter}.
 *
 * <p>Because the per-thread instance binds at first use, each Scandium thread of the listener binds its instance here
 * before it runs anything ({@link #bindCurrentThread}). A thread that was not bound cannot sign: SunEC refuses the
 * handle and the handshake fails — nothing signs with any other key.
 */
final class ScandiumHsmSignature {

    private static final org.jboss.logging.Logger LOG = org.jboss.logging.Logger.getLogger(ScandiumHsmSignature.class);

    static final String PROVIDER_NAME = "M2M-HSM-ECDSA";
    static final String ALGORITHM = "SHA256withECDSA";

    private ScandiumHsmSignature() {}

    /**
     * Appends the provider to the JVM's list once (last: it never takes precedence over the JDK's). One of the same
     * name from another class loader (a second application in the JVM, as in tests) would refuse this loader's
     * handles: it is replaced.
     */
    static synchronized void install() {
        Provider installed = Security.getProvider(PROVIDER_NAME);
        if (installed != null && installed.getClass() != HsmProvider.class) {
            Security.removeProvider(PROVIDER_NAME);
            installed = null;
        }
        if (installed == null) {
            Security.addProvider(new HsmProvider());
        }
    }

    /**
     * Binds this thread's Scandium {@code SHA256withECDSA} instance to the provider (an init with a handle that names
     * no key); throws if the JDK chose another provider, so a mis-bound thread is found at start, not at a handshake.
     */
    static void bindCurrentThread() {
        install();
        Signature s = SignatureAndHashAlgorithm.SHA256_WITH_ECDSA
                .getThreadLocalSignature()
                .current();
        if (s == null) {
            throw new IllegalStateException("Scandium has no " + ALGORITHM);
        }
        try {
            s.initSign(HsmSigningKey.UNBOUND);
        } catch (InvalidKeyException e) {
            throw new IllegalStateException("cannot bind Scandium's " + ALGORITHM + " to the HSM", e);
        }
        if (!PROVIDER_NAME.equals(s.getProvider().getName())) {
            throw new IllegalStateException("Scandium's " + ALGORITHM + " is bound to "
                    + s.getProvider().getName() + " on this thread");
        }
    }

    /**
     * The thread factory for the listener's Scandium executor: each thread binds before its first task. A thread that
     * cannot bind still runs its tasks (PSK handshakes need no signature); its certificate handshakes fail closed.
     */
    static java.util.concurrent.ThreadFactory bindingThreads(String prefix) {
        java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
        return r -> {
            Thread t = new Thread(
                    () -> {
                        try {
                            bindCurrentThread();
                        } catch (RuntimeException e) {
                            LOG.errorf("%s: certificate suites cannot sign on this thread: %s", prefix, e.getMessage());
                        }
                        r.run();
                    },
                    prefix + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /**
     * A P-256 key inside the HSM, by label: what Scandium is handed as the server's private key. It holds no key
     * material (no encoding), so nothing but {@link HsmProvider} can use it.
     */
    static final class HsmSigningKey implements PrivateKey {
        private static final long serialVersionUID = 1L;

        /** Names no key: only binds a thread's instance ({@link #bindCurrentThread}); signing with it fails. */
        static final HsmSigningKey UNBOUND = new HsmSigningKey(null, null);

        private final transient HsmCrypto hsm;
        private final transient HsmKeyLabel label;

        HsmSigningKey(HsmCrypto hsm, HsmKeyLabel label) {
            this.hsm = hsm;
            this.label = label;
        }

        @Override
        public String getAlgorithm() {
            return "EC";
        }

        @Override
        public String getFormat() {
            return null; // not encodable: the key stays in the token
        }

        @Override
        public byte[] getEncoded() {
            return null;
        }

        @Override
        public String toString() {
            return "HsmSigningKey[" + label + "]";
        }
    }

    private static final class HsmProvider extends Provider {
        private static final long serialVersionUID = 1L;

        HsmProvider() {
            super(PROVIDER_NAME, "1.0", "m2m-trust: ECDSA P-256 signatures by keys inside the HSM (Scandium)");
            putService(new Service(this, "Signature", ALGORITHM, HsmEcdsaSpi.class.getName(), null, null) {
                @Override
                public boolean supportsParameter(Object parameter) {
                    return parameter instanceof HsmSigningKey;
                }

                @Override
                public Object newInstance(Object constructorParameter) {
                    return new HsmEcdsaSpi();
                }
            });
        }
    }

    /** Signs with an {@link HsmSigningKey} (software SHA-256, token ECDSA); verifies through the JDK's provider. */
    static final class HsmEcdsaSpi extends SignatureSpi {
        private MessageDigest digest;
        private HsmSigningKey signing;
        private Signature verifying;

        @Override
        protected void engineInitSign(PrivateKey key) throws InvalidKeyException {
            if (!(key instanceof HsmSigningKey k)) {
                throw new InvalidKeyException("only keys inside the HSM are signed with here");
            }
            signing = k;
            verifying = null;
            try {
                digest = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        protected void engineInitVerify(PublicKey key) throws InvalidKeyException {
            signing = null;
            digest = null;
            try {
                // delayed provider selection: a public key is never this provider's, so the JDK's (SunEC) verifies
                verifying = Signature.getInstance(ALGORITHM);
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
            verifying.initVerify(key);
        }

        @Override
        protected void engineUpdate(byte b) throws SignatureException {
            engineUpdate(new byte[] {b}, 0, 1);
        }

        @Override
        protected void engineUpdate(byte[] b, int off, int len) throws SignatureException {
            if (verifying != null) {
                verifying.update(b, off, len);
            } else if (digest != null) {
                digest.update(b, off, len);
            } else {
                throw new SignatureException("not initialised");
            }
        }

        @Override
        protected byte[] engineSign() throws SignatureException {
            if (signing == null || signing.label == null) {
                throw new SignatureException("no HSM key to sign with");
            }
            byte[] hash = digest.digest();
            try {
                return signing.hsm.signEcdsaP256Digest(signing.label, hash); // DER ECDSA-Sig-Value, as TLS sends it
            } catch (RuntimeException e) {
                throw new SignatureException("HSM signature with " + signing.label + " failed", e);
            }
        }

        @Override
        protected boolean engineVerify(byte[] signature) throws SignatureException {
            return Objects.requireNonNull(verifying, "not initialised for verification")
                    .verify(signature);
        }

        @Override
        @Deprecated
        protected void engineSetParameter(String param, Object value) {
            throw new InvalidParameterException("no parameters");
        }

        @Override
        @Deprecated
        protected Object engineGetParameter(String param) {
            throw new InvalidParameterException("no parameters");
        }
    }
}
