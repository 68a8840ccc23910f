package io.m2mtrust.onboarding;

import io.m2mtrust.common.ETags;
import io.m2mtrust.security.AdminAccess;
import io.m2mtrust.tenant.Tenant;
import io.m2mtrust.tenant.TenantIds;
import io.m2mtrust.tenant.TenantStore;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import java.net.URI;
import java.util.List;

@Path("/api/v1/tenants")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "Tenants")
@SecurityRequirement(name = "oidc")
public class TenantResource {

    private final TenantService tenants;
    private final AdminAccess access;
    private final TenantStore tenantRows;

    TenantResource(TenantService tenants, AdminAccess access, TenantStore tenantRows) {
        this.tenantRows = tenantRows;
        this.tenants = tenants;
        this.access = access;
    }

    @GET
    @Operation(summary = "List tenants: all for platform-admin, one's own otherwise")
    public List<TenantDtos.TenantView> list() {
        if (access.isPlatformAdmin()) {
            return tenantRows.list(null).stream().map(TenantDtos.TenantView::of).toList();
        }
        String own = access.boundTenant().orElse("-"); // "-" names no tenant: require() answers 403
        access.require(own, AdminAccess.Need.READ);
        return tenantRows.list(own).stream().map(TenantDtos.TenantView::of).toList();
    }

    @POST
    @Operation(
            summary =
                    "Create a tenant with its HSM keys, default policy, Keycloak group and optionally its first "
                            + "tenant-admin (platform-admin); repeating a request that succeeded answers 200 with the same tenant")
    public Response create(@Valid @NotNull TenantDtos.CreateTenant req) {
        access.requirePlatformAdmin();
        TenantService.Created c = tenants.create(req, access.actor());
        Tenant t = c.tenant();
        Response.ResponseBuilder r =
                c.created() ? Response.created(URI.create("/api/v1/tenants/" + t.id)) : Response.ok();
        return r.tag(ETags.of(t.version)).entity(TenantDtos.TenantView.of(c)).build();
    }

    @GET
    @Path("{tenant}")
    @Operation(summary = "One tenant (a deleted tenant is shown as a tombstone)")
    public Response get(@PathParam("tenant") String id) {
        TenantIds.require(id);
        access.require(id, AdminAccess.Need.READ);
        Tenant t = tenantRows.get(id);
        return Response.ok(TenantDtos.TenantView.of(t)).tag(ETags.of(t.version)).build();
    }

    @PUT
    @Path("{tenant}")
    @Operation(summary = "Rename, suspend or re-activate a tenant (platform-admin); needs If-Match")
    public Response update(
            @PathParam("tenant") String id,
            @HeaderParam("If-Match") String ifMatch,
            @Valid @NotNull TenantDtos.UpdateTenant req) {
        TenantIds.require(id);
        access.requirePlatformAdmin();
        Tenant t = tenants.update(id, req, ifMatch, access.actor());
        return Response.ok(TenantDtos.TenantView.of(t)).tag(ETags.of(t.version)).build();
    }

    @DELETE
    @Path("{tenant}")
    @Operation(summary = "Delete a tenant and destroy its HSM keys (crypto-shredding; platform-admin)")
    public Response delete(@PathParam("tenant") String id) {
        TenantIds.require(id);
        access.requirePlatformAdmin();
        tenants.delete(id, access.actor());
        return Response.noContent().build();
    }
}
