package io.m2mtrust.console;

import io.m2mtrust.common.ApiProblem;
import io.m2mtrust.enrolment.EnrolmentGroupResource;
import io.m2mtrust.enrolment.EnrolmentGroupResource.DevicePageView;
import io.m2mtrust.enrolment.EnrolmentGroupResource.GroupKeyView;
import io.m2mtrust.enrolment.EnrolmentGroupResource.GroupView;
import io.m2mtrust.enrolment.EnrolmentGroupService;
import io.m2mtrust.lineage.DeviceLineage;
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
import java.util.Base64;
import java.util.List;

/**
 * Enrolment in the console: groups with their key epochs (rotate), a group's devices a page at a time (keyset
 * paging, id prefix and status filters — never the whole table), deny / re-allow, and the one-time Kpm export
 * behind a confirmation page (the value is shown once, on a page that is not cached).
 */
@Path("/console/t/{tenant}/enrolment")
@Produces(MediaType.TEXT_HTML)
public class ConsoleEnrolmentResource {

    static final int PAGE = 50;

    @Location("console/groups.html")
    Template groupsPage;

    @Location("console/devices.html")
    Template devicesPage;

    @Location("console/kpm-export.html")
    Template exportPage;

    @Location("console/device-lineage.html")
    Template lineagePage;

    @jakarta.inject.Inject
    DeviceLineage lineage;

    @GET
    @Path("{group}/devices/{device}/lineage")
    public Response lineage(
            @PathParam("tenant") String tenant,
            @PathParam("group") String group,
            @PathParam("device") String device,
            @QueryParam("notice") String notice) {
        return support.page(() -> {
            Tenant t = door.enter(tenant, AdminAccess.Need.READ);
            return support.render(
                    lineagePage.data("l", lineage.of(tenant, group, device)).data("notice", notice), t);
        });
    }

    @POST
    @Path("{group}/devices/{device}/revoke-all")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    public Response revokeAll(
            @PathParam("tenant") String tenant,
            @PathParam("group") String group,
            @PathParam("device") String device,
            @CookieParam(ConsoleCsrf.COOKIE) String cookie,
            @FormParam("csrf") String csrf) {
        return support.post(cookie, csrf, () -> {
            door.enter(tenant, AdminAccess.Need.WRITE);
            DeviceLineage.Revoked r = lineage.revokeAll(tenant, group, device, access.actor());
            return see("/console/t/" + tenant + "/enrolment/" + group + "/devices/" + device + "/lineage?notice="
                    + enc("Device " + device
                            + " denied; " + r.enrolments() + " enrolments revoked, " + r.registrations()
                            + " client registrations deleted with their keys, "
                            + r.certificates() + " certificates and " + r.escertkeKeys() + " ESCertKE keys revoked."));
        });
    }

    private final TenantDoor door;
    private final EnrolmentGroupService groups;
    private final AdminAccess access;
    private final ConsoleSupport support;
    private final EnrolmentGroupResource api;

    ConsoleEnrolmentResource(
            TenantDoor door,
            EnrolmentGroupService groups,
            AdminAccess access,
            ConsoleSupport support,
            EnrolmentGroupResource api) {
        this.api = api;
        this.door = door;
        this.groups = groups;
        this.access = access;
        this.support = support;
    }

    public record GroupRow(GroupView group, List<GroupKeyView> keys) {}

    @GET
    public Response groups(@PathParam("tenant") String tenant, @QueryParam("notice") String notice) {
        return support.page(() -> {
            Tenant t = door.enter(tenant, AdminAccess.Need.READ);
            List<GroupRow> rows = api.list(tenant).stream()
                    .map(g -> new GroupRow(g, api.keys(tenant, g.id())))
                    .toList();
            return support.render(groupsPage.data("groups", rows).data("notice", notice), t);
        });
    }

    @POST
    @Path("{group}/rotate")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    public Response rotate(
            @PathParam("tenant") String tenant,
            @PathParam("group") String group,
            @CookieParam(ConsoleCsrf.COOKIE) String cookie,
            @FormParam("csrf") String csrf) {
        return support.post(cookie, csrf, () -> {
            door.enter(tenant, AdminAccess.Need.WRITE);
            GroupKeyView k = api.rotate(tenant, group);
            return see("/console/t/" + tenant + "/enrolment?notice="
                    + enc("Group " + group + " rotated: epoch " + k.epoch() + " is now primary."));
        });
    }

