package io.m2mtrust.common;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import jakarta.ws.rs.container.ContainerRequestContext;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

import java.util.Map;

/**
 * Refuses declared bodies above the admin API's limit with a 413 problem before anything reads them.
 * Vert.x's {@code quarkus.http.limits.max-body-size} (larger) stays as the backstop for chunked bodies.
 */
public class RequestSizeLimit {

    @ConfigMapping(prefix = "m2m.api")
    public interface Limits {
        /** Largest admin API request body in bytes. */
        @WithDefault("65536")
        long maxBodyBytes();
    }

    /** Largest primitive the oneM2M proxy binding takes (an ESPrim object carries the whole inner primitive). */
    public static final int ONEM2M_MAX_BODY_BYTES = 512 * 1024;

    private final Limits limits;

    RequestSizeLimit(Limits limits) {
        this.limits = limits;
    }

    @ServerRequestFilter(preMatching = true)
    public jakarta.ws.rs.core.Response checkDeclaredLength(ContainerRequestContext ctx) {
        String declared = ctx.getHeaderString("Content-Length");
        if (declared == null) {
            return null;
        }
        long length;
        try {
            length = Long.parseLong(declared.strip());
        } catch (NumberFormatException e) {
            throw ApiProblem.badRequest("bad-content-length", "Content-Length is not a number");
        }
        String path = ctx.getUriInfo().getPath();
        if (path.startsWith("/onem2m")) {
            // the proxy's oneM2M binding: a larger limit, and a oneM2M answer (TS-0009) rather than problem+json
            return length <= ONEM2M_MAX_BODY_BYTES
                    ? null
                    : jakarta.ws.rs.core.Response.status(400)
                            .header("X-M2M-RSC", "4000")
                            .type("application/json")
                            .entity(Map.of(
                                    "m2m:dbg", "the primitive is larger than " + ONEM2M_MAX_BODY_BYTES + " bytes"))
                            .build();
        }
        if (length > limits.maxBodyBytes()) {
            throw new ApiProblem(
                    413,
                    "payload-too-large",
                    "Payload Too Large",
                    "the request body is larger than " + limits.maxBodyBytes() + " bytes");
        }
        return null;
    }
}
