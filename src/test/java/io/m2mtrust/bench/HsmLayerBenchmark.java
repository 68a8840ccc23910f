package io.m2mtrust.bench;

import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.hsm.HsmCrypto;
import io.m2mtrust.hsm.HsmKeyLabel;
import io.m2mtrust.hsm.KeyPurpose;
import io.m2mtrust.hsm.Pkcs11Token;
import io.m2mtrust.hsm.SelfSignedCertificates;
import io.m2mtrust.testsupport.TestHsm;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import java.nio.ByteBuffer;
import java.security.Key;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.Signature;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The {@code hsm} layer (handle cache, error classification, metrics, secret type) against raw
 * SunPKCS11 calls on the same token, keys and provider in the same run. "*Raw" is the ceiling; each
 * pair is named so that JMH runs its two halves back to back (less drift between them).
 */
public class HsmLayerBenchmark {

    static final String OWNER = "bench";
    static final HsmKeyLabel KEK = HsmKeyLabel.of(OWNER, KeyPurpose.KEK, 1);
    static final HsmKeyLabel DERIVE = HsmKeyLabel.of(OWNER, KeyPurpose.DERIVE, 1);
    static final HsmKeyLabel SIGN = HsmKeyLabel.of(OWNER, KeyPurpose.SIGN, 1);
    static final HsmKeyLabel GROUP = HsmKeyLabel.named(OWNER, KeyPurpose.GROUP, "meters", 1);
    static final io.m2mtrust.enrolment.KpmId KPM_ID =
            new io.m2mtrust.enrolment.KpmId("meter-0000042", 1, "meters", "mef.bench.m2m-trust.local");

    @State(Scope.Benchmark)
    public static class Token {
        Pkcs11Token token;
        HsmCrypto crypto;
        Provider provider;
        Key rawKek;
        Key rawDerive;
        PrivateKey rawSign;
        Key rawGroup;
        io.m2mtrust.enrolment.KpmDerivation kpm;
        final byte[] kpmInput = io.m2mtrust.enrolment.KpmDerivation.input(KPM_ID);
        final byte[] input64 = new byte[64];
        final byte[] plain256 = new byte[256];
        final byte[] aad = "tenant|key-id|purpose".getBytes();
        final byte[] digestInput = new byte[32];
        final AtomicLong ivCounter = new AtomicLong();
        byte[] sealedIv;
        byte[] sealed;

        @Setup(Level.Trial)
        public void open() throws Exception {
            token = new Pkcs11Token(TestHsm.settings());
            crypto = new HsmCrypto(token, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
            for (HsmKeyLabel l : new HsmKeyLabel[] {KEK, DERIVE, SIGN, GROUP}) {
                if (!token.exists(l)) {
                    token.generate(l, new SelfSignedCertificates());
                }
            }
            provider = token.provider();
            rawKek = token.key(KEK);
            rawDerive = token.key(DERIVE);
            rawSign = (PrivateKey) token.key(SIGN);
            rawGroup = token.key(GROUP);
            kpm = new io.m2mtrust.enrolment.KpmDerivation(crypto);
            sealedIv = nextIv();
            sealed = crypto.sealAesGcm(KEK, sealedIv, plain256, aad);
        }

        /** A unique 96-bit IV per encryption (GCM must never repeat one under a key). */
        byte[] nextIv() {
            return ByteBuffer.allocate(12)
                    .putInt(0x6d326d74)
                    .putLong(ivCounter.incrementAndGet())
                    .array();
        }

        @TearDown(Level.Trial)
        public void close() {
            token.close();
        }
    }

    // ---------------------------------------------------------------- HMAC-SHA256 derivation (64 B)

    @Benchmark
    public byte[] hmacRaw(Token t) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256", t.provider);
        mac.init(t.rawDerive);
        return mac.doFinal(t.input64);
    }

    @Benchmark
    public int hmacLayer(Token t) {
        try (SecretBytes out = t.crypto.hmacSha256(DERIVE, t.input64)) {
            return out.length();
        }
    }

    // ---------------------------------------------------------------- AES-256-GCM seal / open (256 B)

    @Benchmark
    public byte[] sealRaw(Token t) throws Exception {
        Cipher c = Cipher.getInstance("AES/GCM/NoPadding", t.provider);
        c.init(Cipher.ENCRYPT_MODE, t.rawKek, new GCMParameterSpec(128, t.nextIv()));
        c.updateAAD(t.aad);
        return c.doFinal(t.plain256);
    }

    @Benchmark
    public byte[] sealLayer(Token t) {
        return t.crypto.sealAesGcm(KEK, t.nextIv(), t.plain256, t.aad);
    }

    @Benchmark
    public byte[] openRaw(Token t) throws Exception {
        Cipher c = Cipher.getInstance("AES/GCM/NoPadding", t.provider);
        c.init(Cipher.DECRYPT_MODE, t.rawKek, new GCMParameterSpec(128, t.sealedIv));
        c.updateAAD(t.aad);
        return c.doFinal(t.sealed);
    }

    @Benchmark
    public int openLayer(Token t) {
        try (SecretBytes out = t.crypto.openAesGcm(KEK, t.sealedIv, t.sealed, t.aad)) {
            return out.length();
        }
    }

    // ---------------------------------------------------------------- Kpm derivation (MEF group enrolment)

    @Benchmark
    public byte[] kpmRaw(Token t) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256", t.provider);
        mac.init(t.rawGroup);
        return mac.doFinal(t.kpmInput);
    }

    @Benchmark
    public int kpmLayer(Token t) {
        try (SecretBytes out = t.kpm.derive(OWNER, KPM_ID)) {
            return out.length();
        }
    }

    // ---------------------------------------------------------------- ECDSA P-256 sign

    @Benchmark
    public byte[] signRaw(Token t) throws Exception {
        Signature s = Signature.getInstance("SHA256withECDSA", t.provider);
        s.initSign(t.rawSign);
        s.update(t.digestInput);
        return s.sign();
    }

    @Benchmark
    public byte[] signLayer(Token t) {
        return t.crypto.signEcdsaP256(SIGN, t.digestInput);
    }
}
