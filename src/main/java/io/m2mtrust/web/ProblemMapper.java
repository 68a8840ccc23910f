package io.m2mtrust.web;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import io.m2mtrust.common.ApiProblem;
import io.m2mtrust.common.DatabaseOutage;
import io.m2mtrust.common.QuotaExceededException;
import io.m2mtrust.hsm.HsmKeyNotFoundException;
import io.m2mtrust.hsm.HsmUnavailableException;
import io.m2mtrust.security.BearerTokenRefusal;
import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.ForbiddenException;
import io.quarkus.security.UnauthorizedException;
import jakarta.persistence.OptimisticLockException;
import jakarta.validation.ConstraintViolationException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import org.hibernate.StaleStateException;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The one exception-to-problem table of the admin API (RFC 9457, {@code application/problem+json}).
 * Every answer carries an {@code instance} id that is also logged, so an operator can find the
 * server-side cause of a 500 without the client seeing a stack trace or class name.
 */
public class ProblemMapper {

    private static final Logger LOG = Logger.getLogger(ProblemMapper.class);
    public static final String PROBLEM_JSON = "application/problem+json";

    @ServerExceptionMapper
    public Response apiProblem(ApiProblem p) {
        return respond(p.status(), p.type(), p.title(), p.detail(), p.errors(), null);
    }

    @ServerExceptionMapper
    public Response unrecognizedField(UnrecognizedPropertyException e) {
        return respond(
                400,
                "urn:m2m-trust:problem:unknown-field",
                "Bad Request",
                "unknown field '" + e.getPropertyName() + "'",
                List.of(),
                null);
    }

    /** Wrong JSON types (a string where a number belongs); overrides Quarkus's built-in mapper. */
    @ServerExceptionMapper
    public Response mismatchedInput(com.fasterxml.jackson.databind.exc.MismatchedInputException e) {
        return malformedJson(e);
    }

    @ServerExceptionMapper
    public Response malformedJson(JsonProcessingException e) {
        return respond(
                400,
                "urn:m2m-trust:problem:malformed-json",
                "Bad Request",
                "the request body is not valid JSON for this resource",
                List.of(),
                null);
    }

    @ServerExceptionMapper
    public Response constraintViolation(ConstraintViolationException e) {
        List<Map<String, String>> errors = e.getConstraintViolations().stream()
                .map(v -> ApiProblem.fieldError(lastNode(v.getPropertyPath().toString()), v.getMessage()))
                .toList();
        return respond(
                400,
                "urn:m2m-trust:problem:validation",
                "Invalid request",
                "one or more fields are invalid",
                errors,
                null);
    }

    @ServerExceptionMapper({OptimisticLockException.class, StaleStateException.class})
    public Response optimisticLock(Exception e) {
        return respond(
                412,
                "urn:m2m-trust:problem:precondition-failed",
                "Precondition Failed",
                "the resource was changed by someone else; GET it again and retry with the new ETag",
                List.of(),
                null);
    }

    /** A tenant over a quota (issue 21, ADR 0026): 429 with the seconds until its bucket holds a token again. */
    @ServerExceptionMapper
    public Response quotaExceeded(QuotaExceededException e) {
        Response r = respond(
                429,
                "urn:m2m-trust:problem:quota-exceeded",
                "Too Many Requests",
                "tenant " + e.tenantId() + " is over its " + e.quota() + " quota; nothing was changed, retry after "
                        + e.retryAfterSeconds() + " s",
                List.of(),
                UUID.randomUUID().toString()); // not logged one by one: m2m.quota.refused counts them
        return Response.fromResponse(r)
                .header("Retry-After", e.retryAfterSeconds())
                .build();
    }

    @ServerExceptionMapper
    public Response hsmUnavailable(HsmUnavailableException e) {
        String id = UUID.randomUUID().toString();
        LOG.errorf("[%s] HSM unavailable: %s", id, e.getMessage());
        Response r = respond(
                503,
                "urn:m2m-trust:problem:hsm-unavailable",
                "Service Unavailable",
                "the HSM is not available; nothing was changed, retry later",
                List.of(),
                id);
        return Response.fromResponse(r)
                .header("Retry-After", HsmUnavailableException.RETRY_AFTER_SECONDS)
                .build();
    }

