package io.m2mtrust.proxy;

import io.m2mtrust.common.ResponseStatusCode;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The oneM2M HTTP binding (TS-0009) toward the CSE behind the proxy: a request is forwarded with its
 * method, path, query and oneM2M headers; the answer comes back with its status, {@code X-M2M-RSC} and body.
 * A CSE that does not answer in time is 4008 REQUEST_TIMEOUT, one that cannot be reached 5103
 * TARGET_NOT_REACHABLE — a oneM2M answer, never an exception to the caller.
 */
final class CseClient {

    /** The oneM2M request headers that travel (TS-0009 §6.4); hop-by-hop and proxy headers stay behind. */
    static final Set<String> FORWARDED = Set.of(
            "x-m2m-origin",
            "x-m2m-ri",
            "x-m2m-rvi",
            "x-m2m-gid",
            "x-m2m-rtu",
            "x-m2m-ot",
            "x-m2m-rst",
            "x-m2m-ret",
            "x-m2m-oet",
            "x-m2m-ec",
            "x-m2m-vsi",
            "x-m2m-drt",
            "x-m2m-atrl",
            "accept",
            "content-type");

    static final int MAX_RESPONSE = 1 << 20;

    record Answer(int httpStatus, int rsc, String contentType, byte[] body, Map<String, String> headers) {}

    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    Answer send(
            String cseUrl,
            String method,
            String pathAndQuery,
            Map<String, String> headers,
            byte[] body,
            Duration timeout) {
        String base = cseUrl.replaceAll("/+$", "");
        HttpRequest.Builder b = HttpRequest.newBuilder(
                        URI.create(pathAndQuery.isEmpty() ? base : base + "/" + pathAndQuery))
                .timeout(timeout)
                .method(
                        method,
                        body == null || body.length == 0
                                ? HttpRequest.BodyPublishers.noBody()
                                : HttpRequest.BodyPublishers.ofByteArray(body));
        headers.forEach((k, v) -> {
            if (FORWARDED.contains(k.toLowerCase())) {
                b.header(k, v);
            }
        });
        try {
            HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            byte[] out = r.body();
            if (out.length > MAX_RESPONSE) {
                return error(5000, "the CSE answered more than " + MAX_RESPONSE + " bytes");
            }
            Map<String, String> h = new LinkedHashMap<>();
            // X-M2M-RSC travels as the answer's rsc, never as a copied header (it would go out twice)
            for (String name : List.of("X-M2M-RI", "X-M2M-RVI", "Content-Location", "X-M2M-OT")) {
                r.headers().firstValue(name).ifPresent(v -> h.put(name, v));
            }
            int rsc = r.headers()
                    .firstValue("X-M2M-RSC")
                    .map(s -> {
                        try {
                            return Integer.parseInt(s.trim());
                        } catch (NumberFormatException e) {
                            return 5000;
                        }
                    })
                    .orElse(r.statusCode() < 300 ? 2000 : 5000);
            return new Answer(
                    r.statusCode(), rsc, r.headers().firstValue("Content-Type").orElse(null), out, h);
        } catch (HttpTimeoutException e) {
            return error(4008, "the CSE did not answer within " + timeout.toMillis() + " ms");
        } catch (ConnectException e) {
            return error(5103, "the CSE cannot be reached");
        } catch (IOException e) {
            return error(5103, "the CSE connection failed: " + e.getClass().getSimpleName());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return error(5000, "interrupted");
        }
    }

    static Answer error(int rsc, String message) {
        return new Answer(
                ResponseStatusCode.httpStatusOf(rsc),
                rsc,
                "application/json",
                ProxyService.debugBody(message),
                Map.of());
    }
}
