package io.m2mtrust.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The proxy's plain pass-through side by side with what an operator would put there instead: nginx (Debian's, as a
 * plain reverse proxy with upstream keep-alive) in front of the same CSE stand-in, all three loaded by {@code wrk}
 * with the same oneM2M headers, 1 and 50 connections, in one run. Skipped (with a line saying so) where nginx or wrk
 * is missing; {@code src/bin/bench} installs both.
 */
final class NginxSideBySide {

    record WrkRun(String target, int connections, double perSecond, double p50ms, double p99ms, long errors) {}

    /** The overload rows of the last {@link #run}: peak, 2× and 8× the peak concurrency against the proxy. */
    static final List<WrkRun> overload = new ArrayList<>();

    private NginxSideBySide() {}

    static List<WrkRun> run(String cseUrl, String proxyUrl, int seconds) throws Exception {
        if (!onPath("nginx") || !onPath("wrk")) {
            System.out.println(">> nginx or wrk missing: no side-by-side rows");
            return List.of();
        }
        Path dir = Path.of("target/bench-nginx").toAbsolutePath();
        Files.createDirectories(dir);
        int port = EnrolmentLoadDriver.freePort();
        String upstream = cseUrl.replaceFirst("^http://", "").replaceAll("/+$", "");
        Files.writeString(
                dir.resolve("nginx.conf"),
                "worker_processes auto;\ndaemon off;\npid " + dir.resolve("nginx.pid") + ";\nerror_log "
                        + dir.resolve("error.log") + " warn;\nevents { worker_connections 1024; }\nhttp {\n"
                        + "  access_log off;\n  client_body_temp_path " + dir + ";\n  proxy_temp_path " + dir
                        + ";\n  upstream cse { server " + upstream + "; keepalive 64; }\n"
                        + "  server {\n    listen 127.0.0.1:" + port + ";\n    location / {\n"
                        + "      proxy_pass http://cse;\n      proxy_http_version 1.1;\n"
                        + "      proxy_set_header Connection \"\";\n    }\n  }\n}\n");
        Process nginx = new ProcessBuilder(
                        tool("nginx"),
                        "-p",
                        dir.toString(),
                        "-c",
                        dir.resolve("nginx.conf").toString())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("nginx.out").toFile())
                .start();
        try {
            // a resource the proxy does not protect: what passes through untouched (the CSE base itself is a
            // protected entity here, whose retrieve gains the e2eSecInfo the proxy adds)
            String path = "/cse-in/Cplain";
            java.net.http.HttpResponse<String> made = ProxyLoad.HTTP.send(
                    java.net.http.HttpRequest.newBuilder(java.net.URI.create(cseUrl.replaceAll("/+$", "") + "/cse-in"))
                            .header("X-M2M-Origin", "Cplain")
                            .header("X-M2M-RI", "make-plain")
                            .header("X-M2M-RVI", "3")
                            .header("Content-Type", "application/json;ty=2")
                            .POST(java.net.http.HttpRequest.BodyPublishers.ofString(
                                    "{\"m2m:ae\":{\"rn\":\"Cplain\",\"api\":\"Nbench\",\"rr\":false}}"))
                            .build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            if (made.statusCode() != 201 && made.statusCode() != 409) {
                throw new IllegalStateException("could not make the pass-through resource: " + made.body());
            }
            String viaNginx = "http://127.0.0.1:" + port + path;
            waitFor(viaNginx);
            List<WrkRun> runs = new ArrayList<>();
            for (int c : new int[] {1, ProxyLoad.MANY}) {
                runs.add(wrk("straight to the CSE", cseUrl.replaceAll("/+$", "") + path, c, seconds));
                runs.add(wrk("nginx (Debian) in front of the CSE", viaNginx, c, seconds));
                runs.add(wrk("m2m-trust proxy, plain pass-through", proxyUrl + "/Cplain", c, seconds));
            }
            // overload: the peak concurrency of the rows above, twice it, and eight times it (above the proxy
            // lane's admission limit, m2m.admission.proxy-max-in-flight = 256): refusals are 503 + Retry-After
            overload.clear();
            for (int c : new int[] {ProxyLoad.MANY, 2 * ProxyLoad.MANY, 8 * ProxyLoad.MANY}) {
                overload.add(wrk("m2m-trust proxy, plain pass-through", proxyUrl + "/Cplain", c, seconds));
            }
            return runs;
        } finally {
            nginx.destroy();
            nginx.waitFor(10, TimeUnit.SECONDS);
        }
    }

    static WrkRun wrk(String target, String url, int connections, int seconds) throws Exception {
        System.out.println(">> wrk: " + target + ", " + connections + " connection(s), " + seconds + " s");
        List<String> cmd = List.of(
                tool("wrk"),
                "-t",
                Integer.toString(Math.min(2, connections)),
                "-c",
                Integer.toString(connections),
                "-d",
                seconds + "s",
                "--latency",
                "-H",
                "X-M2M-Origin: Cbench0",
                "-H",
                "X-M2M-RI: wrk-1",
                "-H",
                "X-M2M-RVI: 3",
                "-H",
                "Accept: application/json",
                url);
        new ProcessBuilder(tool("wrk"), "-t1", "-c1", "-d2s", url)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start()
                .waitFor(); // a short warm-up
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return new WrkRun(
                target,
                connections,
                number(out, "Requests/sec:\\s+([\\d.]+)"),
                millis(out, "50%"),
                millis(out, "99%"),
                (long) (number(out, "Non-2xx or 3xx responses:\\s+(\\d+)")
                        + number(out, "Socket errors: connect (\\d+)")));
    }

