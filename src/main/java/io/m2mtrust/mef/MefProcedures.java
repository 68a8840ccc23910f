package io.m2mtrust.mef;

import io.m2mtrust.audit.AuditLog;
import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.keys.KeySealer;
import io.m2mtrust.policy.PolicyService;
import io.m2mtrust.policy.TenantPolicy;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import jakarta.persistence.LockModeType;

import java.security.SecureRandom;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The generic MEF procedures of TS-0003 §8.3.5.2 — client registration, configuration retrieval,
 * registration update and de-registration; key registration, retrieval, update and de-registration —
 * and the MEF Client Command exchange of §8.3.9. Every call comes from an authenticated peer of the MEF
 * listener; its identity is the MEF Client ID. Records of other clients answer 404, as if absent.
 */
@ApplicationScoped
public class MefProcedures {

    /** An answer other than success: HTTP status and a message for the client. */
    public static final class Problem extends RuntimeException {
        public final int status;

        Problem(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    public record ClientRegistration(String mefFqdn, Instant expirationTime, List<String> labels, String adminFqdn) {
    }

    public record ClientRegistrationUpdate(Instant expirationTime, List<String> labels) {
    }

    public record KeyRegistration(String mefFqdn, Instant expirationTime, List<String> labels, String adminFqdn, Integer suid,
                                  List<String> targetIds, String keyValue) {
    }

    public record KeyRegistrationUpdate(Instant expirationTime, List<String> labels, List<String> targetIds) {
    }

    public record CommandUpdate(String cmdId, Integer cmdStatusCode) {
    }

    /** SUIDs of keys an MEF distributes (TS-0004 m2m:suid: 22 SAEF, 23 ESPrim, 24 ESData encryption, 25 ESData signature). */
    public static final Set<Integer> MEF_KEY_SUIDS = Set.of(22, 23, 24, 25);
    static final String SEAL_PURPOSE_PREFIX = "mef-key/";
    static final String CONNECTION_LABEL = "EXPORTER-oneM2M-Connection";

    /** sec:cmdStatusCode values (TS-0003 §12.3.2.4). */
    public static final int CMD_ISSUED = 10, CMD_REISSUED = 11, CMD_OK = 20;
    static final Set<Integer> CLIENT_REPORTED_CODES = Set.of(20, 40, 41, 42, 43, 100, 101, 201, 202, 300, 301, 302, 303, 304, 305);
    /** sec:cmdClassID (§12.3.2.3). */
    public static final int CLASS_NO_MORE_COMMANDS = 0, CLASS_CERT_PROV = 1;

    private static final Pattern FQDN = Pattern.compile("(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?");
    private static final Pattern LABEL = Pattern.compile("[\\x21-\\x7e]{1,64}");
    private static final Pattern TARGET_ID = Pattern.compile("[\\x21-\\x7e]{1,300}");
    private static final Pattern RELATIVE_ID = Pattern.compile("[0-9a-f]{32}");
    private static final int MAX_LABELS = 10;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final EntityManager em;
    private final KeySealer sealer;
    private final PolicyService policies;
    private final AuditLog audit;

    MefProcedures(EntityManager em, KeySealer sealer, PolicyService policies, AuditLog audit) {
        this.em = em;
        this.sealer = sealer;
        this.policies = policies;
        this.audit = audit;
    }

    // ---------------------------------------------------------------- client registration (§8.3.5.2.3–6)

    /** Registers the client (replacing an earlier registration of the same client, with its keys and commands). */
    public Map<String, Object> register(String tenantId, String mefFqdn, String clientId, ClientRegistration req) {
        requireMef(req.mefFqdn(), mefFqdn);
        String admin = requireFqdn("adminFqdn", req.adminFqdn());
        List<String> labels = labels(req.labels());
        return QuarkusTransaction.requiringNew().call(() -> {
            Instant now = now();
            Instant expires = capExpiry(tenantId, req.expirationTime(), now, null);
            int replaced = em.createQuery("delete from MefClientRegistration where tenantId = ?1 and clientId = ?2")
                    .setParameter(1, tenantId).setParameter(2, clientId).executeUpdate();
            MefClientRegistration r = new MefClientRegistration();
            r.tenantId = tenantId;
            r.regId = "mcr-" + randomHex(8);
            r.clientId = clientId;
            r.adminFqdn = admin;
            r.labels = labels.toArray(String[]::new);
            r.expiresAt = expires;
            r.createdAt = now;
            r.updatedAt = now;
            r.nextCmdNo = 1;
            em.persist(r);
            em.flush();
            audit.append(tenantId, "mef-client " + clientId, "mef.client.register", "mef-client/" + r.regId, AuditLog.Outcome.SUCCESS,
                    "until " + expires + (replaced > 0 ? "; replaces the previous registration and its keys" : ""));
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("mefClientRegId", r.regId);
            out.put("labels", List.of(r.labels));
            out.put("expirationTime", r.expiresAt.toString());
            out.put("mefClientId", r.clientId);
            out.put("adminFqdn", r.adminFqdn);
            return out;
        });
    }

    /** MEFClientCfg (sec:clientRegCfg, TS-0003 §12.4): what the MEF holds for this registration. */
    public Map<String, Object> configuration(String tenantId, String mefFqdn, String clientId, String regId) {
        return QuarkusTransaction.requiringNew().call(() -> {
            MefClientRegistration r = ownLiveRegistration(tenantId, clientId, regId, false);
            Map<String, Object> cfg = new LinkedHashMap<>();
            cfg.put("expirationTime", r.expiresAt.toString());
            cfg.put("labels", List.of(r.labels));
            cfg.put("fqdn", mefFqdn);
            cfg.put("adminFqdn", r.adminFqdn);
            return Map.of("mefClientCfg", cfg);
        });
    }

    /** Updates expirationTime and/or labels; the answer carries only what was asked (Table 8.3.5.2.5-2). */
    public Map<String, Object> updateRegistration(String tenantId, String clientId, String regId, ClientRegistrationUpdate req) {
        if (req.expirationTime() == null && req.labels() == null) {
            throw new Problem(400, "give expirationTime or labels");
        }
        List<String> labels = req.labels() == null ? null : labels(req.labels());
        return QuarkusTransaction.requiringNew().call(() -> {
            MefClientRegistration r = ownLiveRegistration(tenantId, clientId, regId, true);
            Map<String, Object> out = new LinkedHashMap<>();
            if (req.expirationTime() != null) {
                r.expiresAt = capExpiry(tenantId, req.expirationTime(), now(), null);
                out.put("expirationTime", r.expiresAt.toString());
            }
            if (labels != null) {
                r.labels = labels.toArray(String[]::new);
                out.put("labels", labels);
            }
            r.updatedAt = now();
            audit.append(tenantId, "mef-client " + clientId, "mef.client.update", "mef-client/" + regId, AuditLog.Outcome.SUCCESS,
                    String.join(", ", out.keySet()));
            return out;
        });
    }

    /** Deletes the registration, and with it the client's key registrations and commands. */
    public void deregister(String tenantId, String clientId, String regId) {
        QuarkusTransaction.requiringNew().run(() -> {
            MefClientRegistration r = ownLiveRegistration(tenantId, clientId, regId, true);
            em.remove(r);
            em.flush();
            audit.append(tenantId, "mef-client " + clientId, "mef.client.deregister", "mef-client/" + regId, AuditLog.Outcome.SUCCESS,
                    "its key registrations and commands are deleted");
        });
    }

    private MefClientRegistration ownLiveRegistration(String tenantId, String clientId, String regId, boolean lock) {
        MefClientRegistration r = regId == null || regId.length() > 40 ? null
                : em.find(MefClientRegistration.class, new MefClientRegistration.Key(tenantId, regId), lock ? LockModeType.PESSIMISTIC_WRITE : LockModeType.NONE);
        if (r == null || !r.clientId.equals(clientId) || r.expired(now())) {
            throw new Problem(404, "no live MEF client registration " + safe(regId) + " of this client");
        }
        return r;
    }

    private MefClientRegistration liveRegistrationOf(String tenantId, String clientId) {
        List<MefClientRegistration> rs = em.createQuery("from MefClientRegistration where tenantId = ?1 and clientId = ?2", MefClientRegistration.class)
                .setParameter(1, tenantId).setParameter(2, clientId).getResultList();
        if (rs.isEmpty() || rs.get(0).expired(now())) {
            throw new Problem(403, "register with the MEF first (MEF Client Registration, TS-0003 §8.3.5.2.3)");
        }
        return rs.get(0);
    }

    // ---------------------------------------------------------------- key registration (§8.3.5.2.7–10)

    /**
     * Registers a key for targets. Without a Key Value both sides take it from the session's
     * {@code EXPORTER-oneM2M-Connection} (interop profile: first 16 bytes = RelativeKeyID, last 32 = key;
     * so one such registration per TLS session); a supplied Key Value (32 or 64 bytes) gets a random
     * RelativeKeyID.
     */
    public Map<String, Object> registerKey(String tenantId, String mefFqdn, String clientId, KeyRegistration req,
                                           java.util.function.Supplier<SecretBytes> connectionExport) {
        requireMef(req.mefFqdn(), mefFqdn);
        String admin = requireFqdn("adminFqdn", req.adminFqdn());
        List<String> labels = labels(req.labels());
        if (req.suid() == null || !MEF_KEY_SUIDS.contains(req.suid())) {
            throw refuse(tenantId, clientId, "mef.key.register", 400, "SUID must be one the MEF distributes: 22, 23, 24 or 25");
        }
        int suid = req.suid();
        TenantPolicy policy = QuarkusTransaction.requiringNew().call(() -> policies.get(tenantId));
        if (!Arrays.asList(policy.allowedSuids).contains(suid)) {
            throw refuse(tenantId, clientId, "mef.key.register", 403, "the tenant policy does not allow SUID " + suid);
        }
        List<String> targets = targets(req.targetIds(), suid, policy);
        SecretBytes key;
        String relativeId;
        String source;
        if (req.keyValue() == null) {
            try (SecretBytes export = connectionExport.get()) {
                byte[] id = export.reveal(b -> Arrays.copyOfRange(b, 0, 16));
                relativeId = HexFormat.of().formatHex(id);
                key = SecretBytes.adopt(export.reveal(b -> Arrays.copyOfRange(b, 16, 48)));
            }
            source = "EXPORTER";
        } else {
            byte[] v;
            try {
                v = java.util.Base64.getDecoder().decode(req.keyValue());
            } catch (IllegalArgumentException e) {
                throw new Problem(400, "keyValue is not base64");
            }
            key = SecretBytes.adopt(v);
            if (key.length() != 32 && key.length() != 64) {
                key.close();
                throw new Problem(400, "keyValue must be 32 or 64 bytes");
            }
            relativeId = randomHex(16);
            source = "SUPPLIED";
        }
        try (SecretBytes k = key) {
            String keyIdentifier = relativeId + "@" + mefFqdn;
            return QuarkusTransaction.requiringNew().call(() -> {
                MefClientRegistration reg = liveRegistrationOf(tenantId, clientId);
                Instant now = now();
                if (em.find(MefKeyRegistration.class, new MefKeyRegistration.Key(tenantId, relativeId)) != null) {
                    throw new Problem(409, "this TLS session's exporter key is already registered; open a new session or supply a Key Value");
                }
                MefKeyRegistration m = new MefKeyRegistration();
                m.tenantId = tenantId;
                m.relativeKeyId = relativeId;
                m.sourceClientId = clientId;
                m.sourceRegId = reg.regId;
                m.adminFqdn = admin;
                m.labels = labels.toArray(String[]::new);
                m.suid = suid;
                m.targetIds = targets.toArray(String[]::new);
                m.keySource = source;
                m.sealedKey = sealer.seal(sealContext(tenantId, keyIdentifier, suid), k);
                m.expiresAt = capExpiry(tenantId, req.expirationTime(), now, reg.expiresAt);
                m.createdAt = now;
                m.updatedAt = now;
                em.persist(m);
                em.flush();
                audit.append(tenantId, "mef-client " + clientId, "mef.key.register", keyIdentifier, AuditLog.Outcome.SUCCESS,
                        "SUID " + suid + " for " + targets + " until " + m.expiresAt + " (" + source.toLowerCase() + ")");
                Map<String, Object> out = keyMetadata(m);
                out.put("relativeKeyId", relativeId);
                out.put("keyIdentifier", keyIdentifier);
                out.put("targetIds", targets);
                return out;
            });
        } catch (RuntimeException e) {
            if (io.m2mtrust.common.Sql.isUniqueViolation(e)) {
                throw new Problem(409, "this TLS session's exporter key is already registered");
            }
            throw e;
        }
    }

    /** Key Retrieval by a Target MEF Client named in targetIDs (§8.3.5.2.8); {@code expectedSuid} optional. */
    public Map<String, Object> retrieveKey(String tenantId, String mefFqdn, String clientId, String relativeKeyId, Integer expectedSuid) {
        if (relativeKeyId == null || !RELATIVE_ID.matcher(relativeKeyId).matches()) {
            throw new Problem(400, "RelativeKeyID is 32 lowercase hex digits");
        }
        String keyIdentifier = relativeKeyId + "@" + mefFqdn;
        return QuarkusTransaction.requiringNew().call(() -> {
            MefKeyRegistration m = em.find(MefKeyRegistration.class, new MefKeyRegistration.Key(tenantId, relativeKeyId));
            if (m == null || !m.expiresAt.isAfter(now())) {
                throw refuse(tenantId, clientId, "mef.key.retrieve", 404, "no live key registration " + keyIdentifier);
            }
            if (!Arrays.asList(m.targetIds).contains(clientId)) {
                throw refuse(tenantId, clientId, "mef.key.retrieve", 403, "this client is not a target of " + keyIdentifier);
            }
            if (expectedSuid != null && expectedSuid != m.suid) {
                throw refuse(tenantId, clientId, "mef.key.retrieve", 403, "the key is registered for SUID " + m.suid + ", not " + expectedSuid);
            }
            Map<String, Object> out = keyMetadata(m);
            try (SecretBytes k = sealer.open(sealContext(tenantId, keyIdentifier, m.suid), m.sealedKey)) {
                out.put("keyValue", k.reveal(b -> java.util.Base64.getEncoder().encodeToString(b)));
            }
            audit.append(tenantId, "mef-client " + clientId, "mef.key.retrieve", keyIdentifier, AuditLog.Outcome.SUCCESS, "SUID " + m.suid);
            return out;
        });
    }

    /** Key Registration Update by the source (§8.3.5.2.9): the answer echoes only what was asked. */
    public Map<String, Object> updateKey(String tenantId, String mefFqdn, String clientId, String relativeKeyId, KeyRegistrationUpdate req) {
        if (req.expirationTime() == null && req.labels() == null && req.targetIds() == null) {
            throw new Problem(400, "give expirationTime, labels or targetIds");
        }
        List<String> labels = req.labels() == null ? null : labels(req.labels());
        return QuarkusTransaction.requiringNew().call(() -> {
            MefKeyRegistration m = ownLiveKey(tenantId, clientId, relativeKeyId);
            Map<String, Object> out = new LinkedHashMap<>();
            if (req.expirationTime() != null) {
                MefClientRegistration reg = em.find(MefClientRegistration.class, new MefClientRegistration.Key(tenantId, m.sourceRegId));
                m.expiresAt = capExpiry(tenantId, req.expirationTime(), now(), reg.expiresAt);
                out.put("expirationTime", m.expiresAt.toString());
            }
            if (labels != null) {
                m.labels = labels.toArray(String[]::new);
                out.put("labels", labels);
            }
            if (req.targetIds() != null) {
                List<String> targets = targets(req.targetIds(), m.suid, policies.get(tenantId));
                m.targetIds = targets.toArray(String[]::new);
                out.put("targetIds", targets);
            }
            m.updatedAt = now();
            audit.append(tenantId, "mef-client " + clientId, "mef.key.update", relativeKeyId + "@" + mefFqdn, AuditLog.Outcome.SUCCESS,
                    String.join(", ", out.keySet()));
            return out;
        });
    }

    public void deregisterKey(String tenantId, String mefFqdn, String clientId, String relativeKeyId) {
        QuarkusTransaction.requiringNew().run(() -> {
            MefKeyRegistration m = ownLiveKey(tenantId, clientId, relativeKeyId);
            em.remove(m);
            audit.append(tenantId, "mef-client " + clientId, "mef.key.deregister", relativeKeyId + "@" + mefFqdn, AuditLog.Outcome.SUCCESS, null);
        });
    }

    private MefKeyRegistration ownLiveKey(String tenantId, String clientId, String relativeKeyId) {
        if (relativeKeyId == null || !RELATIVE_ID.matcher(relativeKeyId).matches()) {
            throw new Problem(400, "RelativeKeyID is 32 lowercase hex digits");
        }
        MefKeyRegistration m = em.find(MefKeyRegistration.class, new MefKeyRegistration.Key(tenantId, relativeKeyId), LockModeType.PESSIMISTIC_WRITE);
        if (m == null || !m.sourceClientId.equals(clientId) || !m.expiresAt.isAfter(now())) {
            throw new Problem(404, "no live key registration " + relativeKeyId + " of this client");
        }
        return m;
    }

    private static Map<String, Object> keyMetadata(MefKeyRegistration m) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("expirationTime", m.expiresAt.toString());
        out.put("sourceMefClientId", m.sourceClientId);
        out.put("labels", List.of(m.labels));
        out.put("adminFqdn", m.adminFqdn);
        out.put("suid", m.suid);
        return out;
    }

