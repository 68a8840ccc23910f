package io.m2mtrust.mef;

import io.m2mtrust.audit.AdminChanges;
import io.m2mtrust.audit.Audited;
import io.m2mtrust.common.ApiProblem;
import io.m2mtrust.common.ImportedKeyMaterial;
import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.keys.KeySealer;
import io.m2mtrust.policy.PolicyService;
import io.m2mtrust.security.AdminAccess;
import io.m2mtrust.security.TenantDoor;
import io.m2mtrust.tenant.DeviceFqdns;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.validation.Valid;
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

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Import of individually pre-provisioned Kpm: sealed at once under the tenant KEK; the value is never shown again. */
@Path("/api/v1/tenants/{tenant}/imported-kpms")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "Enrolment groups")
@SecurityRequirement(name = "oidc")
public class ImportedKpmResource {

    static final String SEAL_PURPOSE = "Kpm";

    public record ImportKpm(
            @NotNull @Size(min = 3, max = 300) String kpmId,
            @NotNull @Size(min = 24, max = 100) String kpm) {
        @Override
        public String toString() {
            return "ImportKpm[" + kpmId + ", kpm=[redacted]]";
        }
    }

    public record ImportedView(String kpmId, Instant createdAt) {}

    private final KeySealer sealer;
    private final PolicyService policies;
    private final TenantDoor tenants;
    private final DeviceFqdns fqdns;
    private final MefStore store;
    private final AdminChanges changes;

    ImportedKpmResource(
            KeySealer sealer,
            PolicyService policies,
            TenantDoor tenants,
            DeviceFqdns fqdns,
            MefStore store,
            AdminChanges changes) {
        this.changes = changes;
        this.store = store;
        this.sealer = sealer;
        this.policies = policies;
        this.tenants = tenants;
        this.fqdns = fqdns;
    }

    @GET
    public List<ImportedView> list(@PathParam("tenant") String tenant) {
        door(tenant, AdminAccess.Need.READ);
        return QuarkusTransaction.requiringNew()
                .call(() -> store.importedKpms(tenant).stream()
                        .map(k -> new ImportedView(k.kpmId, k.createdAt))
                        .toList());
    }

    @POST
    @Operation(
            summary =
                    "Import a pre-provisioned Kpm (base64, 16-64 bytes); KpmID = <id>@<this tenant's MEF FQDN>, no '~'")
    public Response importKpm(@PathParam("tenant") String tenant, @Valid @NotNull ImportKpm req) {
        door(tenant, AdminAccess.Need.WRITE);
        String suffix = "@" + fqdns.mef(tenant);
        String local = req.kpmId().endsWith(suffix)
                ? req.kpmId().substring(0, req.kpmId().length() - suffix.length())
                : null;
        if (local == null || !local.matches("[A-Za-z0-9._-]{1,64}")) {
            throw ApiProblem.invalid(
                    List.of(ApiProblem.fieldError("kpmId", "must be <id>" + suffix + " with id of A-Z a-z 0-9 . _ -")));
        }
        List<Map<String, String>> errors = new ArrayList<>();
        SecretBytes decoded =
                ImportedKeyMaterial.decode(req.kpm(), "kpm", n -> n >= 16 && n <= 64, "16 to 64 bytes", errors);
        if (decoded == null) {
            throw ApiProblem.invalid(errors);
        }
        try (SecretBytes kpm = decoded) {
            return changes.make(tenant, "kpm.import", "kpm/" + req.kpmId(), () -> {
                if (!policies.get(tenant).allowHostMemoryKeys) {
                    throw ApiProblem.forbidden(
                            "the tenant's policy does not allow client-supplied key material (allowHostMemoryKeys)");
                }
                if (ImportedKpm.findById(new ImportedKpm.Key(tenant, req.kpmId())) != null) {
                    throw ApiProblem.conflict("KpmID " + req.kpmId() + " is already imported");
                }
                ImportedKpm k = new ImportedKpm();
                k.tenantId = tenant;
                k.kpmId = req.kpmId();
                k.sealedKpm = sealer.seal(new KeySealer.SealContext(tenant, req.kpmId(), SEAL_PURPOSE), kpm);
                k.createdAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
                k.persistAndFlush();
                return Audited.of(
                        Response.status(201)
                                .entity(new ImportedView(k.kpmId, k.createdAt))
                                .build(),
                        kpm.length() + "-byte Kpm sealed under the tenant KEK");
            });
        }
    }

    @DELETE
    @Path("{kpmId}")
    public Response delete(@PathParam("tenant") String tenant, @PathParam("kpmId") String kpmId) {
        door(tenant, AdminAccess.Need.WRITE);
        changes.remove(
                tenant,
                "kpm.delete",
                "kpm/" + kpmId,
                () -> store.deleteImportedKpm(tenant, kpmId) > 0,
                "imported Kpm " + kpmId);
        return Response.noContent().build();
    }

    private void door(String tenant, AdminAccess.Need need) {
        tenants.enter(tenant, need);
    }
}
