package io.m2mtrust.mef;

import io.m2mtrust.ca.EstService;
import io.m2mtrust.common.ApiProblem;
import io.m2mtrust.common.CertificateSubject;
import io.m2mtrust.common.SubjectType;
import io.m2mtrust.registration.Registrar;
import io.m2mtrust.registration.RegistrationProcedures;
import io.m2mtrust.registration.RegistrationResource;
import io.m2mtrust.registration.RegistrationStore;
import io.m2mtrust.security.AdminAccess;
import io.m2mtrust.security.TenantDoor;
import io.m2mtrust.tenant.DeviceFqdns;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.vertx.core.json.JsonObject;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.ws.rs.Consumes;
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
import java.util.Optional;

/** MEF Client Commands of a MEF client registration (§8.3.9): queue CERT_PROV, list their states. */
@Path("/api/v1/tenants/{tenant}")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "MEF clients")
@SecurityRequirement(name = "oidc")
public class MefClientResource {

    public record CommandView(
            String cmdId,
            int cmdClassId,
            Map<String, Object> cmdArgs,
            String state,
            int deliveredCount,
            Integer reportedCmdStatusCode,
            Instant createdAt,
            Instant updatedAt) {
        static CommandView of(MefClientCommand c) {
            return new CommandView(
                    c.cmdId,
                    c.cmdClass,
                    new JsonObject(c.cmdArgs).getMap(),
                    c.state.name(),
                    c.deliveredCount,
                    c.reportedCode,
                    c.createdAt,
                    c.updatedAt);
        }
    }

    public record QueueCommand(
            @NotNull @Pattern(regexp = "CERT_PROV", message = "only CERT_PROV is issued by this MEF")
            String cmdClass) {}

    private final TenantDoor door;
    private final AdminAccess access;
    private final MefCommands commands;
    private final EstService est;
    private final DeviceFqdns fqdns;
    private final RegistrationStore registrationRows;
    private final MefStore store;

    MefClientResource(
            TenantDoor door,
            AdminAccess access,
            MefCommands commands,
            EstService est,
            DeviceFqdns fqdns,
            RegistrationStore registrationRows,
            MefStore store) {
        this.store = store;
        this.registrationRows = registrationRows;
        this.door = door;
        this.access = access;
        this.commands = commands;
        this.est = est;
        this.fqdns = fqdns;
    }

    @GET
    @Path("mef-clients/{reg}/commands")
    public List<CommandView> commands(@PathParam("tenant") String tenant, @PathParam("reg") String reg) {
        door.enter(tenant, AdminAccess.Need.READ);
        return QuarkusTransaction.requiringNew()
                .call(() -> store.commands(tenant, reg).stream()
                        .map(CommandView::of)
                        .toList());
    }

    @POST
    @Path("mef-clients/{reg}/commands")
    @Operation(
            summary = "Queue a MEF Client Command (§8.3.9): CERT_PROV tells the client to get a certificate over EST "
                    + "for the identity the MEF associates with it")
    public Response queue(
            @PathParam("tenant") String tenant, @PathParam("reg") String reg, @Valid @NotNull QueueCommand req) {
        door.enter(tenant, AdminAccess.Need.WRITE);
        String clientId = QuarkusTransaction.requiringNew()
                .call(() -> registrationRows.client(tenant, Registrar.MEF, reg))
                .map(RegistrationResource.RegistrationView::clientId)
                .orElseThrow(() -> ApiProblem.notFound("MEF client registration " + reg));
        Optional<CertificateSubject> subject = est.subjectOfClient(tenant, clientId);
        if (subject.isEmpty() || subject.get().type() == SubjectType.FQDN) {
            throw ApiProblem.conflict("no Node-ID, CSE-ID or AE-ID certificate identity is associated with " + clientId
                    + " (set the enrolment group's certificate profile)");
        }
        // sec:certProvArgs (TS-0003 §8.3.9.7): protocol 1 = EST, base URI on this MEF, subject type and id
        JsonObject args = new JsonObject()
                .put(
                        "certProvArgs",
                        new JsonObject()
                                .put("certProvProtocolId", 1)
                                .put("uri", "https://" + fqdns.mef(tenant) + "/.well-known/est")
                                .put("certSubjectType", subject.get().type().certSubjectType())
                                .put("certSubjectId", subject.get().id()));
        try {
            MefClientCommand c =
                    commands.queueCommand(tenant, reg, MefCommands.CLASS_CERT_PROV, args.encode(), access.actor());
            return Response.created(URI.create("/api/v1/tenants/" + tenant + "/mef-clients/" + reg + "/commands"))
                    .entity(CommandView.of(c))
                    .build();
        } catch (RegistrationProcedures.Problem p) {
            throw new ApiProblem(p.status, "not-found", "Not Found", p.getMessage());
        }
    }
}
