package io.m2mtrust.registration;

import io.m2mtrust.audit.AdminChanges;
import io.m2mtrust.audit.AuditLog;
import io.m2mtrust.common.ApiProblem;
import io.m2mtrust.security.AdminAccess;
import io.m2mtrust.security.ClientRevoked;
import io.m2mtrust.security.RevocationEffects;
import io.m2mtrust.security.Revocations;
import io.m2mtrust.security.TenantDoor;
import io.m2mtrust.tenant.DeviceFqdns;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import java.time.Instant;
import java.util.List;

/**
 * MEF and MAF client registrations and key registrations per tenant ({@code mef-…} / {@code maf-…}):
 * metadata only, never a Key Value or Km; revoking a client ends its registration and its keys; the
 * lineage of a client is its enrolment (KeID), its Km and its registered keys.
 */
@Path("/api/v1/tenants/{tenant}")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "MEF and MAF registrations")
@SecurityRequirement(name = "oidc")
public class RegistrationResource {

    public record RegistrationView(
            String clientRegId,
            String clientId,
            String adminFqdn,
            List<String> labels,
            Instant expirationTime,
            String keId,
            String assignedSymmKeyId,
            Instant kmExpirationTime,
            Instant createdAt) {
        static RegistrationView of(ClientRegistration r) {
            return new RegistrationView(
                    r.regId,
                    r.clientId,
                    r.adminFqdn,
                    List.of(r.labels),
                    r.expiresAt,
                    r.keId,
                    r.kmId,
                    r.kmExpiresAt,
                    r.createdAt);
        }
    }

    public record KeyView(
            String relativeKeyId,
            String keyIdentifier,
            String sourceClientId,
            int suid,
            List<String> targetIds,
            List<String> labels,
            String adminFqdn,
            String keySource,
            Instant expirationTime,
            Instant createdAt) {}

    private final TenantDoor door;
    private final AdminAccess access;
    private final DeviceFqdns fqdns;
    private final AuditLog audit;
    private final Revocations revocations;
    private final RegistrationStore store;
    private final AdminChanges changes;

    RegistrationResource(
            TenantDoor door,
            AdminAccess access,
            DeviceFqdns fqdns,
            AuditLog audit,
            Revocations revocations,
            RegistrationStore store,
            AdminChanges changes) {
        this.changes = changes;
        this.store = store;
        this.revocations = revocations;
        this.door = door;
        this.access = access;
        this.fqdns = fqdns;
        this.audit = audit;
    }

    @GET
    @Path("{fn: mef|maf}-clients")
    @Operation(summary = "Client registrations with the MEF (§8.3.5.2.3) or the MAF (§8.8.2.3), newest first")
    public List<RegistrationView> registrations(@PathParam("tenant") String tenant, @PathParam("fn") String fn) {
        door.enter(tenant, AdminAccess.Need.READ);
        Registrar r = registrar(fn);
        return QuarkusTransaction.requiringNew()
                .call(() -> store.registrations(tenant, r).stream()
                        .map(RegistrationView::of)
                        .toList());
    }

    @DELETE
    @Path("{fn: mef|maf}-clients/{reg}")
    @Operation(
            summary =
                    "Revoke a client: its registration, its Km (MAF) and its key registrations are deleted, so its keys are no "
                            + "longer retrievable and its KmID no longer completes a handshake")
    public Response revokeClient(
            @PathParam("tenant") String tenant, @PathParam("fn") String fn, @PathParam("reg") String reg) {
        door.enter(tenant, AdminAccess.Need.WRITE);
        Registrar r = registrar(fn);
        int n = QuarkusTransaction.requiringNew().call(() -> {
            ClientRegistration c = store.find(tenant, reg);
            if (c == null || c.registrar != r) {
                return 0;
            }
            int deleted = store.deleteRegistration(tenant, r, reg);
            // cascade: the ESCertKE keys established with the client's identity stop being usable too
            int escertke = revocations
                    .publish(new ClientRevoked(tenant, r.name(), reg, c.clientId))
                    .count(RevocationEffects.ESCERTKE_KEYS);
            audit.append(
                    tenant,
                    access.actor(),
                    r.prefix() + ".client.revoke",
                    r.prefix() + "-client/" + reg,
                    AuditLog.Outcome.SUCCESS,
                    "registration, Km and key registrations deleted"
                            + (escertke > 0 ? "; " + escertke + " ESCertKE keys revoked" : ""));
            return deleted;
        });
        if (n == 0) {
            throw ApiProblem.notFound(r + " client registration " + reg);
        }
        return Response.noContent().build();
    }

    @GET
    @Path("{fn: mef|maf}-keys")
    @Operation(summary = "Key registrations (§8.3.5.2.7 / §8.8.2.7): metadata only, never the Key Value")
    public List<KeyView> keys(@PathParam("tenant") String tenant, @PathParam("fn") String fn) {
        door.enter(tenant, AdminAccess.Need.READ);
        Registrar r = registrar(fn);
        return QuarkusTransaction.requiringNew().call(() -> store.keyViews(tenant, r, null));
    }

    @DELETE
    @Path("{fn: mef|maf}-keys/{relativeKeyId}")
    @Operation(
            summary =
                    "Revoke a key registration: its sealed Key Value is deleted and targets can no longer retrieve it")
    public Response revokeKey(
            @PathParam("tenant") String tenant, @PathParam("fn") String fn, @PathParam("relativeKeyId") String rel) {
        door.enter(tenant, AdminAccess.Need.WRITE);
        Registrar r = registrar(fn);
        changes.remove(
                tenant,
                r.prefix() + ".key.revoke",
                rel + "@" + r.fqdn(fqdns, tenant),
                () -> store.deleteKeyRegistration(tenant, r, rel) > 0,
                "key registration " + rel);
        return Response.noContent().build();
    }

    private static Registrar registrar(String fn) {
        return "maf".equals(fn) ? Registrar.MAF : Registrar.MEF;
    }
}
