package io.m2mtrust.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.m2mtrust.devstack.KeycloakServer;
import io.m2mtrust.testsupport.AdminClient;
import io.m2mtrust.testsupport.Haproxy;
import io.m2mtrust.testsupport.IndependentEsprim;
import io.m2mtrust.testsupport.MiniCse;
import io.m2mtrust.testsupport.PackagedService;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Several replicas (issue 19, ADR 0023), measured with the packaged service: three replicas on one embedded
 * PostgreSQL and one SoftHSM2 token behind HAProxy, then one. Rows: an admin change through replica A (answered once
 * every live replica applied it) with three replicas and with one; the propagation the service measures itself
 * (commit to every acknowledgement); revocations followed at once by an ESPrim object on each other replica (how many
 * were still accepted); the proxy's plain pass-through through HAProxy with wrk. Writes a section of BENCHMARKS.md.
 */
public final class ClusterLoad {

    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = AdminClient.HTTP;
    static final String T = "cluster-bench";

    record Row(String what, int replicas, double perSecond, double p50ms, double p99ms, String note) {}

    private ClusterLoad() {}

    public static void main(String[] args) throws Exception {
        int changes = Integer.getInteger("bench.cluster.changes", 300);
        int revocations = Integer.getInteger("bench.cluster.revocations", 50);
        int seconds = Integer.getInteger("bench.seconds", 10);
        List<Row> rows = new ArrayList<>();
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder().start();
                MiniCse cse = MiniCse.start("/id-in", "cse-in", 8)) {
            try (Connection c = pg.getPostgresDatabase().getConnection();
                    Statement s = c.createStatement()) {
                s.execute("create database m2mtrust");
            }
            KeycloakServer kc = KeycloakServer.start(
                    Path.of("target/keycloak-cluster-bench"),
                    KeycloakServer.javaHome().orElseThrow(),
                    Path.of(System.getProperty("m2m.keycloak.zip")),
                    System.getProperty("m2m.keycloak.version"));
            List<PackagedService> replicas = new ArrayList<>();
            try {
                Map<String, String> env = PackagedService.environment(pg, kc);
                // quotas on, but not what is measured (ADR 0026)
                env.put("M2M_POLICY_DEFAULT_REQUEST_QUOTA", "1000000");
                env.put("M2M_POLICY_DEFAULT_HSM_QUOTA", "1000000");
                Path logs = Path.of("target/cluster-bench");
                for (String name : List.of("replica-a", "replica-b", "replica-c")) {
                    replicas.add(PackagedService.start(name, env, logs));
                }
                for (PackagedService r : replicas) {
                    r.awaitReady(Duration.ofMinutes(3));
                }
                AdminClient admin = new AdminClient(kc);
                PackagedService a = replicas.get(0);
                setUp(admin, a, cse);

                try (Haproxy lb = Haproxy.start(logs.resolve("lb3"), replicas)) {
                    rows.add(policyChanges(admin, a, changes, 3));
                    rows.add(propagation(a));
                    rows.add(revocations(admin, replicas, revocations));
                    rows.add(passThrough(lb, seconds, 3));
                }
                for (PackagedService r : replicas.subList(1, 3)) {
                    r.stop(); // leaves the cluster: A waits for nobody now
                }
                try (Haproxy lb = Haproxy.start(logs.resolve("lb1"), List.of(a))) {
                    rows.add(policyChanges(admin, a, changes, 1));
                    rows.add(passThrough(lb, seconds, 1));
                }
            } finally {
                for (PackagedService r : replicas) {
                    r.close();
                }
                kc.close();
            }
        }
        write(rows, changes, revocations, seconds);
    }

    static void expect(HttpResponse<String> r, int status) {
        if (r.statusCode() != status) {
            throw new IllegalStateException(r.statusCode() + " " + r.body());
        }
    }

    static void setUp(AdminClient admin, PackagedService a, MiniCse cse) throws Exception {
        String t = a.base() + "/api/v1/tenants/" + T;
        expect(admin.call("POST", a.base() + "/api/v1/tenants", Map.of("id", T, "name", "cluster bench")), 201);
        expect(
                admin.call("PUT", t + "/proxy", Map.of("cseUrl", cse.url(), "cseId", "/id-in", "cseBase", "cse-in")),
                200);
        expect(admin.call("PUT", t + "/proxy/entities", Map.of("entityId", "/id-in", "resourcePath", "cse-in")), 200);
        // a plain resource on the CSE for the pass-through rows (as the nginx side-by-side uses)
        HttpResponse<String> made = HTTP.send(
                HttpRequest.newBuilder(URI.create(cse.url().replaceAll("/+$", "") + "/cse-in"))
                        .header("X-M2M-Origin", "Cplain")
                        .header("X-M2M-RI", "make-plain")
                        .header("X-M2M-RVI", "3")
                        .header("Content-Type", "application/json;ty=2")
                        .POST(HttpRequest.BodyPublishers.ofString(
                                "{\"m2m:ae\":{\"rn\":\"Cplain\",\"api\":\"Nbench\",\"rr\":false}}"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        if (made.statusCode() != 201 && made.statusCode() != 409) {
            throw new IllegalStateException("could not make the pass-through resource: " + made.body());
        }
    }

    static Row policyChanges(AdminClient admin, PackagedService a, int n, int replicas) throws Exception {
        String url = a.base() + "/api/v1/tenants/" + T + "/policy";
        HttpResponse<String> current = admin.call("GET", url, null);
        Map<String, Object> doc = AdminClient.writablePolicy(current.body());
        String etag = current.headers().firstValue("ETag").orElseThrow();
        long[] nanos = new long[n];
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            doc.put("maxEsdataTargets", 8 + (i % 2));
            long t0 = System.nanoTime();
            HttpResponse<String> r = admin.call("PUT", url, doc, "If-Match", etag);
            nanos[i] = System.nanoTime() - t0;
            expect(r, 200);
            etag = r.headers().firstValue("ETag").orElseThrow();
        }
        double perSecond = n / ((System.nanoTime() - start) / 1e9);
        Arrays.sort(nanos);
        return new Row(
                "policy change through replica A, answered when every live replica applied it",
                replicas,
                perSecond,
                nanos[n / 2] / 1e6,
                nanos[(int) (n * 0.99)] / 1e6,
                "one client, sequential");
    }

    static Row propagation(PackagedService a) throws Exception {
        String metrics = HTTP.send(
                        HttpRequest.newBuilder(URI.create(a.base() + "/q/metrics"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
        double p50 = metric(metrics, "m2m_cluster_propagation_seconds{quantile=\"0.5\"}");
        double p99 = metric(metrics, "m2m_cluster_propagation_seconds{quantile=\"0.99\"}");
        double count = metric(metrics, "m2m_cluster_propagation_seconds_count");
        double missed = metric(metrics, "m2m_cluster_unacknowledged_total");
        return new Row(
                "propagation: A's commit until B and C acknowledged (the service's own timer)",
                3,
                Double.NaN,
                p50 * 1000,
                p99 * 1000,
                String.format(Locale.ROOT, "%.0f changes, %.0f not acknowledged in time", count, missed));
    }

    static double metric(String text, String name) {
        return text.lines()
                .filter(l -> l.startsWith(name + " "))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .findFirst()
                .orElse(Double.NaN);
    }

    /** Each round: a key through A, a session on B and C, the key revoked through A, one more object on B and C. */
    static Row revocations(AdminClient admin, List<PackagedService> replicas, int rounds) throws Exception {
        PackagedService a = replicas.get(0);
        String keys = a.base() + "/api/v1/tenants/" + T + "/preprovisioned-keys";
        long[] nanos = new long[rounds];
        int acceptedAfter = 0;
        SecureRandom random = new SecureRandom();
        for (int i = 0; i < rounds; i++) {
            String kid = "rev-" + i + "@keys.bench.example";
            byte[] pairwise = new byte[32];
            random.nextBytes(pairwise);
            expect(admin.call("POST", keys, AdminClient.preprovisionedKey(kid, pairwise)), 201);
            JsonNode rr = JSON.readTree(
                            notify(replicas.get(1), Map.of("sit", 3), "r-" + i).body())
                    .get("m2m:seci")
                    .get("ero");
            Map<String, Object> or =
                    IndependentEsprim.originatorRand("o" + i, rr.get("esrx").asText());
            byte[] session =
                    IndependentEsprim.sessionKey(pairwise, rr.get("esrv").asText(), (String) or.get("esrv"));
            for (PackagedService r : replicas.subList(1, 3)) {
                String rsc = rsc(notify(r, Map.of("sit", 5, "epo", object(session, kid, i, rr, or, "w")), "w-" + i));
                if (!"2000".equals(rsc)) {
                    throw new IllegalStateException("a fresh key was refused on " + r.name + ": " + rsc);
                }
            }
            long t0 = System.nanoTime();
            expect(admin.call("DELETE", keys + "/" + kid, null), 204);
            nanos[i] = System.nanoTime() - t0;
            for (PackagedService r : replicas.subList(1, 3)) {
                if ("2000"
                        .equals(rsc(
                                notify(r, Map.of("sit", 5, "epo", object(session, kid, i, rr, or, "x")), "x-" + i)))) {
                    acceptedAfter++;
                }
            }
        }
        Arrays.sort(nanos);
        return new Row(
                "revocation through A, then at once one ESPrim object on B and one on C",
                3,
                Double.NaN,
                nanos[rounds / 2] / 1e6,
                nanos[(int) (rounds * 0.99)] / 1e6,
                acceptedAfter + " of " + (2 * rounds) + " objects accepted after the revocation's answer");
    }

    static String object(byte[] session, String kid, int i, JsonNode rr, Map<String, Object> or, String tag) {
        return IndependentEsprim.esprimObject(
                session,
                kid,
                "o" + i,
                rr.get("esri").asText(),
                or,
                "{\"op\":2,\"to\":\"cse-in\",\"fr\":\"Csensor\",\"rqi\":\"" + tag + "-" + i + "-" + System.nanoTime()
                        + "\",\"rvi\":\"3\"}");
    }

    static HttpResponse<String> notify(PackagedService via, Object seci, String ri) throws Exception {
        return AdminClient.esprimNotify(via.base(), T, seci, ri);
    }

    static String rsc(HttpResponse<String> r) {
        return AdminClient.rsc(r);
    }

    static Row passThrough(Haproxy lb, int seconds, int replicas) throws Exception {
        NginxSideBySide.WrkRun w = NginxSideBySide.wrk(
                "HAProxy, " + replicas + " replica(s)", lb.base() + "/onem2m/" + T + "/cse-in/Cplain", 32, seconds);
        return new Row(
                "proxy pass-through GET through HAProxy (wrk, 32 connections)",
                replicas,
                w.perSecond(),
                w.p50ms(),
                w.p99ms(),
                w.errors() + " errors");
    }

    static void write(List<Row> rows, int changes, int revocations, int seconds) throws Exception {
        StringBuilder t = new StringBuilder();
        t.append("Measured ")
                .append(Instant.now().toString(), 0, 16)
                .append(" UTC by `BENCH_ONLY=cluster bash src/bin/bench` (`ClusterLoad`): packaged replicas on one ")
                .append(
                        "embedded PostgreSQL and one SoftHSM2 token, all on this 2-core machine with HAProxy, Keycloak ")
                .append("and the CSE stand-in; ")
                .append(changes)
                .append(" policy changes per row, ")
                .append(revocations)
                .append(" revocation rounds, wrk ")
                .append(seconds)
                .append(" s. Ratio: the row against the same measurement with one replica.\n\n");
        t.append("| Measurement | Replicas | ops/s | p50 ms | p99 ms | Ratio to 1 replica | Note |\n"
                + "|---|---:|---:|---:|---:|---:|---|\n");
        for (Row r : rows) {
            Row single = rows.stream()
                    .filter(x -> x.what().equals(r.what()) && x.replicas() == 1)
                    .findFirst()
                    .orElse(null);
            String ratio = single == null || r.replicas() == 1 || Double.isNaN(r.perSecond())
                    ? "—"
                    : String.format(Locale.ROOT, "%.2f", r.perSecond() / single.perSecond());
            t.append(String.format(
                    Locale.ROOT,
                    "| %s | %d | %s | %.1f | %.1f | %s | %s |%n",
                    r.what(),
                    r.replicas(),
                    Double.isNaN(r.perSecond()) ? "—" : String.format(Locale.ROOT, "%,.0f", r.perSecond()),
                    r.p50ms(),
                    r.p99ms(),
                    ratio,
                    r.note()));
        }
        EnrolmentLoadDriver.replaceSection("cluster", "## Several replicas (issue 19)", t.toString());
        System.out.println(t);
    }
}