    @GET
    @Path("{group}")
    public Response devices(
            @PathParam("tenant") String tenant,
            @PathParam("group") String group,
            @QueryParam("prefix") String prefix,
            @QueryParam("status") String status,
            @QueryParam("after") String after,
            @QueryParam("notice") String notice) {
        return support.page(() -> {
            Tenant t = door.enter(tenant, AdminAccess.Need.READ);
            GroupView g = api.get(tenant, group);
            if (status != null
                    && !status.isEmpty()
                    && !List.of("ALLOWED", "DENIED").contains(status)) {
                return support.error(400, "Unknown status filter.");
            }
            DevicePageView page = api.devices(tenant, group, clip(prefix), status, clip(after), PAGE);
            return support.render(
                    devicesPage
                            .data("group", g)
                            .data("page", page)
                            .data("prefix", prefix == null ? "" : prefix)
                            .data("status", status == null ? "" : status)
                            .data("notice", notice)
                            .data(
                                    "nextQuery",
                                    page.next() == null
                                            ? null
                                            : "?prefix=" + enc(nz(prefix)) + "&status=" + enc(nz(status)) + "&after="
                                                    + enc(page.next())),
                    t);
        });
    }

    @POST
    @Path("{group}/devices/{device}/{action}")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    public Response setStatus(
            @PathParam("tenant") String tenant,
            @PathParam("group") String group,
            @PathParam("device") String device,
            @PathParam("action") String action,
            @CookieParam(ConsoleCsrf.COOKIE) String cookie,
            @FormParam("csrf") String csrf) {
        Response refused = support.refusedCsrf(cookie, csrf);
        if (refused != null) {
            return refused;
        }
        if (!action.equals("deny") && !action.equals("allow")) {
            return support.error(404, "No such action.");
        }
        try {
            door.enter(tenant, AdminAccess.Need.WRITE);
            if (action.equals("deny")) {
                api.deny(tenant, group, device);
            } else {
                api.allow(tenant, group, device);
            }
            return see("/console/t/" + tenant + "/enrolment/" + group + "?prefix=" + enc(device) + "&notice="
                    + enc("Device " + device
                            + (action.equals("deny") ? " denied: it can no longer enrol." : " allowed again.")));
        } catch (ApiProblem p) {
            return support.error(p);
        }
    }

    @GET
    @Path("{group}/devices/{device}/kpm-export")
    public Response confirmExport(
            @PathParam("tenant") String tenant, @PathParam("group") String group, @PathParam("device") String device) {
        return support.page(() -> {
            Tenant t = door.enter(tenant, AdminAccess.Need.WRITE);
            return support.render(
                    exportPage
                            .data("group", group)
                            .data("device", device)
                            .data("kpmId", null)
                            .data("kpm", null),
                    t);
        });
    }

    @POST
    @Path("{group}/devices/{device}/kpm-export")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    public Response export(
            @PathParam("tenant") String tenant,
            @PathParam("group") String group,
            @PathParam("device") String device,
            @CookieParam(ConsoleCsrf.COOKIE) String cookie,
            @FormParam("csrf") String csrf,
            @FormParam("confirm") String confirm) {
        Response refused = support.refusedCsrf(cookie, csrf);
        if (refused != null) {
            return refused;
        }
        if (!device.equals(confirm)) {
            return support.error(400, "Type the device id to confirm the export.");
        }
        try {
            Tenant t = door.enter(tenant, AdminAccess.Need.WRITE);
            EnrolmentGroupService.KpmExport e = groups.exportKpm(tenant, group, device, access.actor());
            try (var k = e.kpm()) {
                return Response.ok(exportPage
                                .data("viewer", support.viewer())
                                .data("tenant", t)
                                .data("group", group)
                                .data("device", device)
                                .data("csrf", null)
                                .data("kpmId", e.kpmId())
                                .data("kpm", k.reveal(b -> Base64.getEncoder().encodeToString(b))))
                        .build();
            }
        } catch (ApiProblem p) {
            return support.error(p);
        }
    }

    private static Response see(String location) {
        return Response.seeOther(URI.create(location)).build();
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }

    private static String clip(String s) {
        return s == null ? null : s.length() > 64 ? s.substring(0, 64) : s;
    }
}
