package io.m2mtrust.audit;

import io.m2mtrust.common.ApiProblem;
import io.m2mtrust.security.AdminAccess;
import io.m2mtrust.tenant.TenantIds;
import io.m2mtrust.tenant.TenantStore;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import java.time.Instant;
import java.util.HexFormat;
import java.util.List;

@Path("/api/v1/tenants/{tenant}/audit")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Audit")
@SecurityRequirement(name = "oidc")
public class AuditResource {

    public record AuditEventView(
            long seq,
            Instant occurredAt,
            String actor,
            String action,
            String target,
            String outcome,
            String detail,
            String hash) {
        static AuditEventView of(AuditEvent e) {
            return new AuditEventView(
                    e.seq,
                    e.occurredAt,
                    e.actor,
                    e.action,
                    e.target,
                    e.outcome,
                    e.detail,
                    HexFormat.of().formatHex(e.hash));
        }
    }

    private final AuditLog audit;
    private final TenantStore tenants;
    private final AdminAccess access;

    AuditResource(AuditLog audit, TenantStore tenants, AdminAccess access) {
        this.audit = audit;
        this.tenants = tenants;
        this.access = access;
    }

    @GET
    @Operation(summary = "The tenant's audit events in chain order (also of a deleted tenant)")
    public List<AuditEventView> list(
            @PathParam("tenant") String tenant,
            @QueryParam("afterSeq") @DefaultValue("0") long afterSeq,
            @QueryParam("limit") @DefaultValue("100") int limit) {
        TenantIds.require(tenant);
        access.require(tenant, AdminAccess.Need.READ);
        tenants.get(tenant);
        if (limit < 1 || limit > 1000 || afterSeq < 0) {
            throw ApiProblem.badRequest("validation", "limit must be 1-1000 and afterSeq >= 0");
        }
        return audit.list(tenant, afterSeq, limit).stream()
                .map(AuditEventView::of)
                .toList();
    }

    @GET
    @Path("verify")
    @Operation(summary = "Recompute the hash chain and check the HSM signature of its head")
    public ChainVerification verify(@PathParam("tenant") String tenant) {
        TenantIds.require(tenant);
        access.require(tenant, AdminAccess.Need.READ);
        tenants.get(tenant);
        return audit.verify(tenant);
    }
}
