package io.m2mtrust.console;

import io.m2mtrust.common.ApiProblem;
import io.m2mtrust.identity.KeycloakDirectory;
import io.m2mtrust.identity.TenantUserDtos;
import io.m2mtrust.identity.TenantUsers;
import io.m2mtrust.security.AdminAccess;
import io.m2mtrust.security.TenantDoor;
import io.m2mtrust.tenant.Tenant;
import io.quarkus.qute.Location;
import io.quarkus.qute.Template;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.CookieParam;
import jakarta.ws.rs.FormParam;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Set;

/**
 * A tenant's people in the console: who they are, their tenant role, enabled or not, what Keycloak still asks of
 * them; tenant admins invite (e-mail) or create (temporary password) users, enable and disable them and change
 * their role. The same service as the admin API does the work, with the same rules and audit.
 */
@Path("/console/t/{tenant}/users")
@Produces(MediaType.TEXT_HTML)
public class ConsoleUsersResource {

    static final int PAGE = 50;

    @Location("console/users.html")
    Template usersPage;

    private final TenantUsers users;
    private final TenantDoor door;
    private final ConsoleSupport support;
    private final KeycloakDirectory directory;

    ConsoleUsersResource(TenantUsers users, TenantDoor door, ConsoleSupport support, KeycloakDirectory directory) {
        this.users = users;
        this.door = door;
        this.support = support;
        this.directory = directory;
    }

    @GET
    public Response list(
            @PathParam("tenant") String tenant, @QueryParam("page") int page, @QueryParam("notice") String notice) {
        return support.page(() -> {
            Tenant t = door.enter(tenant, AdminAccess.Need.READ);
            if (!directory.enabled()) {
                return support.error(
                        409,
                        "This installation does not manage users in Keycloak; manage this tenant's people in your identity provider.");
            }
            int p = Math.max(0, Math.min(page, 2000));
            var people = users.list(tenant, p * PAGE, PAGE + 1);
            return support.render(
                    usersPage
                            .data("people", people.size() > PAGE ? people.subList(0, PAGE) : people)
                            .data("page", p)
                            .data("more", people.size() > PAGE)
                            .data("notice", notice),
                    t);
        });
    }

    @POST
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    public Response create(
            @PathParam("tenant") String tenant,
            @CookieParam(ConsoleCsrf.COOKIE) String cookie,
            @FormParam("csrf") String csrf,
            @FormParam("username") String username,
            @FormParam("email") String email,
            @FormParam("role") String role,
            @FormParam("temporaryPassword") String temporaryPassword) {
        Response refused = support.refusedCsrf(cookie, csrf);
        if (refused != null) {
            return refused;
        }
        char[] pw = blank(temporaryPassword) ? null : temporaryPassword.toCharArray();
        try {
            var req = new TenantUserDtos.NewTenantUser(
                    blank(username) ? null : username.strip(),
                    blank(email) ? null : email.strip(),
                    null,
                    null,
                    blank(role) ? Set.of() : Set.of(role),
                    pw);
            String invalid = support.violations(req);
            if (invalid != null) {
                return support.error(400, invalid);
            }
            var made = users.create(tenant, req);
            return see(
                    tenant,
                    "User " + made.username() + " created"
                            + ("SENT".equals(made.invitation())
                                    ? "; Keycloak e-mailed the invitation."
                                    : "NOT_SENT".equals(made.invitation())
                                            ? "; the invitation e-mail could not be sent — resend it once Keycloak's e-mail works."
                                            : "; they choose their own password at the first sign-in."));
        } catch (ApiProblem e) {
            return support.error(e);
        } finally {
            if (pw != null) {
                Arrays.fill(pw, '\0');
            }
        }
    }

    @POST
    @Path("{user}")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    public Response update(
            @PathParam("tenant") String tenant,
            @PathParam("user") String user,
            @CookieParam(ConsoleCsrf.COOKIE) String cookie,
            @FormParam("csrf") String csrf,
            @FormParam("enabled") String enabled,
            @FormParam("role") String role) {
        return support.post(cookie, csrf, () -> {
            var req = new TenantUserDtos.UpdateTenantUser(
                    "true".equals(enabled), blank(role) || "none".equals(role) ? Set.of() : Set.of(role));
            String invalid = support.violations(req);
            if (invalid != null) {
                return support.error(400, invalid);
            }
            var u = users.update(tenant, user, req);
            return see(
                    tenant,
                    "User " + u.username() + " saved: " + (u.enabled() ? "enabled" : "disabled")
                            + (u.roles().isEmpty() ? ", no role." : ", " + String.join(", ", u.roles()) + "."));
        });
    }

    @POST
    @Path("{user}/invitation")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    public Response invite(
            @PathParam("tenant") String tenant,
            @PathParam("user") String user,
            @CookieParam(ConsoleCsrf.COOKIE) String cookie,
            @FormParam("csrf") String csrf) {
        return support.post(cookie, csrf, () -> {
            var u = users.invite(tenant, user);
            return see(tenant, "Invitation e-mailed to " + u.username() + " again.");
        });
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }

    private static Response see(String tenant, String notice) {
        return Response.seeOther(URI.create(
                        "/console/t/" + tenant + "/users?notice=" + URLEncoder.encode(notice, StandardCharsets.UTF_8)))
                .build();
    }
}
