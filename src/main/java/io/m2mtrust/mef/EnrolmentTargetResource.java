package io.m2mtrust.mef;

import io.m2mtrust.audit.AdminChanges;
import io.m2mtrust.audit.Audited;
import io.m2mtrust.common.ApiProblem;
import io.m2mtrust.policy.PolicyRules;
import io.m2mtrust.security.AdminAccess;
import io.m2mtrust.security.TenantDoor;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.persistence.EntityManager;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.PUT;
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
import java.util.Arrays;
import java.util.List;

/** Which Enrolment Targets may fetch which SUIDs (the tenant-policy side of fetchCredentials). */
@Path("/api/v1/tenants/{tenant}/enrolment-targets")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "Enrolment targets")
@SecurityRequirement(name = "oidc")
public class EnrolmentTargetResource {

    public record TargetRule(
            @NotNull
            @Size(max = 253)
            @Pattern(
                    regexp = "(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]",
                    message = "a lowercase FQDN without wildcards")
            String targetFqdn,

            @NotNull @Size(min = 1, max = 5) List<@NotNull Integer> allowedSuids) {}

    public record TargetView(String identity, String targetFqdn, List<Integer> allowedSuids, Instant updatedAt) {
        static TargetView of(EnrolmentTarget t) {
            return new TargetView(t.identity, t.targetFqdn, Arrays.asList(t.allowedSuids), t.updatedAt);
        }
    }

    private final EntityManager em;
    private final TenantDoor tenants;
    private final MefStore store;
    private final AdminChanges changes;

    EnrolmentTargetResource(EntityManager em, TenantDoor tenants, MefStore store, AdminChanges changes) {
        this.changes = changes;
        this.store = store;
        this.em = em;
        this.tenants = tenants;
    }

    @GET
    public List<TargetView> list(@PathParam("tenant") String tenant) {
        door(tenant, AdminAccess.Need.READ);
        return QuarkusTransaction.requiringNew()
                .call(() -> store.targets(tenant).stream().map(TargetView::of).toList());
    }

    @PUT
    @Path("{identity}")
    @Operation(summary = "Allow the peer authenticating as {identity} to fetch the given SUIDs (21-25) for targetFqdn")
    public TargetView put(
            @PathParam("tenant") String tenant,
            @PathParam("identity") String identity,
            @Valid @NotNull TargetRule rule) {
        door(tenant, AdminAccess.Need.WRITE);
        if (identity.isBlank() || identity.length() > 300) {
            throw ApiProblem.badRequest("validation", "identity must be 1-300 characters");
        }
        for (Integer s : rule.allowedSuids()) {
            if (!CredentialFetchService.FETCHABLE_SUIDS.contains(s) || !PolicyRules.KNOWN_SUIDS.contains(s)) {
                throw ApiProblem.invalid(
                        List.of(ApiProblem.fieldError("allowedSuids", s + " is not an RSPF-provisioned SUID (21-25)")));
            }
        }
        return changes.make(tenant, "target.put", "target/" + identity, () -> {
            Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
            EnrolmentTarget t = em.find(EnrolmentTarget.class, new EnrolmentTarget.Key(tenant, identity));
            boolean created = t == null;
            if (created) {
                t = new EnrolmentTarget();
                t.tenantId = tenant;
                t.identity = identity;
                t.createdAt = now;
            }
            t.targetFqdn = rule.targetFqdn();
            t.allowedSuids = rule.allowedSuids().stream().distinct().sorted().toArray(Integer[]::new);
            t.updatedAt = now;
            if (created) {
                em.persist(t);
            }
            em.flush();
            return Audited.of(
                    TargetView.of(t), rule.targetFqdn() + " may fetch SUIDs " + Arrays.toString(t.allowedSuids));
        });
    }

    @DELETE
    @Path("{identity}")
    public Response delete(@PathParam("tenant") String tenant, @PathParam("identity") String identity) {
        door(tenant, AdminAccess.Need.WRITE);
        changes.remove(
                tenant,
                "target.delete",
                "target/" + identity,
                () -> store.deleteTarget(tenant, identity) > 0,
                "enrolment target " + identity);
        return Response.noContent().build();
    }

    private void door(String tenant, AdminAccess.Need need) {
        tenants.enter(tenant, need);
    }
}