    @ServerExceptionMapper
    public Response hsmKeyMissing(HsmKeyNotFoundException e) {
        return respond(
                410,
                "urn:m2m-trust:problem:key-destroyed",
                "Gone",
                "the key no longer exists in the HSM",
                List.of(),
                null);
    }

    @ServerExceptionMapper
    public Response unauthorized(UnauthorizedException e) {
        return Response.status(401).header("WWW-Authenticate", "Bearer").build();
    }

    /** A refused bearer token: 401 with the reason (issuer or audience mismatch, expired…) in the detail, never the token. */
    @ServerExceptionMapper
    public Response authFailed(AuthenticationFailedException e, io.vertx.core.http.HttpServerResponse vertx) {
        BearerTokenRefusal why = BearerTokenRefusal.of(e);
        vertx.headers()
                .remove("WWW-Authenticate"); // the plain challenge of proactive authentication: replaced by the one
        // with the reason
        Response problem =
                respond(401, "urn:m2m-trust:problem:unauthenticated", "Unauthorized", why.detail(), List.of(), null);
        return Response.fromResponse(problem)
                .header("WWW-Authenticate", why.challenge())
                .build();
    }

    @ServerExceptionMapper
    public Response forbidden(ForbiddenException e) {
        return respond(
                403, "urn:m2m-trust:problem:forbidden", "Forbidden", "your roles do not allow this", List.of(), null);
    }

    @ServerExceptionMapper
    public Response webApplication(WebApplicationException e) {
        int status = e.getResponse().getStatus();
        if (status == 401) {
            return Response.status(401).header("WWW-Authenticate", "Bearer").build();
        }
        Response.Status s = Response.Status.fromStatusCode(status);
        String title = s == null ? "Error" : s.getReasonPhrase();
        String detail = switch (status) {
            case 404 -> "no such resource";
            case 405 -> "method not allowed on this resource";
            case 406 -> "cannot produce the requested media type";
            case 413 -> "the request body is too large";
            case 415 -> "unsupported media type; send application/json";
            default -> title;
        };
        if (e.getCause() instanceof JsonProcessingException jpe) {
            return malformedJson(jpe);
        }
        if (status >= 500) {
            return unexpected(e);
        }
        return respond(status, "urn:m2m-trust:problem:http-" + status, title, detail, List.of(), null);
    }

    @ServerExceptionMapper
    public Response unexpected(Throwable t) {
        String id = UUID.randomUUID().toString();
        if (DatabaseOutage.causedBy(t)) {
            // the transaction was rolled back or never began (issue 21's PostgreSQL faults): like an HSM outage
            LOG.warnf("[%s] database unavailable: %s", id, t);
            Response r = respond(
                    503,
                    "urn:m2m-trust:problem:database-unavailable",
                    "Service Unavailable",
                    "the database is not reachable; retry later",
                    List.of(),
                    id);
            return Response.fromResponse(r)
                    .header("Retry-After", DatabaseOutage.RETRY_AFTER_SECONDS)
                    .build();
        }
        LOG.errorf(t, "[%s] unexpected error", id);
        return respond(
                500,
                "urn:m2m-trust:problem:internal",
                "Internal Server Error",
                "an unexpected error occurred; quote the instance id to the operator",
                List.of(),
                id);
    }

    static Response respond(
            int status, String type, String title, String detail, List<Map<String, String>> errors, String instanceId) {
        String id = instanceId != null ? instanceId : UUID.randomUUID().toString();
        if (instanceId == null && status >= 400) {
            LOG.infof("[%s] %d %s: %s", id, status, type, detail);
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("type", type);
        body.put("title", title);
        body.put("status", status);
        body.put("detail", detail);
        body.put("instance", URI.create("urn:uuid:" + id).toString());
        if (errors != null && !errors.isEmpty()) {
            body.put("errors", errors);
        }
        return Response.status(status).type(PROBLEM_JSON).entity(body).build();
    }

    private static String lastNode(String path) {
        int i = path.lastIndexOf('.');
        return i < 0 ? path : path.substring(i + 1);
    }
}
