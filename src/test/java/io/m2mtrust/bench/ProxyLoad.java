package io.m2mtrust.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.EncryptionMethod;
import com.nimbusds.jose.JWEAlgorithm;
import com.nimbusds.jose.JWEHeader;
import com.nimbusds.jose.JWEObject;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.DirectEncrypter;
import io.m2mtrust.testsupport.IndependentEsprim;
import io.m2mtrust.testsupport.MiniCse;

import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The ESPrim proxy under load, side by side with the CSE it fronts (the MiniCse stand-in, in this JVM):
 * a retrieve straight to the CSE, the same through the proxy as a plain pass-through, and as an ESPrim
 * request/response (client: its own rand objects, session key and JWE per request, like a real originator)
 * with 1 and 50 concurrent originators, each with its own pairwise key; then originator-role round trips
 * (a legacy AE → proxy of tenant "bench-b" → proxy of tenant "bench" → CSE).
 */
final class ProxyLoad {

    static final int MANY = 50;
    static final HttpClient HTTP =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    static final SecureRandom RANDOM = new SecureRandom();

    record Row(String scenario, int threads, EnrolmentLoadDriver.Run run, boolean usesHsm) {}

    /** One originator's session with the proxy: key id, rand ids, session key. */
    record Session(String origin, String kid, String ori, String rri, Map<String, Object> oro, byte[] key) {}

    /** The nginx side-by-side rows of the last {@link #run} (written with the proxy rows). */
    static List<NginxSideBySide.WrkRun> sideBySide = List.of();

    private ProxyLoad() {}

