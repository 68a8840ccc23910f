package io.m2mtrust.console;

import io.m2mtrust.security.AdminAccess;
import io.m2mtrust.security.TenantDoor;
import jakarta.validation.Valid;
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

/** The crypto-policy simulator's REST face (the console's page calls the same simulator). */
@Path("/api/v1/tenants/{tenant}/policy/simulate")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "Policy")
@SecurityRequirement(name = "oidc")
public class PolicySimulationResource {

    public record SimulateRequest(
            @NotNull CryptoPolicySimulator.Operation operation,
            @NotNull @Size(min = 1, max = 300) String originator,
            @NotNull @Size(min = 1, max = 300) String target) {}

    private final CryptoPolicySimulator simulator;
    private final TenantDoor door;

    PolicySimulationResource(CryptoPolicySimulator simulator, TenantDoor door) {
        this.simulator = simulator;
        this.door = door;
    }

    @POST
    @Operation(
            summary =
                    "Crypto-policy simulator: which SUID, key, algorithm and key version an operation between originator and target would "
                            + "use, or where it would fail and why — a dry run that opens no key and changes nothing (read access suffices)")
    public CryptoPolicySimulator.Simulation simulate(
            @PathParam("tenant") String tenant, @Valid @NotNull SimulateRequest req) {
        door.enter(tenant, AdminAccess.Need.READ);
        return simulator.simulate(tenant, req.operation(), req.originator(), req.target());
    }
}