    static KeySealer.SealContext sealContext(String tenantId, String keyIdentifier, int suid) {
        return new KeySealer.SealContext(tenantId, keyIdentifier, SEAL_PURPOSE_PREFIX + suid);
    }

    // ---------------------------------------------------------------- client commands (§8.3.9)

    /** Queues a command for a registration (administrators); its cmdID is unique within the registration. */
    public MefClientCommand queueCommand(String tenantId, String regId, int cmdClass, String argsJson, String actor) {
        return QuarkusTransaction.requiringNew().call(() -> {
            MefClientRegistration r = em.find(MefClientRegistration.class, new MefClientRegistration.Key(tenantId, regId), LockModeType.PESSIMISTIC_WRITE);
            if (r == null || r.expired(now())) {
                throw new Problem(404, "no live MEF client registration " + safe(regId));
            }
            MefClientCommand c = new MefClientCommand();
            c.tenantId = tenantId;
            c.regId = regId;
            c.cmdId = "cmd-" + r.nextCmdNo++;
            c.cmdClass = cmdClass;
            c.cmdArgs = argsJson;
            c.state = MefClientCommand.State.PENDING;
            c.createdAt = now();
            c.updatedAt = c.createdAt;
            em.persist(c);
            em.flush();
            audit.append(tenantId, actor, "mef.command.queue", "mef-client/" + regId + "/" + c.cmdId, AuditLog.Outcome.SUCCESS,
                    "class " + cmdClass + " " + argsJson);
            return c;
        });
    }

