package io.m2mtrust.testsupport;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small oneM2M CSE stand-in speaking the HTTP binding (TS-0009, JSON, short names) for proxy tests:
 * {@code <CSEBase>} (retrieve), and create/retrieve/update/delete of {@code <AE>} (ty 2), {@code <container>}
 * (ty 3) and {@code <contentInstance>} (ty 4), with X-M2M-RSC and X-M2M-RI in every answer. It records the
 * requests it received, and can be made slow. Not a CSE: no access control, no discovery, no subscriptions.
 */
public final class MiniCse implements AutoCloseable {

    /** A request as the CSE saw it. */
    public record Seen(String method, String path, String origin, String requestId, String contentType, String body) {}

    private static final ObjectMapper JSON = new ObjectMapper();

    static {
        // the JDK server writes headers and body separately: without TCP_NODELAY every keep-alive answer waits
        // for the client's delayed ACK (~40 ms), which would swamp what the proxy benchmark measures
        System.setProperty("sun.net.httpserver.nodelay", "true");
    }

    public final String cseId;
    public final String cseBase;
    private final HttpServer server;
    private final Map<String, Map<String, Object>> resources = new ConcurrentHashMap<>();
    private final java.util.ArrayDeque<Seen> seen = new java.util.ArrayDeque<>(); // the last 1,000 requests
    private final AtomicInteger counter = new AtomicInteger();
    private volatile long delayMs;

    private final ExecutorService workers;

