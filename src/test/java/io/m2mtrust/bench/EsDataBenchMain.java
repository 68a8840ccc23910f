package io.m2mtrust.bench;

import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs {@link EsDataBenchmark} (one thread, throughput and sampled latency) and writes its BENCHMARKS.md section. */
public final class EsDataBenchMain {

    private EsDataBenchMain() {}

    public static void main(String[] args) throws Exception {
        int wi = Integer.parseInt(System.getProperty("bench.wi", "2"));
        int it = Integer.parseInt(System.getProperty("bench.i", "3"));
        int seconds = Integer.parseInt(System.getProperty("bench.seconds", "1"));
        Map<String, Double> thr = new LinkedHashMap<>();
        Map<String, double[]> lat = new LinkedHashMap<>();
        for (Mode mode : new Mode[] {Mode.Throughput, Mode.SampleTime}) {
            var opts = new OptionsBuilder()
                    .include(EsDataBenchmark.class.getName() + "\\.")
                    .mode(mode)
                    .threads(1)
                    .forks(1)
                    .warmupIterations(wi)
                    .measurementIterations(it)
                    .warmupTime(TimeValue.seconds(seconds))
                    .measurementTime(TimeValue.seconds(seconds))
                    .timeUnit(mode == Mode.Throughput ? TimeUnit.SECONDS : TimeUnit.MICROSECONDS)
                    .jvmArgsAppend("-Xmx1g", "--add-opens=jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED")
                    .shouldFailOnError(true)
                    .build();
            for (RunResult r : new Runner(opts).run()) {
                String name = r.getParams()
                        .getBenchmark()
                        .substring(r.getParams().getBenchmark().lastIndexOf('.') + 1);
                if (mode == Mode.Throughput) {
                    thr.put(name, r.getPrimaryResult().getScore());
                } else {
                    var s = r.getPrimaryResult().getStatistics();
                    lat.put(name, new double[] {s.getPercentile(50), s.getPercentile(99)});
                }
            }
        }
        double open = thr.get("rawHsmGcmOpen");
        double sign = thr.get("rawHsmSign");
        double derive = thr.get("rawHsmEcdh");
        StringBuilder t = new StringBuilder();
        t.append("Measured ")
                .append(Instant.now().toString(), 0, 16)
                .append(" UTC, ")
                .append(Runtime.getRuntime().availableProcessors())
                .append(" cores, one thread, 1 KiB payloads, JMH ")
                .append(wi)
                .append(" warm-up + ")
                .append(it)
                .append(" × ")
                .append(seconds)
                .append(
                        " s, 1 fork. In process (the `esdata` envelope classes, keys already at hand); ES256 signs in SoftHSM2. The ratio column divides by the ")
                .append(
                        "HSM operation the service adds per call in the same run: one AES-GCM open (unsealing a registered key) for the symmetric rows, ")
                .append(
                        "one ECDSA signature for rows that sign, one ECDH derive for unwrapping an ECDH-ES envelope for an HSM key.\n\n");
        t.append("| Operation | ops/s | p50 µs | p99 µs | Ratio to HSM ceiling |\n|---|---:|---:|---:|---:|\n");
        for (Map.Entry<String, Double> e : thr.entrySet()) {
            if (e.getKey().startsWith("raw")) {
                continue;
            }
            double[] p = lat.get(e.getKey());
            boolean signs = e.getKey().equals("protectEs256") || e.getKey().equals("protectNested");
            // ECDH-ES for a target certificate and certificate-signature checks run in software: no HSM operation to
            // compare with
            boolean noHsm =
                    e.getKey().equals("protectEcdhEsA256kw") || e.getKey().equals("unprotectEs256");
            double ceiling = e.getKey().equals("unprotectEcdhEsA256kw") ? derive : signs ? sign : open;
            t.append(String.format(
                    Locale.ROOT,
                    "| %s | %,.0f | %.1f | %.1f | %s |%n",
                    e.getKey(),
                    e.getValue(),
                    p[0],
                    p[1],
                    noHsm ? "— (software only)" : String.format(Locale.ROOT, "%.2f", e.getValue() / ceiling)));
        }
        double[] po = lat.get("rawHsmGcmOpen");
        double[] ps = lat.get("rawHsmSign");
        double[] pd = lat.get("rawHsmEcdh");
        t.append(String.format(
                Locale.ROOT,
                "| raw HSM AES-GCM open | %,.0f | %.1f | %.1f | — |%n| raw HSM ECDSA P-256 sign | %,.0f | %.1f | %.1f | — |%n"
                        + "| raw HSM ECDH P-256 derive | %,.0f | %.1f | %.1f | — |%n",
                open,
                po[0],
                po[1],
                sign,
                ps[0],
                ps[1],
                derive,
                pd[0],
                pd[1]));
        EnrolmentLoadDriver.replaceSection("esdata-inprocess", "## ESData: envelopes in process", t.toString());
        System.out.println(t);
    }
}
