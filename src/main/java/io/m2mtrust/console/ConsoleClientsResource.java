package io.m2mtrust.console;

import io.m2mtrust.lineage.ClientLineageResource;
import io.m2mtrust.registration.RegistrationResource;
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
import java.util.Map;

/**
 * MEF and MAF clients in the console: registrations and registered keys (metadata only — a Key Value is never
 * shown), a client's key lineage (enrolment → Ke → Km → registered keys → ESCertKE pairwise keys, with expiry),
 * revoking one key, and revoking a client with everything derived from it (cascade). Same rules and audit as the
 * admin API, whose resource does the work.
 */
@Path("/console/t/{tenant}/clients")
@Produces(MediaType.TEXT_HTML)
public class ConsoleClientsResource {

    @Location("console/clients.html")
    Template clientsPage;

    @Location("console/lineage.html")
    Template lineagePage;

    private final RegistrationResource registrations;
    private final TenantDoor door;
    private final ConsoleSupport support;
    private final ClientLineageResource clientLineage;

    ConsoleClientsResource(
            RegistrationResource registrations,
            TenantDoor door,
            ConsoleSupport support,
            ClientLineageResource clientLineage) {
        this.clientLineage = clientLineage;
        this.registrations = registrations;
        this.door = door;
        this.support = support;
    }

    static String fn(String fn) {
        return "mef".equals(fn) ? "mef" : "maf";
    }

    @GET
    public Response clients(
            @PathParam("tenant") String tenant, @QueryParam("fn") String fn, @QueryParam("notice") String notice) {
        return support.page(() -> {
            Tenant t = door.enter(tenant, AdminAccess.Need.READ);
            String f = fn(fn);
            return support.render(
                    clientsPage
                            .data("fn", f)
                            .data("clients", registrations.registrations(tenant, f))
                            .data("keys", registrations.keys(tenant, f))
                            .data("notice", notice),
                    t);
        });
    }

    @GET
    @Path("{fn}/{reg}")
    public Response lineage(
            @PathParam("tenant") String tenant, @PathParam("fn") String fn, @PathParam("reg") String reg) {
        return support.page(() -> {
            Tenant t = door.enter(tenant, AdminAccess.Need.READ);
            Map<String, Object> lineage = clientLineage.lineage(tenant, fn(fn), reg);
            return support.render(
                    lineagePage.data("fn", fn(fn)).data("reg", reg).data("l", lineage), t);
        });
    }

    @POST
    @Path("{fn}/{reg}/revoke")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    public Response revokeClient(
            @PathParam("tenant") String tenant,
            @PathParam("fn") String fn,
            @PathParam("reg") String reg,
            @CookieParam(ConsoleCsrf.COOKIE) String cookie,
            @FormParam("csrf") String csrf) {
        return support.post(cookie, csrf, () -> {
            registrations.revokeClient(tenant, fn(fn), reg);
            return see(
                    tenant,
                    fn(fn),
                    "Client " + reg + " revoked with its Km, its registered keys and its ESCertKE keys.");
        });
    }

    @POST
    @Path("{fn}/keys/{rel}/revoke")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    public Response revokeKey(
            @PathParam("tenant") String tenant,
            @PathParam("fn") String fn,
            @PathParam("rel") String rel,
            @CookieParam(ConsoleCsrf.COOKIE) String cookie,
            @FormParam("csrf") String csrf) {
        return support.post(cookie, csrf, () -> {
            registrations.revokeKey(tenant, fn(fn), rel);
            return see(tenant, fn(fn), "Key " + rel + " revoked: its targets can no longer retrieve it.");
        });
    }

    private static Response see(String tenant, String fn, String notice) {
        return Response.seeOther(URI.create("/console/t/" + tenant + "/clients?fn=" + fn + "&notice="
                        + URLEncoder.encode(notice, StandardCharsets.UTF_8)))
                .build();
    }
}
