package io.m2mtrust.proxy;

import io.m2mtrust.common.ResponseStatusCode;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.impl.VertxInternal;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * The oneM2M HTTP binding (TS-0009) toward the CSE behind the proxy (and toward remote receivers); a {@code coap://}
 * URL goes to the CoAP binding instead ({@link CoapCseClient}, TS-0008): a request is forwarded with its
 * method, path, query and oneM2M headers; the answer comes back with its status, {@code X-M2M-RSC} and body.
 * A CSE that does not answer in time is 4008 REQUEST_TIMEOUT, one that cannot be reached 5103
 * TARGET_NOT_REACHABLE — a oneM2M answer, never an exception to the caller.
 */
@ApplicationScoped
class CseClient {

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

    /** Connections kept open per CSE (HTTP/1.1 keep-alive); requests beyond wait for one, never a new socket each. */
    static final int POOL_SIZE = 64;

    private final HttpClient http;

    /** An event loop of this client's own for requests from worker threads (their context may be a worker's). */
    private final Context eventLoop;

    /**
     * A pooled, non-blocking Vert.x client (issue 18): the request goes out on an event loop, no thread waits for the
     * CSE, and connections are reused. {@link #send} is the blocking form for the worker-thread paths (ESPrim,
     * the originator role); the pass-through uses {@link #sendAsync}.
     */
    private final CoapCseClient coap;

    CseClient(Vertx vertx, CoapCseClient coap) {
        this.coap = coap;
        this.eventLoop = ((VertxInternal) vertx).createEventLoopContext();
        this.http = vertx.createHttpClient(new HttpClientOptions()
                .setProtocolVersion(HttpVersion.HTTP_1_1)
                .setKeepAlive(true)
                .setMaxPoolSize(POOL_SIZE)
                .setConnectTimeout(5_000)
                .setMaxWaitQueueSize(10 * POOL_SIZE)
                .setDecompressionSupported(false));
    }

    Answer send(
            String cseUrl,
            String method,
            String pathAndQuery,
            Map<String, String> headers,
            byte[] body,
            Duration timeout) {
        try {
            return sendAsync(cseUrl, method, pathAndQuery, headers, body, timeout)
                    .toCompletableFuture()
                    .get(timeout.toMillis() + 10_000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return error(5000, "interrupted");
        } catch (ExecutionException | TimeoutException e) {
            return error(4008, "the CSE did not answer within " + timeout.toMillis() + " ms");
        }
    }

    /**
     * Forwards a request; the stage always completes with an answer (a oneM2M error answer when the CSE fails). Called
     * from a thread that is not an event loop (a worker on the ESPrim, ESCertKE or originator path), the request is
     * built on an event loop: the response's body handler must be in place before its first bytes arrive, and a chain
     * of futures assembled on a worker thread can attach it after the event loop has already delivered them (an empty
     * body with the right status, seen under load; vert.x issues 5825 and 5904).
     */
    CompletionStage<Answer> sendAsync(
            String cseUrl,
            String method,
            String pathAndQuery,
            Map<String, String> headers,
            byte[] body,
            Duration timeout) {
        if (cseUrl.regionMatches(true, 0, "coap://", 0, 7)) {
            return coap.sendAsync(cseUrl, method, pathAndQuery, headers, body, timeout); // TS-0008 binding
        }
        Supplier<Future<Answer>> request = () -> onEventLoop(cseUrl, method, pathAndQuery, headers, body, timeout);
        if (Context.isOnEventLoopThread()) {
            return request.get().toCompletionStage();
        }
        Promise<Answer> answered = Promise.promise();
        eventLoop.runOnContext(v -> request.get().onComplete(answered));
        return answered.future().toCompletionStage();
    }

    private Future<Answer> onEventLoop(
            String cseUrl,
            String method,
            String pathAndQuery,
            Map<String, String> headers,
            byte[] body,
            Duration timeout) {
        String base = cseUrl.replaceAll("/+$", "");
        RequestOptions options;
        try {
            options = new RequestOptions()
                    .setAbsoluteURI(pathAndQuery.isEmpty() ? base : base + "/" + pathAndQuery)
                    .setMethod(HttpMethod.valueOf(method))
                    .setIdleTimeout(timeout.toMillis());
        } catch (RuntimeException badUrl) {
            return Future.succeededFuture(error(5103, "the CSE URL is not usable"));
        }
        headers.forEach((k, v) -> {
            if (FORWARDED.contains(k.toLowerCase(Locale.ROOT))) {
                options.putHeader(k, v);
            }
        });
        Buffer payload = body == null || body.length == 0 ? null : Buffer.buffer(body);
        return http.request(options)
                .compose(req -> payload == null ? req.send() : req.send(payload))
                .compose(resp -> {
                    String length = resp.getHeader("Content-Length");
                    if (length != null && length.length() < 12 && Long.parseLong(length.trim()) > MAX_RESPONSE) {
                        resp.request().reset();
                        return Future.succeededFuture(
                                error(5000, "the CSE answered more than " + MAX_RESPONSE + " bytes"));
                    }
                    return resp.body().map(b -> answer(resp, b));
                })
                .recover(e -> Future.succeededFuture(failure(e, timeout)));
    }

    private static Answer answer(HttpClientResponse r, Buffer b) {
        if (b.length() > MAX_RESPONSE) {
            return error(5000, "the CSE answered more than " + MAX_RESPONSE + " bytes");
        }
        Map<String, String> h = new LinkedHashMap<>();
        // X-M2M-RSC travels as the answer's rsc, never as a copied header (it would go out twice)
        for (String name : List.of("X-M2M-RI", "X-M2M-RVI", "Content-Location", "X-M2M-OT")) {
            String v = r.getHeader(name);
            if (v != null) {
                h.put(name, v);
            }
        }
        String rscHeader = r.getHeader("X-M2M-RSC");
        int rsc;
        if (rscHeader == null) {
            rsc = r.statusCode() < 300 ? 2000 : 5000;
        } else {
            try {
                rsc = Integer.parseInt(rscHeader.trim());
            } catch (NumberFormatException e) {
                rsc = 5000;
            }
        }
        return new Answer(r.statusCode(), rsc, r.getHeader("Content-Type"), b.getBytes(), h);
    }

    private static Answer failure(Throwable e, Duration timeout) {
        if (e instanceof java.util.concurrent.TimeoutException
                || e.getClass().getSimpleName().contains("Timeout")) {
            return error(4008, "the CSE did not answer within " + timeout.toMillis() + " ms");
        }
        if (e instanceof java.net.ConnectException || e.getCause() instanceof java.net.ConnectException) {
            return error(5103, "the CSE cannot be reached");
        }
        return error(5103, "the CSE connection failed: " + e.getClass().getSimpleName());
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
