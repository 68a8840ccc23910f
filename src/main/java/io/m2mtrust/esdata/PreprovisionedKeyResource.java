package io.m2mtrust.esdata;

import io.m2mtrust.audit.AdminChanges;
import io.m2mtrust.audit.Audited;
import io.m2mtrust.common.ApiProblem;
import io.m2mtrust.common.ImportedKeyMaterial;
import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.keys.KeySealer;
import io.m2mtrust.policy.PolicyService;
import io.m2mtrust.security.AdminAccess;
import io.m2mtrust.security.KeyRevoked;
import io.m2mtrust.security.Revocations;
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
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Import of pre-provisioned ESData keys (SUID 14 encryption, 15 MAC): keys installed in end-points out of
 * band, with an identifier both sides know ({@code relative@fqdn}, the generic symmetric key id of TS-0003
 * §12.3.2). Sealed at once under the tenant KEK; the value is never shown again. Used whole (a
 * pre-provisioned key is not a distributed key, so the first-half rule does not apply).
 */
@Path("/api/v1/tenants/{tenant}/preprovisioned-keys")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "ESData end-points")
@SecurityRequirement(name = "oidc")
public class PreprovisionedKeyResource {

    static final String SEAL_PURPOSE = "ESDataPre";
    static final Set<Integer> LENGTHS = Set.of(16, 24, 32, 48, 64);

    public record ImportKey(
            @NotNull @Size(max = 320) String keyId,
            @NotNull Integer suid,
            @NotNull @Size(min = 1, max = 16) List<String> holders,
            @NotNull @Size(max = 100) String keyValue,
            @NotNull Instant expiresAt) {
        @Override
        public String toString() {
            return "ImportKey[" + keyId + ", suid " + suid + ", keyValue=[redacted]]";
        }
    }

    public record KeyView(
            String keyId,
            int suid,
            List<String> holders,
            int keyLength,
            Instant expiresAt,
            Instant createdAt,
            Instant revokedAt,
            String status) {
        static KeyView of(PreprovisionedKey k) {
            String status = k.revokedAt != null ? "REVOKED" : k.expiresAt.isAfter(Instant.now()) ? "ACTIVE" : "EXPIRED";
            return new KeyView(
                    k.keyId, k.suid, List.of(k.holders), k.keyLength, k.expiresAt, k.createdAt, k.revokedAt, status);
        }
    }

    private final KeySealer sealer;
    private final PolicyService policies;
    private final TenantDoor tenants;
    private final DeviceFqdns fqdns;
    private final EsdataStore store;
    private final AdminChanges changes;
    private final Revocations revocations;

    PreprovisionedKeyResource(
            KeySealer sealer,
            PolicyService policies,
            TenantDoor tenants,
            DeviceFqdns fqdns,
            EsdataStore store,
            AdminChanges changes,
            Revocations revocations) {
        this.revocations = revocations;
        this.changes = changes;
        this.store = store;
        this.sealer = sealer;
        this.policies = policies;
        this.tenants = tenants;
        this.fqdns = fqdns;
    }

    static KeySealer.SealContext seal(String tenant, String keyId) {
        return new KeySealer.SealContext(tenant, keyId, SEAL_PURPOSE);
    }

    @GET
    public List<KeyView> list(@PathParam("tenant") String tenant) {
        tenants.enter(tenant, AdminAccess.Need.READ);
        return QuarkusTransaction.requiringNew()
                .call(() -> store.preprovisionedKeys(tenant, Integer.MAX_VALUE).stream()
                        .map(KeyView::of)
                        .toList());
    }

