package io.m2mtrust.enrolment;

import io.m2mtrust.common.ApiProblem;
import io.m2mtrust.common.SubjectType;
import io.m2mtrust.security.AdminAccess;
import io.m2mtrust.security.TenantDoor;
import io.m2mtrust.tenant.DeviceFqdns;
import jakarta.validation.Valid;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import java.net.URI;
import java.time.Instant;
import java.util.Base64;
import java.util.List;

/** Enrolment groups, their devices and ranges, group-key rotation, one-time Kpm export. */
@Path("/api/v1/tenants/{tenant}/enrolment-groups")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "Enrolment groups")
@SecurityRequirement(name = "oidc")
public class EnrolmentGroupResource {

    static final String SLUG = "[a-z0-9][a-z0-9-]{0,38}[a-z0-9]|[a-z0-9]";

    public record CreateGroup(
            @NotBlank @Pattern(regexp = SLUG, message = "1-40 of a-z, 0-9 and inner hyphens")
            String id,

            @NotBlank @Size(max = 200) String name) {}

    public record AddDevices(
            @NotNull @Size(min = 1, max = 1000)
            List<@NotNull @Pattern(regexp = KpmId.DEVICE_ID_REGEX) String> deviceIds) {}

    public record AddRange(
            @NotNull @Pattern(regexp = "[A-Za-z0-9._-]{0,48}")
            String prefix,

            @NotNull @Min(1) @Max(16) Integer width,
            @NotNull @Min(0) Long first,
            @NotNull @Min(0) Long last) {}

    public record CertificateProfile(
            @NotNull String subjectType,
            @NotBlank @Size(max = 300) String subjectTemplate) {}

    public record GroupView(
            String id,
            String name,
            int epoch,
            String status,
            String kpmIdPattern,
            CertificateProfile certificateProfile,
            Instant createdAt) {}

    public record GroupKeyView(int epoch, String state, String hsmLabel, Instant createdAt, Instant retiredAt) {}

    public record KpmExportView(String kpmId, String kpm, String encoding, String warning) {}

    private final EnrolmentGroupService groups;
    private final TenantDoor door;
    private final AdminAccess access;
    private final DeviceFqdns fqdns;

    EnrolmentGroupResource(EnrolmentGroupService groups, TenantDoor door, AdminAccess access, DeviceFqdns fqdns) {
        this.groups = groups;
        this.door = door;
        this.access = access;
        this.fqdns = fqdns;
    }

    @GET
    @Operation(summary = "The tenant's enrolment groups")
    public List<GroupView> list(@PathParam("tenant") String tenant) {
        read(tenant);
        return groups.list(tenant).stream().map(g -> view(tenant, g)).toList();
    }

    @POST
    @Operation(summary = "Create a group; its key (epoch 1) is generated in the HSM")
    public Response create(@PathParam("tenant") String tenant, @Valid @NotNull CreateGroup req) {
        write(tenant);
        EnrolmentGroup g = groups.create(tenant, req.id(), req.name().strip(), access.actor());
        return Response.created(URI.create("/api/v1/tenants/" + tenant + "/enrolment-groups/" + g.id))
                .entity(view(tenant, g))
                .build();
    }

    @GET
    @Path("{group}")
    public GroupView get(@PathParam("tenant") String tenant, @PathParam("group") String group) {
        read(tenant);
        return view(tenant, groups.get(tenant, group));
    }

    @DELETE
    @Path("{group}")
    @Operation(summary = "Delete the group and destroy its keys: its devices can no longer enrol")
    public Response delete(@PathParam("tenant") String tenant, @PathParam("group") String group) {
        write(tenant);
        groups.delete(tenant, group, access.actor());
        return Response.noContent().build();
    }

    @GET
    @Path("{group}/keys")
    @Operation(summary = "Epochs of the group key (never key values)")
    public List<GroupKeyView> keys(@PathParam("tenant") String tenant, @PathParam("group") String group) {
        read(tenant);
        groups.get(tenant, group);
        return groups.keys(tenant, group).stream()
                .map(k -> new GroupKeyView(k.epoch, k.state.name(), k.hsmLabel, k.createdAt, k.retiredAt))
                .toList();
    }

    @POST
    @Path("{group}/rotate")
    @Operation(summary = "New group-key epoch; devices of older epochs keep enrolling until it is retired")
    public GroupKeyView rotate(@PathParam("tenant") String tenant, @PathParam("group") String group) {
        write(tenant);
        GroupKey k = groups.rotate(tenant, group, access.actor());
        return new GroupKeyView(k.epoch, k.state.name(), k.hsmLabel, k.createdAt, k.retiredAt);
    }

    @POST
    @Path("{group}/keys/{epoch}/retire")
    public GroupKeyView retire(
            @PathParam("tenant") String tenant, @PathParam("group") String group, @PathParam("epoch") int epoch) {
        write(tenant);
        GroupKey k = groups.retireEpoch(tenant, group, epoch, access.actor());
        return new GroupKeyView(k.epoch, k.state.name(), k.hsmLabel, k.createdAt, k.retiredAt);
    }

    @POST
    @Path("{group}/devices")
    @Operation(summary = "Add devices by id")
    public Response addDevices(
            @PathParam("tenant") String tenant, @PathParam("group") String group, @Valid @NotNull AddDevices req) {
        write(tenant);
        int added = groups.addDevices(tenant, group, req.deviceIds(), access.actor());
        return Response.ok(java.util.Map.of("added", added)).build();
    }