    static JsonNode call(String token, String method, String url, Object body, int expected) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url))
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json")
                .method(
                        method,
                        body == null
                                ? HttpRequest.BodyPublishers.noBody()
                                : HttpRequest.BodyPublishers.ofString(EsDataRestLoad.JSON.writeValueAsString(body)));
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != expected) {
            throw new IllegalStateException(method + " " + url + " answered " + r.statusCode() + ": " + r.body());
        }
        return r.body().isEmpty() ? null : EsDataRestLoad.JSON.readTree(r.body());
    }

    static HttpResponse<String> onem2m(String url, String origin, String method, String body)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url))
                .header("X-M2M-Origin", origin)
                .header("X-M2M-RI", "b" + RANDOM.nextLong())
                .header("X-M2M-RVI", "3")
                .header("Accept", "application/json");
        if (body != null) {
            b.header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        } else {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static List<Row> run(String base, String tenant, Supplier<String> tokens, int seconds) throws Exception {
        String admin = tokens.get();
        String t = base + "/api/v1/tenants/" + tenant;
        try (MiniCse cse = MiniCse.start("/id-in", "cse-in", 64)) {
            call(
                    admin,
                    "PUT",
                    t + "/proxy",
                    Map.of("cseUrl", cse.url(), "cseId", "/id-in", "cseBase", "cse-in", "randLifetimeSeconds", 3600),
                    200);
            call(admin, "PUT", t + "/proxy/entities", Map.of("entityId", "/id-in", "resourcePath", "cse-in"), 200);
            // one pairwise key per originator (pre-provisioned, SUID 13)
            List<byte[]> keys = new ArrayList<>();
            for (int i = 0; i < MANY; i++) {
                byte[] k = new byte[32];
                RANDOM.nextBytes(k);
                keys.add(k);
                call(
                        admin,
                        "POST",
                        t + "/preprovisioned-keys",
                        Map.of(
                                "keyId",
                                "bench-" + i + "@keys.bench.example",
                                "suid",
                                13,
                                "holders",
                                List.of("Cbench" + i, "/id-in"),
                                "keyValue",
                                Base64.getEncoder().encodeToString(k),
                                "expiresAt",
                                Instant.now().plusSeconds(86_400).toString()),
                        201);
            }
            String proxyUrl = base + "/onem2m/" + tenant + "/cse-in";
            List<Session> sessions = new ArrayList<>();
            for (int i = 0; i < MANY; i++) {
                sessions.add(session(proxyUrl, "Cbench" + i, "bench-" + i + "@keys.bench.example", keys.get(i)));
            }
            AtomicLong rq = new AtomicLong();
            List<Row> rows = new ArrayList<>();
            sideBySide = NginxSideBySide.run(cse.url(), proxyUrl, seconds);
            EnrolmentLoadDriver.Op direct = i ->
                    onem2m(cse.url() + "/cse-in", "Cbench" + i, "GET", null).statusCode() == 200 ? 200 : 500;
            EnrolmentLoadDriver.Op plain =
                    i -> onem2m(proxyUrl, "Cbench" + i, "GET", null).statusCode() == 200 ? 200 : 500;
            EnrolmentLoadDriver.Op esprim = i -> esprimRetrieve(proxyUrl, sessions.get(i), rq.incrementAndGet());
            rows.add(new Row(
                    "retrieve straight to the CSE",
                    1,
                    EnrolmentLoadDriver.load("proxy: direct", 1, seconds, 1, 200, direct),
                    false));
            rows.add(new Row(
                    "retrieve through the proxy, plain (pass-through)",
                    1,
                    EnrolmentLoadDriver.load("proxy: plain", 1, seconds, 1, 200, plain),
                    false));
            rows.add(new Row(
                    "retrieve through the proxy, ESPrim (type 5 in, type 5 out)",
                    1,
                    EnrolmentLoadDriver.load("proxy: esprim", 1, seconds, 1, 200, esprim),
                    true));
            rows.add(new Row(
                    "retrieve straight to the CSE",
                    MANY,
                    EnrolmentLoadDriver.load("proxy: direct", MANY, seconds, MANY, 200, direct),
                    false));
            rows.add(new Row(
                    "retrieve through the proxy, ESPrim (type 5 in, type 5 out)",
                    MANY,
                    EnrolmentLoadDriver.load("proxy: esprim", MANY, seconds, MANY, 200, esprim),
                    true));

            // originator role: tenant bench-b's proxy originates for a legacy AE toward this tenant's proxy
            String b = base + "/api/v1/tenants/bench-b";
            call(
                    admin,
                    "POST",
                    base + "/api/v1/tenants",
                    Map.of("id", "bench-b", "name", "bench originator side"),
                    201);
            call(
                    admin,
                    "PUT",
                    b + "/proxy",
                    Map.of("cseUrl", "http://127.0.0.1:9", "cseId", "/id-b", "cseBase", "cse-b"),
                    200);
            call(
                    admin,
                    "POST",
                    b + "/preprovisioned-keys",
                    Map.of(
                            "keyId",
                            "bench-0@keys.bench.example",
                            "suid",
                            13,
                            "holders",
                            List.of("Cbench0", "/id-in"),
                            "keyValue",
                            Base64.getEncoder().encodeToString(keys.get(0)),
                            "expiresAt",
                            Instant.now().plusSeconds(86_400).toString()),
                    201);
            call(
                    admin,
                    "PUT",
                    b + "/proxy/remotes",
                    Map.of(
                            "name",
                            "bench",
                            "receiverId",
                            "/id-in",
                            "url",
                            proxyUrl,
                            "keyId",
                            "bench-0@keys.bench.example"),
                    200);
            String out = base + "/onem2m-out/bench-b/bench/cse-in";
            EnrolmentLoadDriver.Op originate =
                    i -> onem2m(out, "Cbench0", "GET", null).statusCode() == 200 ? 200 : 500;
            rows.add(new Row(
                    "originator role: legacy AE → proxy → proxy → CSE",
                    1,
                    EnrolmentLoadDriver.load("proxy: originator role", 1, seconds, 1, 200, originate),
                    true));
            return rows;
        }
    }

    @SuppressWarnings("unchecked")
    static Session session(String proxyUrl, String origin, String kid, byte[] pairwise) throws Exception {
        HttpResponse<String> r = onem2m(proxyUrl, origin, "POST", "{\"m2m:seci\":{\"sit\":3}}");
        JsonNode ero = EsDataRestLoad.JSON.readTree(r.body()).get("m2m:seci").get("ero");
        Map<String, Object> oro = IndependentEsprim.originatorRand(
                "o" + Long.toHexString(RANDOM.nextLong()), ero.get("esrx").asText());
        return new Session(
                origin,
                kid,
                (String) oro.get("esri"),
                ero.get("esri").asText(),
                oro,
                IndependentEsprim.sessionKey(pairwise, ero.get("esrv").asText(), (String) oro.get("esrv")));
    }

    /** The last answer {@link #esprimRetrieve} did not accept (for a driver to say why). */
    static volatile String lastFailure;

    /** One ESPrim retrieve: a fresh JWE (new IV, new rqi) with oro, the protected answer decrypted and checked. */
    static int esprimRetrieve(String proxyUrl, Session s, long n) throws Exception {
        String inner =
                "{\"op\":2,\"to\":\"cse-in\",\"fr\":\"" + s.origin() + "\",\"rqi\":\"q" + n + "\",\"rvi\":\"3\"}";
        JWEObject jwe = new JWEObject(
                new JWEHeader.Builder(JWEAlgorithm.DIR, EncryptionMethod.A256GCM)
                        .keyID(s.kid())
                        .customParam("ori", s.ori())
                        .customParam("rri", s.rri())
                        .customParam("oro", s.oro())
                        .build(),
                new Payload(inner));
        jwe.encrypt(new DirectEncrypter(new SecretKeySpec(s.key(), "AES")));
        HttpResponse<String> r =
                onem2m(proxyUrl, s.origin(), "POST", "{\"m2m:seci\":{\"sit\":5,\"epo\":\"" + jwe.serialize() + "\"}}");
        if (r.statusCode() != 200) {
            lastFailure = r.statusCode() + " " + r.body();
            return r.statusCode();
        }
        JWEObject answer = JWEObject.parse(EsDataRestLoad.JSON
                .readTree(r.body())
                .get("m2m:seci")
                .get("epo")
                .asText());
        answer.decrypt(new com.nimbusds.jose.crypto.DirectDecrypter(new SecretKeySpec(s.key(), "AES")));
        return answer.getPayload().toString().contains("\"rsc\":2000") ? 200 : 500;
    }

    static void write(List<Row> rows, double[] ceiling, int seconds) throws IOException {
        double open = ceiling[4];
        double directP50 = rows.get(0).run().p50ms();
        double directP99 = rows.get(0).run().p99ms();
        StringBuilder t = new StringBuilder();
        t.append("Measured ")
                .append(Instant.now().toString(), 0, 16)
                .append(" UTC, same run and machine as above. The CSE is the MiniCse stand-in ")
                .append("(JDK HttpServer, 64 threads) in the load driver's JVM; each row runs ")
                .append(seconds)
                .append(" s after a 5 s warm-up. ")
                .append(
                        "An ESPrim request is built by the client per call (new IV and request id, Nimbus, the originator's own session key) and ")
                .append("its protected answer decrypted and checked; each of the ")
                .append(MANY)
                .append(" concurrent originators has its own ")
                .append(
                        "pre-provisioned pairwise key and rand objects. The proxy unseals the pairwise key in the HSM (AES-GCM open) when it opens ")
                .append(
                        "a session and keeps the session key in memory for up to 30 s; every message writes its replay fingerprints to PostgreSQL. ")
                .append(
                        "The ratio divides ESPrim messages/s by the raw GCM-open ceiling of the same run, as in the other sections. ")
                .append("Added latency = the row's p50/p99 minus ")
                .append("the direct row's (one thread).\n\n");
        t.append(
                        "| Scenario | Concurrent originators | Requests/s | p50 ms | p99 ms | Added p50 / p99 ms | Errors | ÷ raw GCM-open ceiling |\n")
                .append("|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Row r : rows) {
            EnrolmentLoadDriver.Run x = r.run();
            String added = r.scenario().startsWith("retrieve straight")
                    ? "—"
                    : String.format(Locale.ROOT, "%.1f / %.1f", x.p50ms() - directP50, x.p99ms() - directP99);
            t.append(String.format(
                    Locale.ROOT,
                    "| %s | %d | %,.0f | %.1f | %.1f | %s | %d | %s |%n",
                    r.scenario(),
                    r.threads(),
                    x.perSecond(),
                    x.p50ms(),
                    x.p99ms(),
                    r.threads() == 1 ? added : "—",
                    x.errors(),
                    r.usesHsm() ? String.format(Locale.ROOT, "%.2f", x.perSecond() / open) : "—"));
        }
        t.append(String.format(
                Locale.ROOT,
                "%nRaw HSM ceiling in this run: AES-256-GCM open %,.0f ops/s (one thread, SunPKCS11 on SoftHSM2).%n",
                open));
        EnrolmentLoadDriver.replaceSection("esprim-proxy", "## ESPrim proxy", t.toString());
        System.out.println(t);
    }
}