    /** MEF Client Command Retrieve (§8.3.9.2): the oldest pending command, ISSUED the first time and REISSUED after. */
    public Map<String, Object> retrieveCommand(String tenantId, String clientId, String regId) {
        return QuarkusTransaction.requiringNew().call(() -> {
            ownLiveRegistration(tenantId, clientId, regId, true);
            return nextCommand(tenantId, regId);
        });
    }

    /**
     * MEF Client Command Update (§8.3.9.3): the status of the most recently issued command is recorded
     * when the cmdID matches, else discarded; the answer is the next command either way.
     */
    public Map<String, Object> updateCommand(String tenantId, String clientId, String regId, CommandUpdate req) {
        if (req.cmdId() == null || req.cmdId().isBlank() || req.cmdId().length() > 40 || req.cmdStatusCode() == null) {
            throw new Problem(400, "give cmdId and cmdStatusCode");
        }
        if (!CLIENT_REPORTED_CODES.contains(req.cmdStatusCode())) {
            throw new Problem(400, "cmdStatusCode " + req.cmdStatusCode() + " is not one a MEF Client reports (TS-0003 §12.3.2.4)");
        }
        return QuarkusTransaction.requiringNew().call(() -> {
            ownLiveRegistration(tenantId, clientId, regId, true);
            Optional<MefClientCommand> issued = oldestPending(tenantId, regId).filter(c -> c.deliveredCount > 0);
            if (issued.isPresent() && issued.get().cmdId.equals(req.cmdId())) {
                MefClientCommand c = issued.get();
                c.reportedCode = req.cmdStatusCode();
                c.state = req.cmdStatusCode() == CMD_OK ? MefClientCommand.State.DONE : MefClientCommand.State.FAILED;
                c.updatedAt = now();
                em.flush();
                audit.append(tenantId, "mef-client " + clientId, "mef.command.report", "mef-client/" + regId + "/" + c.cmdId,
                        c.state == MefClientCommand.State.DONE ? AuditLog.Outcome.SUCCESS : AuditLog.Outcome.FAILURE,
                        "cmdStatusCode " + req.cmdStatusCode());
            }
            return nextCommand(tenantId, regId);
        });
    }

