package io.m2mtrust.lineage;

import io.m2mtrust.security.AdminAccess;
import io.m2mtrust.security.TenantDoor;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * A device's key lineage across the features, and the cascading revoke that follows it (beside {@code
 * EnrolmentGroupResource}, under the same path).
 */
@Path("/api/v1/tenants/{tenant}/enrolment-groups")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "Enrolment groups")
@SecurityRequirement(name = "oidc")
public class DeviceLineageResource {

    private final DeviceLineage lineage;
    private final TenantDoor door;
    private final AdminAccess access;

    DeviceLineageResource(DeviceLineage lineage, TenantDoor door, AdminAccess access) {
        this.lineage = lineage;
        this.door = door;
        this.access = access;
    }

    @GET
    @Path("{group}/devices/{device}/lineage")
    @Operation(
            summary =
                    "Key lineage of a device: KpmIDs per epoch → enrolments (KeID) → MEF/MAF client registrations (Km) → registered keys; "
                            + "certificates issued to it; ESCertKE keys of those identities (metadata only)")
    public DeviceLineage.Lineage lineage(
            @PathParam("tenant") String tenant, @PathParam("group") String group, @PathParam("device") String device) {
        door.enter(tenant, AdminAccess.Need.READ);
        return lineage.of(tenant, group, device);
    }

    @POST
    @Path("{group}/devices/{device}/revoke-all")
    @Operation(
            summary =
                    "Cascading revoke: deny the device, revoke its enrolments and certificates, delete its client registrations (Km and "
                            + "registered keys with them) and revoke its ESCertKE keys")
    public DeviceLineage.Revoked revokeAll(
            @PathParam("tenant") String tenant, @PathParam("group") String group, @PathParam("device") String device) {
        door.enter(tenant, AdminAccess.Need.WRITE);
        return lineage.revokeAll(tenant, group, device, access.actor());
    }
}
