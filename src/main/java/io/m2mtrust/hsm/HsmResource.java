package io.m2mtrust.hsm;

import io.m2mtrust.security.AdminAccess;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import java.util.Map;
import java.util.TreeMap;

/** Token status for operators: up/down, and how many objects each owner has (the count that must stay small). */
@Path("/api/v1/hsm")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "HSM")
@SecurityRequirement(name = "oidc")
public class HsmResource {

    public record HsmStatus(
            boolean up,
            String reason,
            long reopens,
            String provider,
            Integer objects,
            Map<String, Integer> objectsPerOwner) {}

    private final Pkcs11Token token;
    private final AdminAccess access;

    HsmResource(Pkcs11Token token, AdminAccess access) {
        this.token = token;
        this.access = access;
    }

    @GET
    @Operation(summary = "HSM token status (platform-admin)")
    public HsmStatus status() {
        access.requirePlatformAdmin();
        boolean up = token.probe();
        if (!up) {
            return new HsmStatus(
                    false, token.downReason().orElse("unknown"), token.reopenCount(), null, null, Map.of());
        }
        Map<String, Integer> perOwner = new TreeMap<>();
        for (HsmKeyLabel l : token.labels(null)) {
            perOwner.merge(l.owner(), 1, Integer::sum);
        }
        int total = perOwner.values().stream().mapToInt(Integer::intValue).sum();
        return new HsmStatus(true, null, token.reopenCount(), token.provider().getName(), total, perOwner);
    }
}