    private Optional<MefClientCommand> oldestPending(String tenantId, String regId) {
        return em.createQuery("from MefClientCommand where tenantId = ?1 and regId = ?2 and state = ?3 order by createdAt, cmdId", MefClientCommand.class)
                .setParameter(1, tenantId).setParameter(2, regId).setParameter(3, MefClientCommand.State.PENDING)
                .setMaxResults(1).getResultStream().findFirst();
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

    // ---------------------------------------------------------------- housekeeping

    /** Deletes expired key and client registrations (their sealed keys go with them); audited per tenant. */
    @Scheduled(every = "${m2m.mef.purge-interval:5m}", delayed = "60s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void purgeExpired() {
        QuarkusTransaction.requiringNew().run(() -> {
            Instant now = now();
            @SuppressWarnings("unchecked")
            List<Object[]> keys = em.createNativeQuery("delete from mef_key_registration where expires_at <= ?1 returning tenant_id, relative_key_id")
                    .setParameter(1, now).getResultList();
            @SuppressWarnings("unchecked")
            List<Object[]> regs = em.createNativeQuery("delete from mef_client_registration where expires_at <= ?1 returning tenant_id, reg_id")
                    .setParameter(1, now).getResultList();
            Map<String, int[]> perTenant = new LinkedHashMap<>();
            keys.forEach(r -> perTenant.computeIfAbsent((String) r[0], t -> new int[2])[0]++);
            regs.forEach(r -> perTenant.computeIfAbsent((String) r[0], t -> new int[2])[1]++);
            perTenant.forEach((t, n) -> audit.append(t, "system", "mef.purge", "mef", AuditLog.Outcome.SUCCESS,
                    n[0] + " expired key registrations and " + n[1] + " expired client registrations deleted"));
        });
    }

    // ---------------------------------------------------------------- checks

    private Instant capExpiry(String tenantId, Instant proposed, Instant now, Instant notAfter) {
        if (proposed == null) {
            throw new Problem(400, "expirationTime is required");
        }
        if (!proposed.isAfter(now)) {
            throw new Problem(400, "expirationTime must be in the future");
        }
        TenantPolicy p = policies.get(tenantId);
        Instant cap = now.plusSeconds(p.maxKeyLifetimeSeconds);
        Instant e = proposed.isAfter(cap) ? cap : proposed;
        if (notAfter != null && e.isAfter(notAfter)) {
            e = notAfter; // a key never outlives the registration it was made under
        }
        return e.truncatedTo(ChronoUnit.SECONDS);
    }

    private static List<String> targets(List<String> ids, int suid, TenantPolicy policy) {
        if (ids == null || ids.isEmpty()) {
            throw new Problem(400, "targetIds are required (this MEF does not choose targets)");
        }
        List<String> distinct = ids.stream().distinct().toList();
        for (String id : distinct) {
            if (id == null || !TARGET_ID.matcher(id).matches()) {
                throw new Problem(400, "each target id is 1-300 printable characters");
            }
        }
        // TS-0003 §8.3.5.2.7 step 3: exactly one target for SAEF and ESPrim, 1..n for ESData
        if ((suid == 22 || suid == 23) && distinct.size() != 1) {
            throw new Problem(400, "SUID " + suid + " takes exactly one target");
        }
        if (distinct.size() > policy.maxEsdataTargets) {
            throw new Problem(400, "at most " + policy.maxEsdataTargets + " targets (tenant policy)");
        }
        return distinct;
    }

    private static List<String> labels(List<String> labels) {
        if (labels == null) {
            return List.of();
        }
        if (labels.size() > MAX_LABELS) {
            throw new Problem(400, "at most " + MAX_LABELS + " labels");
        }
        List<String> out = new ArrayList<>();
        for (String l : labels) {
            if (l == null || !LABEL.matcher(l).matches()) {
                throw new Problem(400, "labels are 1-64 printable characters without spaces");
            }
            out.add(l);
        }
        return out;
    }

    private static void requireMef(String given, String mefFqdn) {
        if (given == null || !given.equalsIgnoreCase(mefFqdn)) {
            throw new Problem(400, "mefFqdn must be this MEF's FQDN, " + mefFqdn);
        }
    }

    private static String requireFqdn(String field, String v) {
        if (v == null || !FQDN.matcher(v).matches()) {
            throw new Problem(400, field + " must be a lowercase FQDN");
        }
        return v;
    }

    private Problem refuse(String tenantId, String clientId, String action, int status, String why) {
        try {
            audit.appendIndependently(tenantId, "mef-client " + clientId, action, "mef", AuditLog.Outcome.DENIED, why);
        } catch (RuntimeException ignored) {
            // the refusal stands even when it cannot be chained
        }
        return new Problem(status, why);
    }

    private static String randomHex(int bytes) {
        byte[] b = new byte[bytes];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    private static String safe(String s) {
        return s == null ? "" : s.replaceAll("[^A-Za-z0-9._-]", "?").substring(0, Math.min(40, s.length()));
    }

    private static Instant now() {
        return Instant.now().truncatedTo(ChronoUnit.MICROS);
    }
}
