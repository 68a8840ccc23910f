package io.m2mtrust.keys;

import io.m2mtrust.common.ApiProblem;
import io.m2mtrust.hsm.KeyPurpose;
import io.m2mtrust.hsm.Pkcs11Token;
import io.m2mtrust.security.AdminAccess;
import io.m2mtrust.security.TenantDoor;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import java.time.Instant;
import java.util.List;

/** Key versions per tenant (metadata only: key values never leave the HSM through this API). */
@Path("/api/v1/tenants/{tenant}/keys")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Keys")
@SecurityRequirement(name = "oidc")
public class KeyResource {

    public record KeyVersionView(
            String purpose,
            int version,
            KeyState state,
            String hsmLabel,
            Instant createdAt,
            Instant retiredAt,
            Boolean presentInHsm) {}

    private final KeyVersionRepository versions;
    private final TenantKeyService keys;
    private final TenantDoor door;
    private final Pkcs11Token token;
    private final AdminAccess access;

    KeyResource(
            KeyVersionRepository versions,
            TenantKeyService keys,
            TenantDoor door,
            Pkcs11Token token,
            AdminAccess access) {
        this.versions = versions;
        this.keys = keys;
        this.door = door;
        this.token = token;
        this.access = access;
    }

    @GET
    @Operation(summary = "Every key version of the tenant, and whether its HSM object exists")
    public List<KeyVersionView> list(@PathParam("tenant") String tenant) {
        door.enter(tenant, AdminAccess.Need.READ);
        return versions.ofTenant(tenant).stream().map(this::view).toList();
    }

    @POST
    @Path("{purpose}/rotate")
    @Operation(summary = "Generate a new primary version in the HSM; older versions keep opening/verifying")
    public KeyVersionView rotate(@PathParam("tenant") String tenant, @PathParam("purpose") String purpose) {
        door.enter(tenant, AdminAccess.Need.WRITE);
        KeyPurpose p = purpose(purpose);
        return view(keys.rotate(tenant, p, access.actor()));
    }

    @POST
    @Path("{purpose}/versions/{version}/retire")
    @Operation(summary = "Retire a non-primary version: its HSM object is destroyed")
    public KeyVersionView retire(
            @PathParam("tenant") String tenant,
            @PathParam("purpose") String purpose,
            @PathParam("version") int version) {
        door.enter(tenant, AdminAccess.Need.WRITE);
        KeyPurpose p = purpose(purpose);
        return view(keys.retire(tenant, p, version, access.actor()));
    }

    private KeyVersionView view(TenantKeyVersion v) {
        Boolean present = v.usableForOpen() ? token.exists(v.label()) : null;
        return new KeyVersionView(v.purpose.code(), v.version, v.state, v.hsmLabel, v.createdAt, v.retiredAt, present);
    }

    private static KeyPurpose purpose(String code) {
        try {
            KeyPurpose p = KeyPurpose.fromCode(code);
            if (TenantKeyService.TENANT_PURPOSES.contains(p) || TenantKeyService.ON_DEMAND_PURPOSES.contains(p)) {
                return p;
            }
        } catch (IllegalArgumentException e) {
            // answered below
        }
        throw ApiProblem.badRequest("invalid-key-purpose", "key purpose must be one of kek, derive, sign, ca, tls");
    }
}
