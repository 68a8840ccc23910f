package io.m2mtrust.identity;

import jakarta.validation.Valid;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DefaultValue;
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
import java.util.List;

@Path("/api/v1/tenants/{tenant}/users")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "Tenant users")
@SecurityRequirement(name = "oidc")
public class TenantUserResource {

    private final TenantUsers users;

    TenantUserResource(TenantUsers users) {
        this.users = users;
    }

    @GET
    @Operation(
            summary =
                    "The tenant's people in Keycloak with their tenant roles (tenant-admin, tenant-auditor, platform-admin)")
    public List<TenantUserDtos.TenantUserView> list(
            @PathParam("tenant") String tenant,
            @QueryParam("first") @DefaultValue("0") @Min(0) @Max(100_000) int first,
            @QueryParam("max") @DefaultValue("50") @Min(1) @Max(200) int max) {
        return users.list(tenant, first, max);
    }

    @GET
    @Path("{user}")
    @Operation(summary = "One user of the tenant")
    public TenantUserDtos.TenantUserView get(@PathParam("tenant") String tenant, @PathParam("user") String user) {
        return users.get(tenant, user);
    }

    @POST
    @Operation(
            summary =
                    "Invite (e-mail) or create (temporary password) a user of the tenant with tenant roles (tenant-admin)")
    public Response create(@PathParam("tenant") String tenant, @Valid @NotNull TenantUserDtos.NewTenantUser req) {
        TenantUserDtos.TenantUserView u = users.create(tenant, req);
        return Response.created(URI.create("/api/v1/tenants/" + tenant + "/users/" + u.id()))
                .entity(u)
                .build();
    }

    @PUT
    @Path("{user}")
    @Operation(summary = "Enable or disable a user and set their tenant roles (tenant-admin)")
    public TenantUserDtos.TenantUserView update(
            @PathParam("tenant") String tenant,
            @PathParam("user") String user,
            @Valid @NotNull TenantUserDtos.UpdateTenantUser req) {
        return users.update(tenant, user, req);
    }

    @POST
    @Path("{user}/invitation")
    @Operation(summary = "E-mail the user's invitation again (tenant-admin)")
    public TenantUserDtos.TenantUserView invite(@PathParam("tenant") String tenant, @PathParam("user") String user) {
        return users.invite(tenant, user);
    }
}