    private MiniCse(String cseId, String cseBase, int threads) throws IOException {
        this.cseId = cseId;
        this.cseBase = cseBase;
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 200);
        server.createContext("/", this::handle);
        workers = Executors.newFixedThreadPool(threads);
        server.setExecutor(workers);
        Map<String, Object> cb = new LinkedHashMap<>();
        cb.put("ty", 5);
        cb.put("ri", cseId.substring(1));
        cb.put("rn", cseBase);
        cb.put("csi", cseId);
        cb.put("srv", List.of("3"));
        resources.put(cseBase, cb);
    }

    public static MiniCse start(String cseId, String cseBase) throws IOException {
        return start(cseId, cseBase, 4);
    }

    /** With {@code threads} request threads (load tests with many concurrent originators). */
    public static MiniCse start(String cseId, String cseBase, int threads) throws IOException {
        MiniCse c = new MiniCse(cseId, cseBase, threads);
        c.server.start();
        return c;
    }

    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    public List<Seen> seen() {
        synchronized (seen) {
            return List.copyOf(seen);
        }
    }

    public void slow(long ms) {
        delayMs = ms;
    }

    public boolean exists(String path) {
        return resources.containsKey(path);
    }

    @Override
    public void close() {
        server.stop(0);
        workers.shutdownNow(); // HttpServer.stop leaves its executor's threads alive (they would keep a JVM running)
    }

    private void handle(HttpExchange x) throws IOException {
        try (x) {
            String path = x.getRequestURI().getPath().replaceAll("^/+", "").replaceAll("/+$", "");
            String body = new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            String ct = x.getRequestHeaders().getFirst("Content-Type");
            String ri = x.getRequestHeaders().getFirst("X-M2M-RI");
            synchronized (seen) {
                if (seen.size() == 1000) {
                    seen.removeFirst();
                }
                seen.addLast(new Seen(
                        x.getRequestMethod(), path, x.getRequestHeaders().getFirst("X-M2M-Origin"), ri, ct, body));
            }
            if (delayMs > 0) {
                try {
                    Thread.sleep(delayMs);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (x.getRequestHeaders().getFirst("X-M2M-Origin") == null) {
                answer(x, 400, 4000, ri, Map.of("m2m:dbg", "X-M2M-Origin is required"));
                return;
            }
            switch (x.getRequestMethod()) {
                case "GET" -> {
                    Map<String, Object> r = resources.get(path);
                    if (r == null) {
                        answer(x, 404, 4004, ri, Map.of("m2m:dbg", "not found"));
                    } else {
                        answer(x, 200, 2000, ri, Map.of(prefix(r), r));
                    }
                }
                case "POST" -> create(x, path, ct, body, ri);
                case "PUT" -> {
                    Map<String, Object> r = resources.get(path);
                    if (r == null) {
                        answer(x, 404, 4004, ri, Map.of("m2m:dbg", "not found"));
                        return;
                    }
                    @SuppressWarnings("unchecked")
                    Map<String, Object> doc = JSON.readValue(body, Map.class);
                    Object attrs = doc.values().iterator().next();
                    if (attrs instanceof Map<?, ?> m) {
                        m.forEach((k, v) -> r.put((String) k, v));
                    }
                    answer(x, 200, 2004, ri, Map.of(prefix(r), r));
                }
                case "DELETE" -> {
                    if (resources.remove(path) == null) {
                        answer(x, 404, 4004, ri, Map.of("m2m:dbg", "not found"));
                    } else {
                        resources.keySet().removeIf(k -> k.startsWith(path + "/"));
                        answer(x, 200, 2002, ri, null);
                    }
                }
                default -> answer(x, 405, 4005, ri, Map.of("m2m:dbg", "operation not allowed"));
            }
        } catch (RuntimeException e) {
            answer(x, 500, 5000, null, Map.of("m2m:dbg", String.valueOf(e.getMessage())));
        }
    }

    private void create(HttpExchange x, String parent, String ct, String body, String ri) throws IOException {
        if (!resources.containsKey(parent)) {
            answer(x, 404, 4004, ri, Map.of("m2m:dbg", "parent not found"));
            return;
        }
        int ty = ct != null && ct.contains("ty=")
                ? Integer.parseInt(ct.substring(ct.indexOf("ty=") + 3).replaceAll("[^0-9].*", ""))
                : -1;
        String key = switch (ty) {
            case 2 -> "m2m:ae";
            case 3 -> "m2m:cnt";
            case 4 -> "m2m:cin";
            default -> null;
        };
        if (key == null) {
            answer(x, 400, 4000, ri, Map.of("m2m:dbg", "a create needs ty 2, 3 or 4 here (Notify is not served)"));
            return;
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> doc = JSON.readValue(body, Map.class);
        @SuppressWarnings("unchecked")
        Map<String, Object> attrs =
                doc.get(key) instanceof Map<?, ?> m ? new LinkedHashMap<>((Map<String, Object>) m) : null;
        if (attrs == null) {
            answer(x, 400, 4000, ri, Map.of("m2m:dbg", "expected " + key));
            return;
        }
        String rn = attrs.get("rn") instanceof String s ? s : (ty == 4 ? "cin_" : "r_") + counter.incrementAndGet();
        String path = parent + "/" + rn;
        if (resources.containsKey(path)) {
            answer(x, 409, 4105, ri, Map.of("m2m:dbg", "already exists"));
            return;
        }
        attrs.put("rn", rn);
        attrs.put("ty", ty);
        attrs.put("ri", "ri" + counter.incrementAndGet());
        attrs.put("pi", parent);
        resources.put(path, attrs);
        answer(x, 201, 2001, ri, Map.of(key, attrs));
    }

    private static String prefix(Map<String, Object> r) {
        return switch (((Number) r.get("ty")).intValue()) {
            case 2 -> "m2m:ae";
            case 3 -> "m2m:cnt";
            case 4 -> "m2m:cin";
            default -> "m2m:cb";
        };
    }

    private static void answer(HttpExchange x, int status, int rsc, String ri, Object body) throws IOException {
        x.getResponseHeaders().set("X-M2M-RSC", Integer.toString(rsc));
        if (ri != null) {
            x.getResponseHeaders().set("X-M2M-RI", ri);
        }
        byte[] b = body == null ? new byte[0] : JSON.writeValueAsBytes(body);
        if (b.length > 0) {
            x.getResponseHeaders().set("Content-Type", "application/json");
        }
        x.sendResponseHeaders(status, b.length == 0 ? -1 : b.length);
        if (b.length > 0) {
            try (OutputStream o = x.getResponseBody()) {
                o.write(b);
            }
        }
    }
}
