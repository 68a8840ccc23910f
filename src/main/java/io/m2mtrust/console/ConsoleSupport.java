package io.m2mtrust.console;

import io.m2mtrust.common.ApiProblem;
import io.m2mtrust.security.AdminAccess;
import io.m2mtrust.tenant.Tenant;
import io.quarkus.qute.Location;
import io.quarkus.qute.Template;
import io.quarkus.qute.TemplateInstance;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import java.util.List;
import java.util.function.Supplier;

/** What every console page needs: who is signed in, and the error page (403/404 in words, never a stack trace). */
@RequestScoped
public class ConsoleSupport {

    /** Who is signed in, shown on every page. */
    public record Viewer(
            String name, List<String> roles, boolean platformAdmin, boolean canWrite, String boundTenant) {}

    @Inject
    SecurityIdentity identity;

    @Inject
    AdminAccess access;

    @Location("console/error.html")
    Template errorPage;

    @Inject
    jakarta.validation.Validator validator;

    /** A form's request object checked like the API checks its body: null when valid, else "field: message; …". */
    public <T> String violations(T request) {
        var v = validator.validate(request);
        return v.isEmpty()
                ? null
                : v.stream()
                        .map(x -> field(x.getPropertyPath().toString()) + ": " + x.getMessage())
                        .sorted()
                        .collect(java.util.stream.Collectors.joining("; "));
    }

    private static String field(String path) {
        String last = path.substring(path.lastIndexOf('.') + 1);
        return last.replaceAll("<.*>|\\[.*]", "");
    }

    public Viewer viewer() {
        List<String> roles = identity.getRoles().stream()
                .filter(r -> r.equals(AdminAccess.PLATFORM_ADMIN)
                        || r.equals(AdminAccess.TENANT_ADMIN)
                        || r.equals(AdminAccess.TENANT_AUDITOR))
                .sorted()
                .toList();
        boolean write = access.isPlatformAdmin() || identity.hasRole(AdminAccess.TENANT_ADMIN);
        return new Viewer(
                access.actor().replaceAll(" \\(.*\\)$", ""),
                roles,
                access.isPlatformAdmin(),
                write,
                access.boundTenant().orElse(null));
    }

    /** The 403 page when a form post lacks a matching CSRF token; null when the token is right. */
    public Response refusedCsrf(String cookie, String field) {
        return ConsoleCsrf.valid(cookie, field)
                ? null
                : error(
                        403,
                        "The form was not sent from this console (missing or wrong CSRF token). Reload the page and try again.");
    }

    /**
     * A form post: the one CSRF check of the console (403 page when the token is missing or wrong), then {@code
     * action}; an {@link ApiProblem} becomes the error page.
     */
    public Response post(String cookie, String csrfField, Supplier<Response> action) {
        Response refused = refusedCsrf(cookie, csrfField);
        return refused != null ? refused : page(action);
    }

    /** A page: {@code render}, with an {@link ApiProblem} shown as the error page (never a stack trace). */
    public Response page(Supplier<Response> render) {
        try {
            return render.get();
        } catch (ApiProblem p) {
            return error(p);
        }
    }

    /**
     * Renders {@code page} for the viewer, inside {@code tenant} (null on platform pages), with a fresh CSRF token
     * in the cookie and in the page's forms (the double submit {@link #post} checks).
     */
    public Response render(int status, TemplateInstance page, Tenant tenant) {
        String csrf = ConsoleCsrf.newToken();
        return Response.status(status)
                .entity(page.data("viewer", viewer()).data("tenant", tenant).data("csrf", csrf))
                .cookie(ConsoleCsrf.cookie(csrf, false))
                .build();
    }

    public Response render(TemplateInstance page, Tenant tenant) {
        return render(200, page, tenant);
    }

    public Response error(ApiProblem p) {
        String text = switch (p.status()) {
            case 404 -> "There is no such tenant or page for you. (Another tenant's pages are not shown to you.)";
            case 403 -> "Your role does not allow this: " + p.detail();
            case 410 -> "This tenant was deleted.";
            default -> p.detail();
        };
        return error(p.status(), text);
    }

    public Response error(int status, String message) {
        return Response.status(status)
                .entity(errorPage
                        .data("viewer", viewer())
                        .data("status", status)
                        .data("message", message)
                        .data("tenant", null))
                .type(MediaType.TEXT_HTML)
                .build();
    }
}
