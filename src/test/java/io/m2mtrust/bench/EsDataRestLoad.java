package io.m2mtrust.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * ESData over the admin REST API of service-held end-points (bearer token, HTTP/1.1 keep-alive): per
 * class of the issue (dir A256GCM, A256KW, ECDH-ES+A256KW, HS256, ES256, nested, 3 recipients), protect and
 * unprotect of a 1 KiB payload, one envelope per call and {@value #BATCH} per batch call. The symmetric
 * keys are pre-provisioned SUID 14/15 keys (each use unseals the key in the HSM); ES256 signs in the HSM;
 * ECDH-ES envelopes for an end-point are unwrapped in the HSM (CKM_ECDH1_DERIVE).
 */
final class EsDataRestLoad {

    static final int BATCH = 20;
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    /** One measured row: the class, the operation, and which raw HSM ceiling it is compared with. */
    record Row(String cls, String op, EnrolmentLoadDriver.Run run, int perCall, String ceiling) {}

    private EsDataRestLoad() {}

    static JsonNode post(String token, String url, Object body, int expected) throws Exception {
        HttpResponse<String> r = HTTP.send(
                HttpRequest.newBuilder(URI.create(url))
                        .header("Authorization", "Bearer " + token)
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != expected) {
            throw new IllegalStateException("POST " + url + " answered " + r.statusCode() + ": " + r.body());
        }
        return r.body().isEmpty() ? null : JSON.readTree(r.body());
    }

    static int status(String token, String url, String json) throws Exception {
        HttpResponse<String> r = HTTP.send(
                HttpRequest.newBuilder(URI.create(url))
                        .header("Authorization", "Bearer " + token)
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(json))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200 && r.body().contains("\"status\":4")) {
            return 500; // a batch whose items failed counts as an error
        }
        return r.statusCode();
    }

    static List<Row> run(String base, String tenant, Supplier<String> tokens, int seconds) throws Exception {
        String t = base + "/api/v1/tenants/" + tenant;
        String admin = tokens.get();
        String[] ends = {"src", "dst1", "dst2", "dst3"};
        for (String e : ends) {
            post(
                    admin,
                    t + "/endpoints",
                    Map.of("id", "bench-" + e, "subjectType", "FQDN", "subjectId", e + ".esdata.bench.example"),
                    201);
        }
        List<String> holders = List.of(
                "src.esdata.bench.example",
                "dst1.esdata.bench.example",
                "dst2.esdata.bench.example",
                "dst3.esdata.bench.example");
        SecureRandom random = new SecureRandom();
        for (String[] k : new String[][] {{"enc-1", "14"}, {"enc-2", "14"}, {"enc-3", "14"}, {"mac-1", "15"}}) {
            byte[] v = new byte[32];
            random.nextBytes(v);
            post(
                    admin,
                    t + "/preprovisioned-keys",
                    Map.of(
                            "keyId",
                            k[0] + "@keys.esdata.bench.example",
                            "suid",
                            Integer.parseInt(k[1]),
                            "holders",
                            holders,
                            "keyValue",
                            Base64.getEncoder().encodeToString(v),
                            "expiresAt",
                            Instant.now().plusSeconds(86_400).toString()),
                    201);
        }
        byte[] kib = new byte[1024];
        random.nextBytes(kib);
        String payload = Base64.getEncoder().encodeToString(kib);
        Map<String, Map<String, Object>> classes = new LinkedHashMap<>();
        classes.put(
                "dir A256GCM",
                Map.of("encryptFor", List.of("enc-1@keys.esdata.bench.example"), "alg", "dir", "contentSecurity", 1));
        classes.put(
                "A256KW",
                Map.of(
                        "encryptFor",
                        List.of("enc-1@keys.esdata.bench.example"),
                        "alg",
                        "A256KW",
                        "contentSecurity",
                        1));
        classes.put(
                "ECDH-ES+A256KW",
                Map.of("encryptForCertificatesOf", List.of("dst1.esdata.bench.example"), "contentSecurity", 1));
        classes.put("HS256", Map.of("macWith", "mac-1@keys.esdata.bench.example", "contentSecurity", 1));
        classes.put("ES256", Map.of("sign", true, "contentSecurity", 1));
        classes.put(
                "nested (ES256, then A256KW)",
                Map.of(
                        "sign",
                        true,
                        "encryptFor",
                        List.of("enc-1@keys.esdata.bench.example"),
                        "alg",
                        "A256KW",
                        "contentSecurity",
                        1));
        classes.put(
                "3 recipients (A256KW, JSON)",
                Map.of(
                        "encryptFor",
                        List.of(
                                "enc-1@keys.esdata.bench.example",
                                "enc-2@keys.esdata.bench.example",
                                "enc-3@keys.esdata.bench.example"),
                        "alg",
                        "A256KW",
                        "contentSecurity",
                        2));
        List<Row> rows = new ArrayList<>();
        for (Map.Entry<String, Map<String, Object>> c : classes.entrySet()) {
            String token = tokens.get();
            Map<String, Object> protect = new LinkedHashMap<>(c.getValue());
            protect.put("payload", payload);
            String protectJson = JSON.writeValueAsString(protect);
            JsonNode made = post(token, t + "/endpoints/bench-src/esdata/protect", protect, 200);
            Map<String, Object> unprotect = Map.of(
                    "envelope",
                    made.get("envelope").asText(),
                    "contentSecurity",
                    c.getValue().get("contentSecurity"));
            String unprotectJson = JSON.writeValueAsString(unprotect);
            String protectBatch =
                    JSON.writeValueAsString(Map.of("items", java.util.Collections.nCopies(BATCH, protect)));
            String unprotectBatch =
                    JSON.writeValueAsString(Map.of("items", java.util.Collections.nCopies(BATCH, unprotect)));
            String ceiling = c.getKey().startsWith("ES256") || c.getKey().startsWith("nested")
                    ? "sign"
                    : c.getKey().startsWith("ECDH") ? "ecdh" : "open";
            String[][] ops = {
                {"protect", t + "/endpoints/bench-src/esdata/protect", protectJson, "1"},
                {"unprotect", t + "/endpoints/bench-dst1/esdata/unprotect", unprotectJson, "1"},
                {"protect batch", t + "/endpoints/bench-src/esdata/protect/batch", protectBatch, Integer.toString(BATCH)
                },
                {
                    "unprotect batch",
                    t + "/endpoints/bench-dst1/esdata/unprotect/batch",
                    unprotectBatch,
                    Integer.toString(BATCH)
                }
            };
            for (String[] op : ops) {
                EnrolmentLoadDriver.Run r = EnrolmentLoadDriver.load(
                        "ESData REST " + c.getKey() + " " + op[0],
                        1,
                        seconds,
                        1,
                        200,
                        i -> status(token, op[1], op[2]));
                String opCeiling = ceiling.equals("ecdh") && op[0].startsWith("protect") ? "software" : ceiling;
                rows.add(new Row(c.getKey(), op[0], r, Integer.parseInt(op[3]), opCeiling));
            }
        }
        return rows;
    }

    static void write(List<Row> rows, double[] ceiling, int seconds) throws IOException {
        StringBuilder t = new StringBuilder();
        t.append("Measured ")
                .append(Instant.now().toString(), 0, 16)
                .append(" UTC, same run and machine as above. One client thread, HTTP/1.1 ")
                .append(
                        "keep-alive with a bearer token against the admin REST API of service-held end-points (`/endpoints/{id}/esdata/...`), ")
                .append(seconds)
                .append(
                        " s per row after a 5 s warm-up, 1 KiB payloads. Symmetric keys are pre-provisioned SUID 14/15 keys: every ")
                .append(
                        "envelope unseals its key in the HSM (AES-GCM open) inside a database transaction; ES256 signs in the HSM; ECDH-ES ")
                .append("envelopes for an end-point are unwrapped with CKM_ECDH1_DERIVE in the HSM. Batch calls carry ")
                .append(BATCH)
                .append(" envelopes; envelopes/s = calls/s × ")
                .append(BATCH)
                .append(". The ratio divides envelopes/s by the raw HSM operation the ")
                .append(
                        "row needs, measured in the same run (GCM open for symmetric keys, ECDSA sign for signing rows, ECDH derive for ")
                .append("unwrapping).\n\n");
        t.append(
                        "| Class | Operation | Calls/s | Envelopes/s | p50 ms | p99 ms | Errors | Envelopes/s ÷ raw HSM ceiling |\n")
                .append("|---|---|---:|---:|---:|---:|---:|---:|\n");
        for (Row r : rows) {
            double per = r.run().perSecond() * r.perCall();
            double c = switch (r.ceiling()) {
                case "sign" -> ceiling[2];
                case "ecdh" -> ceiling[5];
                case "open" -> ceiling[4];
                default -> Double.NaN;
            };
            t.append(String.format(
                    Locale.ROOT,
                    "| %s | %s | %,.0f | %,.0f | %.1f | %.1f | %d | %s |%n",
                    r.cls(),
                    r.op(),
                    r.run().perSecond(),
                    per,
                    r.run().p50ms(),
                    r.run().p99ms(),
                    r.run().errors(),
                    Double.isNaN(c) ? "— (software only)" : String.format(Locale.ROOT, "%.2f", per / c)));
        }
        t.append(String.format(
                Locale.ROOT,
                "%nRaw HSM ceilings in this run (one thread, SunPKCS11 on SoftHSM2): AES-256-GCM open %,.0f ops/s, "
                        + "ECDSA P-256 sign %,.0f ops/s, ECDH P-256 derive %,.0f ops/s.%n",
                ceiling[4],
                ceiling[2],
                ceiling[5]));
        EnrolmentLoadDriver.replaceSection("esdata-rest", "## ESData: envelopes over REST", t.toString());
        System.out.println(t);
    }
}
