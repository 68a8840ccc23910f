package io.m2mtrust.mef;

import io.m2mtrust.audit.AuditLog;
import io.m2mtrust.registration.Registrar;
import io.m2mtrust.registration.RegistrationProcedures;
import io.m2mtrust.registration.RegistrationStore;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * MEF Client Commands (TS-0003 §8.3.9): administrators queue commands for a registration; the client
 * retrieves them (ISSUED, then REISSUED) and reports their status, and gets the next one in return.
 */
@ApplicationScoped
public class MefCommands {

    public record CommandUpdate(String cmdId, Integer cmdStatusCode) {}

    /** sec:cmdStatusCode values (TS-0003 §12.3.2.4). */
    public static final int CMD_ISSUED = 10, CMD_REISSUED = 11, CMD_OK = 20;

    static final Set<Integer> CLIENT_REPORTED_CODES =
            Set.of(20, 40, 41, 42, 43, 100, 101, 201, 202, 300, 301, 302, 303, 304, 305);
    /** sec:cmdClassID (§12.3.2.3). */
    public static final int CLASS_NO_MORE_COMMANDS = 0, CLASS_CERT_PROV = 1;

    private final EntityManager em;
    private final RegistrationProcedures registrations;
    private final AuditLog audit;
    private final RegistrationStore registrationRows;
    private final MefStore store;

    MefCommands(
            EntityManager em,
            RegistrationProcedures registrations,
            AuditLog audit,
            RegistrationStore registrationRows,
            MefStore store) {
        this.store = store;
        this.registrationRows = registrationRows;
        this.em = em;
        this.registrations = registrations;
        this.audit = audit;
    }

    // ---------------------------------------------------------------- client commands (§8.3.9)

    /** Queues a command for a registration (administrators); its cmdID is unique within the registration. */
    public MefClientCommand queueCommand(String tenantId, String regId, int cmdClass, String argsJson, String actor) {
        return QuarkusTransaction.requiringNew().call(() -> {
            int cmdNo = registrationRows.takeMefCommandNumber(tenantId, regId);
            MefClientCommand c = new MefClientCommand();
            c.tenantId = tenantId;
            c.regId = regId;
            c.cmdId = "cmd-" + cmdNo;
            c.cmdClass = cmdClass;
            c.cmdArgs = argsJson;
            c.state = MefClientCommand.State.PENDING;
            c.createdAt = now();
            c.updatedAt = c.createdAt;
            em.persist(c);
            em.flush();
            audit.append(
                    tenantId,
                    actor,
                    "mef.command.queue",
                    "mef-client/" + regId + "/" + c.cmdId,
                    AuditLog.Outcome.SUCCESS,
                    "class " + cmdClass + " " + argsJson);
            return c;
        });
    }

    /** MEF Client Command Retrieve (§8.3.9.2): the oldest pending command, ISSUED the first time and REISSUED after. */
    public Map<String, Object> retrieveCommand(String tenantId, String clientId, String regId) {
        return QuarkusTransaction.requiringNew().call(() -> {
            registrations.ownLiveRegistration(Registrar.MEF, tenantId, clientId, regId, true);
            return nextCommand(tenantId, regId);
        });
    }

    /**
     * MEF Client Command Update (§8.3.9.3): the status of the most recently issued command is recorded
     * when the cmdID matches, else discarded; the answer is the next command either way.
     */
    public Map<String, Object> updateCommand(String tenantId, String clientId, String regId, CommandUpdate req) {
        if (req.cmdId() == null || req.cmdId().isBlank() || req.cmdId().length() > 40 || req.cmdStatusCode() == null) {
            throw new RegistrationProcedures.Problem(400, "give cmdId and cmdStatusCode");
        }
        if (!CLIENT_REPORTED_CODES.contains(req.cmdStatusCode())) {
            throw new RegistrationProcedures.Problem(
                    400,
                    "cmdStatusCode " + req.cmdStatusCode() + " is not one a MEF Client reports (TS-0003 §12.3.2.4)");
        }
        return QuarkusTransaction.requiringNew().call(() -> {
            registrations.ownLiveRegistration(Registrar.MEF, tenantId, clientId, regId, true);
            Optional<MefClientCommand> issued = oldestPending(tenantId, regId).filter(c -> c.deliveredCount > 0);
            if (issued.isPresent() && issued.get().cmdId.equals(req.cmdId())) {
                MefClientCommand c = issued.get();
                c.reportedCode = req.cmdStatusCode();
                c.state = req.cmdStatusCode() == CMD_OK ? MefClientCommand.State.DONE : MefClientCommand.State.FAILED;
                c.updatedAt = now();
                em.flush();
                audit.append(
                        tenantId,
                        "mef-client " + clientId,
                        "mef.command.report",
                        "mef-client/" + regId + "/" + c.cmdId,
                        c.state == MefClientCommand.State.DONE ? AuditLog.Outcome.SUCCESS : AuditLog.Outcome.FAILURE,
                        "cmdStatusCode " + req.cmdStatusCode());
            }
            return nextCommand(tenantId, regId);
        });
    }

    private Optional<MefClientCommand> oldestPending(String tenantId, String regId) {
        return store.oldestPendingCommand(tenantId, regId);
    }

    private Map<String, Object> nextCommand(String tenantId, String regId) {
        Optional<MefClientCommand> next = oldestPending(tenantId, regId);
        Map<String, Object> out = new LinkedHashMap<>();
        if (next.isEmpty()) {
            out.put("cmdId", "none");
            out.put("cmdDescription", Map.of("cmdClassId", CLASS_NO_MORE_COMMANDS));
            out.put("cmdStatusCode", CMD_ISSUED);
            return out;
        }
        MefClientCommand c = next.get();
        int code = c.deliveredCount == 0 ? CMD_ISSUED : CMD_REISSUED;
        c.deliveredCount++;
        c.updatedAt = now();
        out.put("cmdId", c.cmdId);
        Map<String, Object> description = new LinkedHashMap<>();
        description.put("cmdClassId", c.cmdClass);
        description.put("cmdArgs", new io.vertx.core.json.JsonObject(c.cmdArgs).getMap());
        out.put("cmdDescription", description);
        out.put("cmdStatusCode", code);
        return out;
    }

    private static Instant now() {
        return Instant.now().truncatedTo(ChronoUnit.MICROS);
    }
}
