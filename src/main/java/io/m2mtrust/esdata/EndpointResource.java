package io.m2mtrust.esdata;

import io.m2mtrust.common.ApiProblem;
import io.m2mtrust.common.SubjectType;
import io.m2mtrust.hsm.AsymmetricKeyType;
import io.m2mtrust.quota.QuotaBucket;
import io.m2mtrust.quota.TenantQuotas;
import io.m2mtrust.security.AdminAccess;
import io.m2mtrust.security.TenantDoor;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Size;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import java.net.URI;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** End-points the service acts for, and ESData protect/unprotect as one of them (the tenant's applications call this). */
@Path("/api/v1/tenants/{tenant}/endpoints")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "ESData end-points")
@SecurityRequirement(name = "oidc")
public class EndpointResource {

    public record CreateEndpoint(
            @NotBlank @Size(max = 40) String id,
            @NotBlank String subjectType,
            @NotBlank @Size(max = 300) String subjectId,
            String keyType) {}

    public record EndpointView(
            String id,
            String subjectType,
            String subjectId,
            String keyType,
            List<String> signatureAlgorithms,
            String hsmLabel,
            String certificateSerial,
            String status,
            Instant createdAt) {
        static EndpointView of(Endpoint e) {
            return new EndpointView(
                    e.id,
                    e.subjectType.name(),
                    e.subjectId,
                    e.keyType.name(),
                    e.keyType.jwsAlgorithms(),
                    e.hsmLabel,
                    e.certSerial,
                    e.status.name(),
                    e.createdAt);
        }
    }

    public record Batch<T>(List<T> items) {}

    private final EndpointService endpoints;
    private final TenantDoor door;
    private final AdminAccess access;
    private final TenantQuotas quotas;

    EndpointResource(EndpointService endpoints, TenantDoor door, AdminAccess access, TenantQuotas quotas) {
        this.quotas = quotas;
        this.endpoints = endpoints;
        this.door = door;
        this.access = access;
    }

    @GET
    public List<EndpointView> list(@PathParam("tenant") String tenant) {
        door.enter(tenant, AdminAccess.Need.READ);
        return endpoints.list(tenant).stream().map(EndpointView::of).toList();
    }

    @POST
    @Operation(
            summary =
                    "Create an end-point: a key pair generated in the HSM (keyType EC_P256 by default; EC_P384, EC_P521, RSA_2048, "
                            + "RSA_3072), certificate from the tenant CA for its identity")
    public Response create(@PathParam("tenant") String tenant, @Valid @NotNull CreateEndpoint req) {
        door.enter(tenant, AdminAccess.Need.WRITE);
        SubjectType type = SubjectType.parseField(req.subjectType());
        AsymmetricKeyType keyType;
        try {
            keyType = req.keyType() == null ? AsymmetricKeyType.EC_P256 : AsymmetricKeyType.valueOf(req.keyType());
        } catch (IllegalArgumentException e) {
            throw ApiProblem.invalid(
                    List.of(ApiProblem.fieldError("keyType", "one of EC_P256, EC_P384, EC_P521, RSA_2048, RSA_3072")));
        }
        Endpoint e = endpoints.create(tenant, req.id(), type, req.subjectId(), keyType, access.actor());
        return Response.created(URI.create("/api/v1/tenants/" + tenant + "/endpoints/" + e.id))
                .entity(EndpointView.of(e))
                .build();
    }

    @DELETE
    @Path("{id}")
    @Operation(
            summary =
                    "Delete an end-point: its HSM key is destroyed and its certificate revoked; the id is never reused")
    public Response delete(@PathParam("tenant") String tenant, @PathParam("id") String id) {
        door.enter(tenant, AdminAccess.Need.WRITE);
        endpoints.delete(tenant, id, access.actor());
        return Response.noContent().build();
    }

    @POST
    @Path("{id}/esdata/protect")
    @Operation(
            summary =
                    "Protect as the end-point: sign (ES256 in the HSM), encrypt for keys or target certificates, nested, or MAC")
    public Response protect(
            @PathParam("tenant") String tenant,
            @PathParam("id") String id,
            @NotNull EndpointService.EndpointProtect req) {
        door.enter(tenant, AdminAccess.Need.WRITE);
        quotas.admit(tenant, QuotaBucket.ESDATA);
        return answer(endpoints.protect(tenant, id, req));
    }

    @POST
    @Path("{id}/esdata/unprotect")
    @Operation(
            summary =
                    "Unprotect as the end-point (expect: encryption, mac or signature; nested envelopes are verified too)")
    public Response unprotect(
            @PathParam("tenant") String tenant,
            @PathParam("id") String id,
            @NotNull EsDataService.UnprotectRequest req) {
        door.enter(tenant, AdminAccess.Need.WRITE);
        quotas.admit(tenant, QuotaBucket.ESDATA);
        return answer(endpoints.unprotect(tenant, id, req));
    }

    @POST
    @Path("{id}/esdata/protect/batch")
    public Map<String, Object> protectBatch(
            @PathParam("tenant") String tenant,
            @PathParam("id") String id,
            @NotNull Batch<EndpointService.EndpointProtect> req) {
        door.enter(tenant, AdminAccess.Need.WRITE);
        check(req.items());
        quotas.admit(tenant, QuotaBucket.ESDATA);
        return Map.of(
                "results",
                endpoints.protectAll(tenant, id, req.items()).stream()
                        .map(EndpointResource::result)
                        .toList());
    }

    @POST
    @Path("{id}/esdata/unprotect/batch")
    public Map<String, Object> unprotectBatch(
            @PathParam("tenant") String tenant,
            @PathParam("id") String id,
            @NotNull Batch<EsDataService.UnprotectRequest> req) {
        door.enter(tenant, AdminAccess.Need.WRITE);
        check(req.items());
        quotas.admit(tenant, QuotaBucket.ESDATA);
        return Map.of(
                "results",
                endpoints.unprotectAll(tenant, id, req.items()).stream()
                        .map(EndpointResource::result)
                        .toList());
    }

    private static void check(List<?> items) {
        if (items == null || items.isEmpty() || items.size() > 50) {
            throw ApiProblem.badRequest("validation", "items: 1 to 50");
        }
    }

    private static Map<String, Object> result(EsDataService.Outcome o) {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("status", o.status());
        m.putAll(o.body());
        return m;
    }

    private static Response answer(EsDataService.Outcome o) {
        if (o.status() == 200) {
            return Response.ok(o.body()).build();
        }
        Object problems = o.body().get("problems");
        throw new ApiProblem(o.status(), "esdata", "ESData refused", String.valueOf(problems));
    }
}
