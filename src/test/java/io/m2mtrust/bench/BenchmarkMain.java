package io.m2mtrust.bench;

import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@link HsmLayerBenchmark} with one and two threads, throughput and sampled latency, and writes
 * the table to BENCHMARKS.md (between markers, so other sections survive). Never part of the test suite.
 */
public final class BenchmarkMain {

    private BenchmarkMain() {}

    record Row(double opsPerSec, double p50us, double p99us) {}

    public static void main(String[] args) throws Exception {
        int warmups = Integer.parseInt(System.getProperty("bench.wi", "3"));
        int iterations = Integer.parseInt(System.getProperty("bench.i", "5"));
        int seconds = Integer.parseInt(System.getProperty("bench.seconds", "2"));
        String[] ops =
                System.getProperty("bench.ops", "hmac,seal,open,sign,kpm").split(",");
        String marker = System.getProperty("bench.ops") == null ? "hsm-layer" : "hsm-layer-" + String.join("-", ops);
        StringBuilder table = new StringBuilder();
        table.append(
                "| Operation | Threads | Raw SunPKCS11 ops/s | hsm layer ops/s | Ratio layer/raw | Layer p50 µs | Layer p99 µs | Raw p50 µs | Raw p99 µs |\n");
        table.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (int threads : new int[] {1, 2}) {
            Map<String, Row> rows = new LinkedHashMap<>();
            Map<String, Double> thr = run(Mode.Throughput, threads, warmups, iterations, seconds, ops);
            Map<String, double[]> lat = runLatency(threads, warmups, iterations, seconds, ops);
            for (String op : ops) {
                for (String side : new String[] {"Raw", "Layer"}) {
                    String name = op + side;
                    double[] p = lat.get(name);
                    rows.put(name, new Row(thr.get(name), p[0], p[1]));
                }
            }
            for (String op : ops) {
                Row raw = rows.get(op + "Raw");
                Row layer = rows.get(op + "Layer");
                table.append(String.format(
                        Locale.ROOT,
                        "| %s | %d | %,.0f | %,.0f | %.2f | %.1f | %.1f | %.1f | %.1f |%n",
                        label(op),
                        threads,
                        raw.opsPerSec(),
                        layer.opsPerSec(),
                        layer.opsPerSec() / raw.opsPerSec(),
                        layer.p50us(),
                        layer.p99us(),
                        raw.p50us(),
                        raw.p99us()));
            }
        }
        String start = "<!-- " + marker + ":start -->";
        String end = "<!-- " + marker + ":end -->";
        String section = start + "\n"
                + "Measured " + Instant.now().toString().substring(0, 16).replace('T', ' ') + " UTC on "
                + Runtime.getRuntime().availableProcessors()
                + " cores, " + System.getProperty("java.vm.name") + " " + System.getProperty("java.version")
                + ", SoftHSM2 through SunPKCS11; JMH " + warmups + " warm-up + " + iterations + " × " + seconds
                + " s iterations, 1 fork.\n\n"
                + table + end;
        Path md = Path.of("BENCHMARKS.md");
        String text = Files.exists(md) ? Files.readString(md) : "";
        int a = text.indexOf(start);
        int b = text.indexOf(end);
        if (a >= 0 && b > a) {
            text = text.substring(0, a) + section + text.substring(b + end.length());
        } else {
            text = text + "\n" + section + "\n";
        }
        Files.writeString(md, text);
        System.out.println(table);
    }

    private static String label(String op) {
        return switch (op) {
            case "hmac" -> "HMAC-SHA256 derivation (64 B)";
            case "seal" -> "AES-256-GCM seal (256 B)";
            case "open" -> "AES-256-GCM open (256 B)";
            case "sign" -> "ECDSA P-256 sign";
            case "kpm" -> "Kpm derivation (KpmID, group key)";
            default -> op;
        };
    }

    private static Options options(Mode mode, int threads, int wi, int i, int seconds, String[] ops) {
        return new OptionsBuilder()
                .include(HsmLayerBenchmark.class.getName() + "\\.(" + String.join("|", ops) + ")(Raw|Layer)$")
                .mode(mode)
                .threads(threads)
                .forks(1)
                .warmupIterations(wi)
                .measurementIterations(i)
                .warmupTime(TimeValue.seconds(seconds))
                .measurementTime(TimeValue.seconds(seconds))
                .timeUnit(mode == Mode.Throughput ? TimeUnit.SECONDS : TimeUnit.MICROSECONDS)
                .jvmArgsAppend("-Xmx1g")
                .shouldFailOnError(true)
                .build();
    }

    private static Map<String, Double> run(Mode mode, int threads, int wi, int i, int seconds, String[] ops)
            throws Exception {
        Collection<RunResult> results = new Runner(options(mode, threads, wi, i, seconds, ops)).run();
        Map<String, Double> out = new LinkedHashMap<>();
        for (RunResult r : results) {
            out.put(method(r), r.getPrimaryResult().getScore());
        }
        return out;
    }

    private static Map<String, double[]> runLatency(int threads, int wi, int i, int seconds, String[] ops)
            throws Exception {
        Collection<RunResult> results = new Runner(options(Mode.SampleTime, threads, wi, i, seconds, ops)).run();
        Map<String, double[]> out = new LinkedHashMap<>();
        for (RunResult r : results) {
            var stats = r.getPrimaryResult().getStatistics();
            out.put(method(r), new double[] {stats.getPercentile(50), stats.getPercentile(99)});
        }
        return out;
    }

    private static String method(RunResult r) {
        String label = r.getParams().getBenchmark();
        return label.substring(label.lastIndexOf('.') + 1);
    }
}
