package io.m2mtrust.esdata;

import io.m2mtrust.common.ApiProblem;
import io.m2mtrust.security.AdminAccess;
import io.m2mtrust.security.TenantDoor;
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

import java.util.List;
import java.util.Map;

/** The ESData dry-run for operators (what the crypto-policy simulator builds on): read-only, no key is opened. */
@Path("/api/v1/tenants/{tenant}/esdata")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "ESData")
@SecurityRequirement(name = "oidc")
public class EsDataResource {

    /**
     * {@code endPoint}: a service-held end-point's id (its protect call, with every option: sign, certificates,
     * nested, symmetric keys as its identity) or an identity that protects on its MAF session (symmetric options).
     */
    public record DryRun(
            @NotBlank @Size(max = 300) String endPoint,
            @NotNull @Valid EndpointService.EndpointProtect request) {}

    private final EsDataService esdata;
    private final EndpointService endpoints;
    private final TenantDoor door;

    EsDataResource(EsDataService esdata, EndpointService endpoints, TenantDoor door) {
        this.esdata = esdata;
        this.endpoints = endpoints;
        this.door = door;
    }

    @POST
    @Path("dry-run")
    @Operation(
            summary =
                    "What a protect call of endPoint (a service-held end-point's id, or an identity on its MAF session) would do: "
                            + "the option, keys, algorithms, or the refusal with the status protect would answer")
    public Map<String, Object> dryRun(@PathParam("tenant") String tenant, @Valid @NotNull DryRun req) {
        door.enter(tenant, AdminAccess.Need.READ);
        EndpointService.EndpointProtect p = req.request();
        EsDataService.Outcome o;
        if (endpoints.isActive(tenant, req.endPoint())) {
            o = endpoints.dryRun(tenant, req.endPoint(), p);
        } else if (Boolean.TRUE.equals(p.sign())
                || (p.encryptForCertificatesOf() != null
                        && !p.encryptForCertificatesOf().isEmpty())
                || p.signAlg() != null
                || p.macAlg() != null) {
            // an identity protects on its MAF session, whose protect call has only the symmetric options
            o = new EsDataService.Outcome(
                    200,
                    Map.of(
                            "wouldSucceed",
                            false,
                            "protectStatus",
                            400,
                            "problems",
                            List.of(req.endPoint()
                                    + " is not a service-held end-point of this tenant: sign, signAlg, macAlg and encryptForCertificatesOf "
                                    + "are options of an end-point's protect (name it by its id)")));
        } else {
            o = esdata.dryRun(
                    tenant,
                    req.endPoint(),
                    new EsDataService.ProtectRequest(
                            p.payload(), p.aad(), p.encryptFor(), p.macWith(), p.alg(), p.enc(), p.contentSecurity()));
        }
        if (o.status() != 200) {
            throw new ApiProblem(
                    o.status(),
                    "esdata",
                    "ESData dry-run refused",
                    String.valueOf(o.body().get("problems")));
        }
        return o.body();
    }
}
