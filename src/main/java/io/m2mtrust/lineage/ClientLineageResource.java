package io.m2mtrust.lineage;

import io.m2mtrust.common.ApiProblem;
import io.m2mtrust.escertke.EscertkeStore;
import io.m2mtrust.mef.EnrolmentStore;
import io.m2mtrust.registration.Registrar;
import io.m2mtrust.registration.RegistrationResource.RegistrationView;
import io.m2mtrust.registration.RegistrationStore;
import io.m2mtrust.security.AdminAccess;
import io.m2mtrust.security.TenantDoor;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import java.util.LinkedHashMap;
import java.util.Map;

/** The key lineage of one MEF or MAF client registration, read from the features that hold each part. */
@Path("/api/v1/tenants/{tenant}/{fn: mef|maf}-clients/{reg}/lineage")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "MEF and MAF registrations")
@SecurityRequirement(name = "oidc")
public class ClientLineageResource {

    private final RegistrationStore registrations;
    private final EnrolmentStore enrolments;
    private final EscertkeStore escertkeKeys;
    private final TenantDoor door;

    ClientLineageResource(
            RegistrationStore registrations, EnrolmentStore enrolments, EscertkeStore escertkeKeys, TenantDoor door) {
        this.registrations = registrations;
        this.enrolments = enrolments;
        this.escertkeKeys = escertkeKeys;
        this.door = door;
    }

    @GET
    @Operation(
            summary = "Key lineage of a client: its enrolment (KeID, enrolee, expiry) → Km (MAF) → its registered keys")
    public Map<String, Object> lineage(
            @PathParam("tenant") String tenant, @PathParam("fn") String fn, @PathParam("reg") String reg) {
        door.enter(tenant, AdminAccess.Need.READ);
        Registrar r = "maf".equals(fn) ? Registrar.MAF : Registrar.MEF;
        return QuarkusTransaction.requiringNew().call(() -> {
            RegistrationView c = registrations
                    .client(tenant, r, reg)
                    .orElseThrow(() -> ApiProblem.notFound(r + " client registration " + reg));
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("client", c);
            out.put(
                    "enrolments",
                    enrolments.byKeIdOrEnrolee(tenant, c.keId(), c.clientId(), 10).stream()
                            .map(e -> Map.of(
                                    "keId", e.keId(),
                                    "enroleeId", e.enroleeId(),
                                    "status", e.status(),
                                    "createdAt", e.createdAt(),
                                    "expirationTime", e.expiresAt()))
                            .toList());
            out.put("keys", registrations.keyViews(tenant, r, reg));
            // pairwise keys established by ESCertKE with this client's identity (as either side)
            out.put(
                    "escertkeKeys",
                    escertkeKeys.summariesOfIdentity(tenant, c.clientId(), 100).stream()
                            .map(k -> {
                                Map<String, Object> m = new LinkedHashMap<>();
                                m.put("keyId", k.keyId());
                                m.put("role", k.role());
                                m.put(
                                        "peerIdentity",
                                        k.localIdentity().equals(c.clientId()) ? k.peerIdentity() : k.localIdentity());
                                m.put("expirationTime", k.expiresAt());
                                m.put("revokedAt", k.revokedAt());
                                return m;
                            })
                            .toList());
            return out;
        });
    }
}