    @POST
    @Path("{group}/ranges")
    @Operation(summary = "Add a range of devices prefix + zero-padded number, without a row per device")
    public Response addRange(
            @PathParam("tenant") String tenant, @PathParam("group") String group, @Valid @NotNull AddRange req) {
        write(tenant);
        if (req.last() < req.first()) {
            throw ApiProblem.invalid(List.of(ApiProblem.fieldError("last", "must be >= first")));
        }
        groups.addRange(tenant, group, req.prefix(), req.width(), req.first(), req.last(), access.actor());
        return Response.status(201).entity(req).build();
    }

    public record DeviceView(
            String deviceId, String status, Instant kpmExportedAt, Integer kpmExportedEpoch, Instant updatedAt) {
        static DeviceView of(EnrolmentDevice d) {
            return new DeviceView(d.deviceId, d.status.name(), d.kpmExportedAt, d.kpmExportedEpoch, d.updatedAt);
        }
    }

    public record DevicePageView(List<DeviceView> devices, String next) {}

    @GET
    @Path("{group}/devices")
    @Operation(
            summary =
                    "The group's device rows in id order, a page at a time (keyset: pass 'next' as 'after'); filter by id prefix and status. "
                            + "Devices of ranges that were never listed, denied or exported have no row")
    public DevicePageView devices(
            @PathParam("tenant") String tenant,
            @PathParam("group") String group,
            @QueryParam("prefix") String prefix,
            @QueryParam("status") String status,
            @QueryParam("after") String after,
            @QueryParam("limit") @jakarta.ws.rs.DefaultValue("100") int limit) {
        door.enter(tenant, AdminAccess.Need.READ);
        EnrolmentDevice.Status st = parseStatus(status);
        if (limit < 1
                || limit > 1000
                || (prefix != null && prefix.length() > 64)
                || (after != null && after.length() > 64)) {
            throw ApiProblem.badRequest("validation", "limit must be 1-1000; prefix and after at most 64 characters");
        }
        EnrolmentGroupService.DevicePage p = groups.devices(tenant, group, prefix, st, after, limit);
        return new DevicePageView(p.devices().stream().map(DeviceView::of).toList(), p.next());
    }

    static EnrolmentDevice.Status parseStatus(String status) {
        if (status == null || status.isEmpty()) {
            return null;
        }
        try {
            return EnrolmentDevice.Status.valueOf(status);
        } catch (IllegalArgumentException e) {
            throw ApiProblem.badRequest("validation", "status must be ALLOWED or DENIED");
        }
    }

    @POST
    @Path("{group}/devices/{device}/deny")
    public Response deny(
            @PathParam("tenant") String tenant, @PathParam("group") String group, @PathParam("device") String device) {
        write(tenant);
        groups.setStatus(tenant, group, device, EnrolmentDevice.Status.DENIED, access.actor());
        return Response.noContent().build();
    }

    @POST
    @Path("{group}/devices/{device}/allow")
    public Response allow(
            @PathParam("tenant") String tenant, @PathParam("group") String group, @PathParam("device") String device) {
        write(tenant);
        groups.setStatus(tenant, group, device, EnrolmentDevice.Status.ALLOWED, access.actor());
        return Response.noContent().build();
    }

    @POST
    @Path("{group}/devices/{device}/kpm-export")
    @Operation(summary = "Export the device's Kpm once, for factory provisioning (policy allowHostMemoryKeys; audited)")
    public KpmExportView exportKpm(
            @PathParam("tenant") String tenant, @PathParam("group") String group, @PathParam("device") String device) {
        write(tenant);
        EnrolmentGroupService.KpmExport e = groups.exportKpm(tenant, group, device, access.actor());
        try (var k = e.kpm()) {
            return new KpmExportView(
                    e.kpmId(),
                    k.reveal(b -> Base64.getEncoder().encodeToString(b)),
                    "base64",
                    "shown once: store it in the device's secure element, never in logs or tickets");
        }
    }

    @PUT
    @Path("{group}/certificate-profile")
    @Operation(
            summary =
                    "Which certificate identity the group's devices may request over EST: subjectType NODE_ID, CSE_ID, "
                            + "AE_ID or FQDN, and a template in which {device} stands for the device id")
    public GroupView setCertificateProfile(
            @PathParam("tenant") String tenant,
            @PathParam("group") String group,
            @Valid @NotNull CertificateProfile req) {
        write(tenant);
        SubjectType type = SubjectType.parseField(req.subjectType());
        return view(tenant, groups.setCertificateProfile(tenant, group, type, req.subjectTemplate(), access.actor()));
    }

    @DELETE
    @Path("{group}/certificate-profile")
    @Operation(
            summary = "The group's devices may no longer request certificates (issued ones stay valid until revoked)")
    public GroupView removeCertificateProfile(@PathParam("tenant") String tenant, @PathParam("group") String group) {
        write(tenant);
        return view(tenant, groups.setCertificateProfile(tenant, group, null, null, access.actor()));
    }

    private GroupView view(String tenant, EnrolmentGroup g) {
        CertificateProfile profile = g.certSubjectType == null
                ? null
                : new CertificateProfile(g.certSubjectType.name(), g.certSubjectTemplate);
        return new GroupView(
                g.id,
                g.name,
                g.epoch,
                g.status.name(),
                "<device-id>~" + g.epoch + "@" + g.id + "." + fqdns.mef(tenant),
                profile,
                g.createdAt);
    }

    private void read(String tenant) {
        door.enter(tenant, AdminAccess.Need.READ);
    }

    private void write(String tenant) {
        door.enter(tenant, AdminAccess.Need.WRITE);
    }
}