    @POST
    @Operation(
            summary =
                    "Import a pre-provisioned key (SUID 13 pairwiseESPrimKey, 14 ESData encryption, 15 ESData MAC; 16/24/32/48/64 bytes, base64) for its holders")
    public Response importKey(@PathParam("tenant") String tenant, @Valid @NotNull ImportKey req) {
        tenants.enter(tenant, AdminAccess.Need.WRITE);
        List<java.util.Map<String, String>> errors = new ArrayList<>();
        String fqdn =
                req.keyId().contains("@") ? req.keyId().substring(req.keyId().indexOf('@') + 1) : "";
        if (!req.keyId()
                .matches(
                        "[A-Za-z0-9._-]{1,64}@[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+")) {
            errors.add(ApiProblem.fieldError(
                    "keyId", "must be <id>@<fqdn>: id of A-Z a-z 0-9 . _ - (1-64), a lower-case DNS name"));
        } else if (fqdn.equals(fqdns.maf(tenant)) || fqdn.equals(fqdns.mef(tenant))) {
            errors.add(ApiProblem.fieldError(
                    "keyId", "the tenant's MAF and MEF FQDNs name registered keys; use another domain"));
        }
        if (req.suid() < 13 || req.suid() > 15) {
            errors.add(
                    ApiProblem.fieldError("suid", "13 (pairwiseESPrimKey), 14 (ESData encryption) or 15 (ESData MAC)"));
        }
        if (req.holders().stream().anyMatch(h -> h == null || h.isBlank() || h.length() > 300)
                || req.holders().stream().distinct().count() != req.holders().size()) {
            errors.add(
                    ApiProblem.fieldError("holders", "1-16 distinct end-point identities of at most 300 characters"));
        }
        if (!req.expiresAt().isAfter(Instant.now())) {
            errors.add(ApiProblem.fieldError("expiresAt", "must be in the future"));
        }
        SecretBytes decoded = ImportedKeyMaterial.decode(
                req.keyValue(), "keyValue", LENGTHS::contains, "16, 24, 32, 48 or 64 bytes", errors);
        if (!errors.isEmpty()) {
            if (decoded != null) {
                decoded.close();
            }
            throw ApiProblem.invalid(errors);
        }
        try (SecretBytes value = decoded) {
            return changes.make(tenant, "esdata.preprovisioned.import", "key/" + req.keyId(), () -> {
                if (!Arrays.asList(policies.get(tenant).allowedSuids).contains(req.suid())) {
                    throw ApiProblem.forbidden("the tenant's policy does not allow SUID " + req.suid());
                }
                if (PreprovisionedKey.findById(new PreprovisionedKey.Key(tenant, req.keyId())) != null) {
                    throw ApiProblem.conflict("key " + req.keyId() + " exists or existed; key ids are never reused");
                }
                PreprovisionedKey k = new PreprovisionedKey();
                k.tenantId = tenant;
                k.keyId = req.keyId();
                k.suid = req.suid();
                k.holders = req.holders().toArray(String[]::new);
                k.keyLength = value.length();
                k.sealedKey = sealer.seal(seal(tenant, req.keyId()), value);
                k.expiresAt = req.expiresAt().truncatedTo(ChronoUnit.MICROS);
                k.createdAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
                k.persistAndFlush();
                return Audited.of(
                        Response.status(201).entity(KeyView.of(k)).build(),
                        value.length() + "-byte SUID " + req.suid() + " key for " + req.holders()
                                + ", sealed under the tenant KEK");
            });
        }
    }

    @DELETE
    @Path("{keyId}")
    @Operation(summary = "Revoke a pre-provisioned key: it is refused at once; the id is never reused")
    public Response revoke(@PathParam("tenant") String tenant, @PathParam("keyId") String keyId) {
        tenants.enter(tenant, AdminAccess.Need.WRITE);
        changes.remove(
                tenant,
                "esdata.preprovisioned.revoke",
                "key/" + keyId,
                () -> {
                    boolean revoked = store.revokePreprovisionedKey(tenant, keyId);
                    if (revoked) { // sessions derived from it end on every replica at the commit
                        revocations.publish(new KeyRevoked(
                                tenant,
                                KeyRevoked.Kind.PREPROVISIONED,
                                List.of(keyId),
                                "esdata.preprovisioned.revoke"));
                    }
                    return revoked;
                },
                "active pre-provisioned key " + keyId);
        return Response.noContent().build();
    }
}
