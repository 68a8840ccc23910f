package io.m2mtrust.policy;

import io.m2mtrust.common.ETags;
import io.m2mtrust.security.AdminAccess;
import io.m2mtrust.security.TenantDoor;
import jakarta.validation.constraints.NotNull;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

@Path("/api/v1/tenants/{tenant}/policy")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "Policy")
@SecurityRequirement(name = "oidc")
public class PolicyResource {

    private final PolicyService policies;
    private final TenantDoor door;
    private final AdminAccess access;

    PolicyResource(PolicyService policies, TenantDoor door, AdminAccess access) {
        this.policies = policies;
        this.door = door;
        this.access = access;
    }

    @GET
    @Operation(summary = "The tenant's security policy, with its ETag")
    public Response get(@PathParam("tenant") String tenant) {
        door.enter(tenant, AdminAccess.Need.READ);
        TenantPolicy p = policies.get(tenant);
        return Response.ok(PolicyDocument.of(p)).tag(ETags.of(p.version)).build();
    }

    @PUT
    @Operation(summary = "Replace the policy; If-Match with the ETag of the last GET is required (412 when stale)")
    public Response replace(
            @PathParam("tenant") String tenant, @HeaderParam("If-Match") String ifMatch, @NotNull PolicyDocument doc) {
        door.enter(tenant, AdminAccess.Need.WRITE);
        TenantPolicy p = policies.replace(tenant, doc, ifMatch, access.actor());
        return Response.ok(PolicyDocument.of(p)).tag(ETags.of(p.version)).build();
    }
}
