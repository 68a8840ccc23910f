package io.m2mtrust.bench;

import io.m2mtrust.testsupport.MiniCse;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * ESCertKE handshakes with both ends in the packaged service: tenant "bench-ea" initiates (admin request
 * {@code POST /proxy/remotes/eb/escertke}) for one of its legacy AEs toward the CSE of tenant "bench-eb" behind
 * its proxy, over the oneM2M HTTP binding (four Notify messages, two round trips); each handshake signs twice in
 * the HSM (ServerKeyExchange, CertificateVerify), verifies the two certificate chains, seals and stores the key
 * on both sides. Concurrent initiators use distinct AEs (a handshake is keyed by its From).
 */
final class EscertkeLoad {

    static final int THREADS = 4;

    private EscertkeLoad() {}

    static List<ProxyLoad.Row> run(String base, Supplier<String> tokens, int seconds) throws Exception {
        String admin = tokens.get();
        String a = base + "/api/v1/tenants/bench-ea";
        String b = base + "/api/v1/tenants/bench-eb";
        try (MiniCse cse = MiniCse.start("/id-eb", "cse-eb")) {
            for (String[] t : List.of(
                    new String[] {"bench-ea", "ea.bench.example", "/id-ea", "cse-ea"},
                    new String[] {"bench-eb", "eb.bench.example", "/id-eb", "cse-eb"})) {
                ProxyLoad.call(
                        admin, "POST", base + "/api/v1/tenants", Map.of("id", t[0], "name", "ESCertKE bench"), 201);
                ProxyLoad.call(admin, "POST", base + "/api/v1/tenants/" + t[0] + "/ca", null, 201);
                ProxyLoad.call(
                        admin,
                        "PUT",
                        base + "/api/v1/tenants/" + t[0] + "/proxy",
                        Map.of("cseUrl", cse.url(), "cseId", t[2], "cseBase", t[3], "spId", "//" + t[1]),
                        200);
            }
            ProxyLoad.call(
                    admin, "PUT", b + "/proxy/entities", Map.of("entityId", "/id-eb", "resourcePath", "cse-eb"), 200);
            ProxyLoad.call(
                    admin,
                    "POST",
                    b + "/endpoints",
                    Map.of("id", "cse", "subjectType", "CSE_ID", "subjectId", "id-eb.eb.bench.example"),
                    201);
            for (int i = 0; i < THREADS; i++) {
                ProxyLoad.call(
                        admin,
                        "POST",
                        a + "/endpoints",
                        Map.of(
                                "id",
                                "legacy-" + i,
                                "subjectType",
                                "AE_ID",
                                "subjectId",
                                "https://ea.bench.example/id-ea/Clegacy" + i),
                        201);
            }
            trust(base, admin, "bench-ea", "bench-eb");
            trust(base, admin, "bench-eb", "bench-ea");
            ProxyLoad.call(
                    admin,
                    "PUT",
                    a + "/proxy/remotes",
                    Map.of(
                            "name",
                            "eb",
                            "receiverId",
                            "//eb.bench.example/id-eb",
                            "url",
                            base + "/onem2m/bench-eb/cse-eb"),
                    200);
            String url = a + "/proxy/remotes/eb/escertke";
            String[] token = {admin};
            long[] refreshedAt = {System.nanoTime()};
            EnrolmentLoadDriver.Op handshake = i -> {
                synchronized (token) {
                    if (System.nanoTime() - refreshedAt[0] > 60_000_000_000L) { // access tokens live a few minutes
                        token[0] = tokens.get();
                        refreshedAt[0] = System.nanoTime();
                    }
                }
                HttpResponse<String> r = ProxyLoad.HTTP.send(
                        HttpRequest.newBuilder(URI.create(url))
                                .header("Authorization", "Bearer " + token[0])
                                .header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString("{\"from\":\"Clegacy" + i + "\"}"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                return r.statusCode();
            };
            List<ProxyLoad.Row> rows = new ArrayList<>();
            rows.add(new ProxyLoad.Row(
                    "ESCertKE handshake, both ends",
                    1,
                    EnrolmentLoadDriver.load("escertke", 1, seconds, 1, 201, handshake),
                    true));
            rows.add(new ProxyLoad.Row(
                    "ESCertKE handshake, both ends",
                    THREADS,
                    EnrolmentLoadDriver.load("escertke", THREADS, seconds, THREADS, 201, handshake),
                    true));
            return rows;
        }
    }

    static void trust(String base, String admin, String truster, String issuer) throws Exception {
        String pem = ProxyLoad.HTTP
                .send(
                        HttpRequest.newBuilder(URI.create(base + "/pki/" + issuer + "/ca.pem"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
        String first =
                pem.substring(0, pem.indexOf("-----END CERTIFICATE-----") + "-----END CERTIFICATE-----".length());
        byte[] crl = ProxyLoad.HTTP
                .send(
                        HttpRequest.newBuilder(URI.create(base + "/pki/" + issuer + "/crl/1"))
                                .build(),
                        HttpResponse.BodyHandlers.ofByteArray())
                .body();
        ProxyLoad.call(
                admin,
                "PUT",
                base + "/api/v1/tenants/" + truster + "/escertke/trust-anchors",
                Map.of(
                        "id",
                        issuer,
                        "certificate",
                        first,
                        "crl",
                        Base64.getEncoder().encodeToString(crl)),
                200);
    }

    static void write(List<ProxyLoad.Row> rows, double[] ceiling, int seconds) throws IOException {
        double sign = ceiling[2];
        StringBuilder t = new StringBuilder();
        t.append("Measured ")
                .append(Instant.now().toString(), 0, 16)
                .append(" UTC, same machine. Both ends run in the packaged service (two tenants, ")
                .append(
                        "each trusting the other's CA and CRL): the initiator is started by the admin API and its four messages travel as Notify ")
                .append(
                        "requests/responses over the HTTP binding to the terminating tenant's proxy, so a row's latency is the whole four-message ")
                .append(
                        "exchange plus the admin call. Per handshake: two ECDSA P-256 signatures in the HSM (ServerKeyExchange, CertificateVerify), ")
                .append(
                        "ECDHE and certificate checks in Bouncy Castle, the key sealed (AES-GCM in the HSM) and stored, audited, on both sides. ")
                .append("Each row runs ")
                .append(seconds)
                .append(" s after a 5 s warm-up; concurrent initiators use distinct legacy AEs.\n\n");
        t.append(
                        "| Scenario | Concurrent initiators | Handshakes/s | p50 ms | p99 ms | Errors | ÷ raw ECDSA-sign ceiling / 2 |\n")
                .append("|---|---:|---:|---:|---:|---:|---:|\n");
        for (ProxyLoad.Row r : rows) {
            EnrolmentLoadDriver.Run x = r.run();
            t.append(String.format(
                    Locale.ROOT,
                    "| %s | %d | %,.1f | %.1f | %.1f | %d | %.3f |%n",
                    r.scenario(),
                    r.threads(),
                    x.perSecond(),
                    x.p50ms(),
                    x.p99ms(),
                    x.errors(),
                    x.perSecond() / (sign / 2)));
        }
        t.append(String.format(
                Locale.ROOT,
                "%nRaw HSM ceiling in this run: ECDSA P-256 %,.0f signatures/s (one thread, SunPKCS11 on SoftHSM2); a "
                        + "handshake needs two, so %,.0f handshakes/s would be the HSM's limit.%n",
                sign,
                sign / 2));
        EnrolmentLoadDriver.replaceSection("escertke", "## ESCertKE handshakes", t.toString());
        System.out.println(t);
    }
}
