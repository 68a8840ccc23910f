package io.m2mtrust.bench;

import org.bouncycastle.jce.provider.BouncyCastleProvider;

import javax.crypto.KeyAgreement;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Provider;
import java.security.Security;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The software P-256 operations of an ESCertKE handshake or an ECDH-ES envelope (key pair, ECDH agreement, ECDSA
 * verification; signing is in the HSM) with the JDK's SunEC against Bouncy Castle, on this JDK and on every other
 * JDK named in {@code M2M_OTHER_JDKS} (the bench passes Temurin 25): issue 18 asks whether a newer JDK's SunEC beats
 * Bouncy Castle. One thread, 3 s warm-up and 4 s per operation; a row is printed by a child JVM per JDK.
 */
public final class EcProviderBench {

    private interface Op {
        void run() throws Exception;
    }

    private EcProviderBench() {}

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("--rows")) {
            for (String row : rows()) {
                System.out.println("ROW " + row);
            }
            return;
        }
        List<String> jdks = new ArrayList<>(List.of(System.getProperty("java.home")));
        for (String other : System.getenv().getOrDefault("M2M_OTHER_JDKS", "").split(":")) {
            if (!other.isBlank()) {
                jdks.add(other);
            }
        }
        StringBuilder t = new StringBuilder();
        t.append("Measured ")
                .append(Instant.now().toString(), 0, 16)
                .append(" UTC, same machine, one thread, 3 s warm-up then 4 s per operation ")
                .append("(`io.m2mtrust.bench.EcProviderBench`, run by `src/bin/bench` on each JDK).\n\n")
                .append(
                        "| JDK | Provider | P-256 key pairs/s | ECDH agreements/s | ECDSA verifications/s | ECDSA signs/s (software) |\n")
                .append("|---|---|---:|---:|---:|---:|\n");
        for (String home : jdks) {
            Process p = new ProcessBuilder(
                            home + "/bin/java",
                            "-cp",
                            System.getProperty("java.class.path"),
                            EcProviderBench.class.getName(),
                            "--rows")
                    .redirectErrorStream(true)
                    .start();
            for (String line : new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.startsWith("ROW ")) {
                    t.append(line.substring(4)).append('\n');
                }
            }
            p.waitFor();
        }
        EnrolmentLoadDriver.replaceSection(
                "ec-providers", "## P-256 in software: SunEC and Bouncy Castle", t.toString());
        System.out.println(t);
    }

    private static List<String> rows() throws Exception {
        List<String> rows = new ArrayList<>();
        for (Provider p : new Provider[] {Security.getProvider("SunEC"), new BouncyCastleProvider()}) {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC", p);
            g.initialize(new ECGenParameterSpec("secp256r1"));
            KeyPair kp = g.generateKeyPair();
            KeyPair peer = g.generateKeyPair();
            byte[] msg = new byte[200];
            Signature s = Signature.getInstance("SHA256withECDSA", p);
            s.initSign(kp.getPrivate());
            s.update(msg);
            byte[] sig = s.sign();
            double keygen = rate(g::generateKeyPair);
            double ecdh = rate(() -> {
                KeyAgreement k = KeyAgreement.getInstance("ECDH", p);
                k.init(kp.getPrivate());
                k.doPhase(peer.getPublic(), true);
                k.generateSecret();
            });
            double verify = rate(() -> {
                Signature v = Signature.getInstance("SHA256withECDSA", p);
                v.initVerify(kp.getPublic());
                v.update(msg);
                if (!v.verify(sig)) {
                    throw new IllegalStateException("verification failed");
                }
            });
            double sign = rate(() -> {
                Signature x = Signature.getInstance("SHA256withECDSA", p);
                x.initSign(kp.getPrivate());
                x.update(msg);
                x.sign();
            });
            rows.add(String.format(
                    Locale.ROOT,
                    "| %s %s | %s | %,.0f | %,.0f | %,.0f | %,.0f |",
                    System.getProperty("java.vendor"),
                    System.getProperty("java.version"),
                    p.getName(),
                    keygen,
                    ecdh,
                    verify,
                    sign));
        }
        return rows;
    }

    private static double rate(Op op) throws Exception {
        for (long end = System.nanoTime() + 3_000_000_000L; System.nanoTime() < end; ) {
            op.run();
        }
        long n = 0;
        long start = System.nanoTime();
        long end = start + 4_000_000_000L;
        while (System.nanoTime() < end) {
            op.run();
            n++;
        }
        return n / ((System.nanoTime() - start) / 1e9);
    }
}