    private static double number(String out, String regex) {
        Matcher m = Pattern.compile(regex).matcher(out);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    /** A latency percentile line of {@code wrk --latency} ("50%  1.23ms"), in ms. */
    private static double millis(String out, String percentile) {
        Matcher m = Pattern.compile("\\s" + Pattern.quote(percentile) + "\\s+([\\d.]+)(us|ms|s)")
                .matcher(out);
        if (!m.find()) {
            return Double.NaN;
        }
        double v = Double.parseDouble(m.group(1));
        return switch (m.group(2)) {
            case "us" -> v / 1000;
            case "s" -> v * 1000;
            default -> v;
        };
    }

    static void write(List<WrkRun> runs, int seconds) throws IOException {
        StringBuilder t = new StringBuilder();
        t.append("Measured ")
                .append(Instant.now().toString(), 0, 16)
                .append(" UTC, same run and machine as above. `wrk` (Debian) loads each target for ")
                .append(seconds)
                .append(
                        " s after a 2 s warm-up with a plain oneM2M retrieve of an AE the proxy does not protect (`/cse-in/Cplain`; `X-M2M-Origin`, `X-M2M-RI`, `X-M2M-RVI`); ")
                .append(
                        "nginx (Debian, `worker_processes auto`, upstream keep-alive, no access log) and the m2m-trust ")
                .append("proxy forward to the same MiniCse stand-in. Added p50 = the row's p50 minus the direct row's ")
                .append("at the same concurrency; the last column compares the proxy with nginx (target ≥ 0.7× the ")
                .append("throughput, added p50 ≤ 1.5× nginx's).\n\n");
        if (runs.isEmpty()) {
            t.append("Not measured in this run: nginx or wrk was missing.\n");
        } else {
            t.append(
                            "| Target | Connections | Requests/s | p50 ms | p99 ms | Added p50 ms | Errors | Proxy ÷ nginx |\n")
                    .append("|---|---:|---:|---:|---:|---:|---:|---|\n");
            for (int i = 0; i + 2 < runs.size(); i += 3) {
                WrkRun direct = runs.get(i);
                WrkRun nginx = runs.get(i + 1);
                WrkRun proxy = runs.get(i + 2);
                for (WrkRun r : List.of(direct, nginx, proxy)) {
                    String added = r == direct ? "—" : String.format(Locale.ROOT, "%.2f", r.p50ms() - direct.p50ms());
                    String vs = r != proxy
                            ? ""
                            : String.format(
                                    Locale.ROOT,
                                    "%.2f× throughput, %.1f× added p50",
                                    proxy.perSecond() / nginx.perSecond(),
                                    (proxy.p50ms() - direct.p50ms()) / Math.max(0.001, nginx.p50ms() - direct.p50ms()));
                    t.append(String.format(
                            Locale.ROOT,
                            "| %s | %d | %,.0f | %.2f | %.2f | %s | %d | %s |%n",
                            r.target(),
                            r.connections(),
                            r.perSecond(),
                            r.p50ms(),
                            r.p99ms(),
                            added,
                            r.errors(),
                            vs));
                }
            }
        }
        EnrolmentLoadDriver.replaceSection("proxy-nginx", "## Proxy pass-through vs nginx", t.toString());
        System.out.println(t);
    }

    static void writeOverload(int seconds) throws IOException {
        StringBuilder t = new StringBuilder();
        t.append("Measured ")
                .append(Instant.now().toString(), 0, 16)
                .append(" UTC, same run as above: `wrk` against the proxy's plain pass-through for ")
                .append(seconds)
                .append(" s per row at the peak concurrency of the side-by-side (")
                .append(ProxyLoad.MANY)
                .append(" connections), twice it and eight times it. The proxy lane admits 256 requests in flight ")
                .append("(`m2m.admission.proxy-max-in-flight`); one more is answered at once with 503, ")
                .append("`Retry-After: 1` and `X-M2M-RSC: 5000`, counted under Non-2xx. `wrk` reports one latency ")
                .append("distribution for all answers: where there are refusals, its p99 mixes them in.\n\n");
        if (overload.isEmpty()) {
            t.append("Not measured in this run: nginx or wrk was missing.\n");
        } else {
            WrkRun peak = overload.get(0);
            t.append("| Offered | Connections | Requests/s | p50 ms | p99 ms | Non-2xx (503) | p99 ÷ p99 at peak |\n")
                    .append("|---|---:|---:|---:|---:|---:|---:|\n");
            for (WrkRun r : overload) {
                t.append(String.format(
                        Locale.ROOT,
                        "| %s | %d | %,.0f | %.2f | %.2f | %d | %.2f |%n",
                        r == peak ? "peak" : (r.connections() / peak.connections()) + "× peak",
                        r.connections(),
                        r.perSecond(),
                        r.p50ms(),
                        r.p99ms(),
                        r.errors(),
                        r.p99ms() / peak.p99ms()));
            }
        }
        EnrolmentLoadDriver.replaceSection("proxy-overload", "## Proxy under overload", t.toString());
        System.out.println(t);
    }

    private static boolean onPath(String tool) {
        return tool(tool) != null;
    }

    /** The executable's path: on PATH, or in /usr/sbin where Debian puts nginx. */
    private static String tool(String name) {
        for (String d : (System.getenv().getOrDefault("PATH", "") + ":/usr/sbin").split(":")) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, name))) {
                return Path.of(d, name).toString();
            }
        }
        return null;
    }

    private static void waitFor(String url) throws Exception {
        for (int i = 0; i < 50; i++) {
            try {
                if (ProxyLoad.onem2m(url, "Cbench0", "GET", null).statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // starting
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("nginx did not answer; see target/bench-nginx/error.log");
    }
}
