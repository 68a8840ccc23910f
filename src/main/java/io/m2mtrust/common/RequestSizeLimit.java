package io.m2mtrust.common;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import jakarta.ws.rs.container.ContainerRequestContext;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

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

    private final Limits limits;

    RequestSizeLimit(Limits limits) {
        this.limits = limits;
    }

    @ServerRequestFilter(preMatching = true)
    public void checkDeclaredLength(ContainerRequestContext ctx) {
        String declared = ctx.getHeaderString("Content-Length");
        if (declared == null) {
            return;
        }
        long length;
        try {
            length = Long.parseLong(declared.strip());
        } catch (NumberFormatException e) {
            throw ApiProblem.badRequest("bad-content-length", "Content-Length is not a number");
        }
        if (length > limits.maxBodyBytes()) {
            throw new ApiProblem(413, "payload-too-large", "Payload Too Large",
                    "the request body is larger than " + limits.maxBodyBytes() + " bytes");
        }
    }
}
