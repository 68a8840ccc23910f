package io.m2mtrust.proxy;

import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.ws.rs.BeanParam;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * The proxy's oneM2M HTTP binding (TS-0009): {@code /onem2m/<tenant>/<CSE-relative path>}, e.g.
 * {@code /onem2m/acme/cse-in/Capp}. No bearer token: oneM2M peers authenticate with ESPrim (and the CSE's
 * own access control for what passes through).
 */
@Path("/onem2m/{tenant}/{path: .+}")
@Tag(name = "oneM2M proxy")
public class OneM2mProxyResource {

    private final ProxyService proxy;

    OneM2mProxyResource(ProxyService proxy) {
        this.proxy = proxy;
    }

    /** What every request of the binding carries: the tenant, the CSE-relative path, its headers and query. */
    public static class Binding {
        @PathParam("tenant")
        String tenant;

        @PathParam("path")
        String path;

        @Context
        HttpHeaders headers;

        @Context
        UriInfo uri;

        ProxyService.Incoming incoming(String method, byte[] body) {
            return OneM2mProxyResource.incoming(method, path, headers, uri, body);
        }
    }

    @GET
    @Operation(summary = "oneM2M Retrieve through the proxy")
    public CompletionStage<Response> get(@BeanParam Binding b) {
        return handle(b, "GET", null);
    }

    @POST
    @Consumes("*/*")
    @Operation(
            summary =
                    "oneM2M Create or Notify through the proxy (Notify with securityInfo to a protected entity: ESPrim)")
    public CompletionStage<Response> post(@BeanParam Binding b, byte[] body) {
        return handle(b, "POST", body);
    }

    @PUT
    @Consumes("*/*")
    @Operation(summary = "oneM2M Update through the proxy")
    public CompletionStage<Response> put(@BeanParam Binding b, byte[] body) {
        return handle(b, "PUT", body);
    }

    @DELETE
    @Operation(summary = "oneM2M Delete through the proxy")
    public CompletionStage<Response> delete(@BeanParam Binding b) {
        return handle(b, "DELETE", null);
    }

    /**
     * Runs on the event loop: a pass-through decided from memory goes straight to the non-blocking client; anything
     * else (a cache to refresh, ESPrim, ESData, a protected entity) moves to a worker thread, because it touches the
     * database and the HSM.
     */
    private CompletionStage<Response> handle(Binding b, String method, byte[] body) {
        ProxyService.Incoming in = b.incoming(method, body);
        return proxy.passThroughFromMemory(b.tenant, in)
                .orElseGet(() -> java.util.concurrent.CompletableFuture.supplyAsync(
                                () -> proxy.handleOnWorker(b.tenant, in), Infrastructure.getDefaultWorkerPool())
                        .thenCompose(x -> x))
                .thenApply(o -> toResponse(o, in.header("X-M2M-RI")));
    }

    static ProxyService.Incoming incoming(String method, String path, HttpHeaders headers, UriInfo uri, byte[] body) {
        Map<String, String> h = new LinkedHashMap<>();
        headers.getRequestHeaders().forEach((k, v) -> {
            if (!v.isEmpty()) {
                h.put(k, v.get(0));
            }
        });
        return new ProxyService.Incoming(method, path, uri.getRequestUri().getRawQuery(), h, body);
    }

    /**
     * The answer in the HTTP binding; every answer carries the request's X-M2M-RI (TS-0009 §6.4.1), also the proxy's
     * own (a CSE that did not answer, a refusal).
     */
    static Response toResponse(ProxyService.Outgoing o, String requestId) {
        Response.ResponseBuilder r = Response.status(o.httpStatus());
        o.headers().forEach(r::header); // unique names, never X-M2M-RSC (Outgoing)
        if (requestId != null && o.headers().keySet().stream().noneMatch("X-M2M-RI"::equalsIgnoreCase)) {
            r.header("X-M2M-RI", requestId);
        }
        r.header("X-M2M-RSC", Integer.toString(o.rsc()));
        if (o.body() != null && o.body().length > 0) {
            r.entity(o.body()).type(o.contentType() == null ? "application/json" : o.contentType());
        }
        return r.build();
    }
}
