package io.m2mtrust.esdata;

import io.m2mtrust.common.ApiProblem;
import io.m2mtrust.security.AdminAccess;
import io.m2mtrust.tenant.TenantDoor;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Size;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import java.util.Map;

/** The ESData dry-run for operators (the seed of the crypto-policy simulator): read-only, no key is opened. */
@Path("/api/v1/tenants/{tenant}/esdata")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "ESData")
@SecurityRequirement(name = "oidc")
public class EsDataResource {

    public record DryRun(@NotBlank @Size(max = 300) String endPoint, @NotNull @Valid EsDataService.ProtectRequest request) {
    }

    private final EsDataService esdata;
    private final TenantDoor door;

    EsDataResource(EsDataService esdata, TenantDoor door) {
        this.esdata = esdata;
        this.door = door;
    }

    @POST
    @Path("dry-run")
    @Operation(summary = "Which option, keys and algorithms a protect call of endPoint would use, or why it would fail")
    public Map<String, Object> dryRun(@PathParam("tenant") String tenant, @Valid @NotNull DryRun req) {
        door.enter(tenant, AdminAccess.Need.READ);
        EsDataService.Outcome o = esdata.dryRun(tenant, req.endPoint(), req.request());
        if (o.status() != 200) {
            throw new ApiProblem(o.status(), "esdata", "ESData dry-run refused", String.valueOf(o.body().get("problems")));
        }
        return o.body();
    }
}
