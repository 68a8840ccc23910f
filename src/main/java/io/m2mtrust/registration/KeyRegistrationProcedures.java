package io.m2mtrust.registration;

import io.m2mtrust.audit.AuditLog;
import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.common.Sql;
import io.m2mtrust.keys.KeySealer;
import io.m2mtrust.policy.PolicyService;
import io.m2mtrust.policy.TenantPolicy;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import jakarta.persistence.LockModeType;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The key registration procedures of the MEF (TS-0003 §8.3.5.2.7–10) and the MAF (§8.8.2.7–10): registration,
 * retrieval (also in batches), update and de-registration of keys for target clients. The Key Value is sealed under
 * the tenant KEK with AAD (tenant, Key Identifier, SUID); records of other clients answer 404, as if absent.
 */
@ApplicationScoped
public class KeyRegistrationProcedures {

    private final EntityManager em;
    private final KeySealer sealer;
    private final PolicyService policies;
    private final AuditLog audit;
    private final RegistrationProcedures clients;
    private final RegistrationStore store;

    KeyRegistrationProcedures(
            EntityManager em,
            KeySealer sealer,
            PolicyService policies,
            AuditLog audit,
            RegistrationProcedures clients,
            RegistrationStore store) {
        this.store = store;
        this.em = em;
        this.sealer = sealer;
        this.policies = policies;
        this.audit = audit;
        this.clients = clients;
    }

    public record KeyRegistrationRequest(
            String mefFqdn,
            String mafFqdn,
            Instant expirationTime,
            List<String> labels,
            String adminFqdn,
            Integer suid,
            List<String> targetIds,
            String keyValue) {}

    public record KeyRegistrationUpdate(Instant expirationTime, List<String> labels, List<String> targetIds) {}

    // ---------------------------------------------------------------- key registration (§8.3.5.2.7–10)

    /**
     * Registers a key for targets. Without a Key Value both sides take it from the session's
     * {@code EXPORTER-oneM2M-Connection} (interop profile: first 16 bytes = RelativeKeyID, last 32 = key;
     * so one such registration per TLS session); a supplied Key Value (32 or 64 bytes) gets a random
     * RelativeKeyID.
     */
    public Map<String, Object> registerKey(
            Registrar registrar,
            String tenantId,
            String fqdn,
            String clientId,
            KeyRegistrationRequest req,
            java.util.function.Supplier<SecretBytes> connectionExport) {
        RegistrationRules.requireOwnFqdn(registrar, req.mefFqdn(), req.mafFqdn(), fqdn);
        String admin = RegistrationRules.requireFqdn("adminFqdn", req.adminFqdn());
        List<String> labels = RegistrationRules.labels(req.labels());
        String action = registrar.prefix() + ".key.register";
        var act = new RegistrationRules.ClientAction(audit, registrar, tenantId, clientId, action);
        if (req.suid() == null || !registrar.suids().contains(req.suid())) {
            throw act.refuse(
                    400,
                    "SUID must be one the " + registrar + " distributes: "
                            + new java.util.TreeSet<>(registrar.suids()));
        }
        int suid = req.suid();
        TenantPolicy policy = policies.current(tenantId);
        if (!Arrays.asList(policy.allowedSuids).contains(suid)) {
            throw act.refuse(403, "the tenant policy does not allow SUID " + suid);
        }
        List<String> targets = RegistrationRules.targets(registrar, req.targetIds(), suid, policy);
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
            key = RegistrationRules.suppliedKey(req.keyValue());
            relativeId = RegistrationRules.randomHex(16);
            source = "SUPPLIED";
        }
        try (SecretBytes k = key) {
            String keyIdentifier = relativeId + "@" + fqdn;
            return QuarkusTransaction.requiringNew().call(() -> {
                ClientRegistration reg = clients.liveRegistrationOf(registrar, tenantId, clientId);
                Instant now = RegistrationRules.now();
                if (em.find(KeyRegistration.class, new KeyRegistration.Key(tenantId, registrar, relativeId)) != null) {
                    throw new RegistrationProcedures.Problem(
                            409,
                            "this TLS session's exporter key is already registered; open a new session or supply a Key Value");
                }
                KeyRegistration m = new KeyRegistration();
                m.tenantId = tenantId;
                m.registrar = registrar;
                m.relativeKeyId = relativeId;
                m.sourceClientId = clientId;
                m.sourceRegId = reg.regId;
                m.adminFqdn = admin;
                m.labels = labels.toArray(String[]::new);
                m.suid = suid;
                m.targetIds = targets.toArray(String[]::new);
                m.keySource = source;
                m.sealedKey = sealer.seal(sealContext(tenantId, keyIdentifier, suid), k);
                m.expiresAt = RegistrationRules.capExpiry(policy, req.expirationTime(), now, reg.expiresAt);
                m.createdAt = now;
                m.updatedAt = now;
                em.persist(m);
                em.flush();
                act.granted(
                        keyIdentifier,
                        "SUID " + suid + " for " + targets + " until " + m.expiresAt + " (" + source.toLowerCase()
                                + ")");
                Map<String, Object> out = keyMetadata(registrar, m);
                out.put("relativeKeyId", relativeId);
                out.put("keyIdentifier", keyIdentifier);
                out.put("targetIds", targets);
                return out;
            });
        } catch (RuntimeException e) {
            if (Sql.isUniqueViolation(e)) {
                throw new RegistrationProcedures.Problem(409, "this TLS session's exporter key is already registered");
            }
            throw e;
        }
    }

    /** Key Retrieval by a target named in targetIDs (§8.3.5.2.8 / §8.8.2.8); {@code expectedSuid} optional. */
    public Map<String, Object> retrieveKey(
            Registrar registrar,
            String tenantId,
            String fqdn,
            String clientId,
            String relativeKeyId,
            Integer expectedSuid) {
        if (relativeKeyId == null
                || !RegistrationRules.RELATIVE_ID.matcher(relativeKeyId).matches()) {
            throw new RegistrationProcedures.Problem(400, "RelativeKeyID is 32 lowercase hex digits");
        }
        String keyIdentifier = relativeKeyId + "@" + fqdn;
        String action = registrar.prefix() + ".key.retrieve";
        var act = new RegistrationRules.ClientAction(audit, registrar, tenantId, clientId, action);
        return QuarkusTransaction.requiringNew().call(() -> {
            KeyRegistration m =
                    em.find(KeyRegistration.class, new KeyRegistration.Key(tenantId, registrar, relativeKeyId));
            if (m == null || !m.expiresAt.isAfter(RegistrationRules.now())) {
                throw act.refuse(404, "no live key registration " + keyIdentifier);
            }
            if (!Arrays.asList(m.targetIds).contains(clientId)) {
                throw act.refuse(403, "this client is not a target of " + keyIdentifier);
            }
            if (expectedSuid != null && expectedSuid != m.suid) {
                throw act.refuse(403, "the key is registered for SUID " + m.suid + ", not " + expectedSuid);
            }
            Map<String, Object> out = keyMetadata(registrar, m);
            try (SecretBytes k = sealer.open(sealContext(tenantId, keyIdentifier, m.suid), m.sealedKey)) {
                out.put("keyValue", k.reveal(b -> java.util.Base64.getEncoder().encodeToString(b)));
            }
            act.granted(keyIdentifier, "SUID " + m.suid);
            return out;
        });
    }

    public record BatchRetrieval(List<String> relativeKeyIds, Integer suid) {}

    /** Most keys one batch retrieval names. */
    public static final int MAX_BATCH = 100;

    /**
     * Batch Key Retrieval for gateways (one round trip, one transaction): each item gets its own result —
     * 200 with the key, or 400/403/404 with the reason — under the same rules as a single retrieval. One
     * audit event lists the keys retrieved, another the refusals.
     */
    public Map<String, Object> retrieveKeys(
            Registrar registrar, String tenantId, String fqdn, String clientId, BatchRetrieval req) {
        if (req.relativeKeyIds() == null
                || req.relativeKeyIds().isEmpty()
                || req.relativeKeyIds().size() > MAX_BATCH) {
            throw new RegistrationProcedures.Problem(400, "relativeKeyIds: 1 to " + MAX_BATCH + " items");
        }
        String action = registrar.prefix() + ".key.retrieve";
        var act = new RegistrationRules.ClientAction(audit, registrar, tenantId, clientId, action);
        List<String> denied = new ArrayList<>();
        Map<String, Object> result = QuarkusTransaction.requiringNew().call(() -> {
            List<Map<String, Object>> items = new ArrayList<>();
            List<String> retrieved = new ArrayList<>();
            Instant now = RegistrationRules.now();
            // one query for the whole batch, not one per item
            Map<String, KeyRegistration> found = store.keyRegistrations(
                    tenantId,
                    registrar,
                    req.relativeKeyIds().stream()
                            .filter(rel -> rel != null
                                    && RegistrationRules.RELATIVE_ID
                                            .matcher(rel)
                                            .matches())
                            .toList());
            for (String rel : req.relativeKeyIds()) {
                Map<String, Object> item = new LinkedHashMap<>();
                item.put("relativeKeyId", rel);
                if (rel == null || !RegistrationRules.RELATIVE_ID.matcher(rel).matches()) {
                    item.put("status", 400);
                    item.put("error", "RelativeKeyID is 32 lowercase hex digits");
                    items.add(item);
                    continue;
                }
                KeyRegistration m = found.get(rel);
                String why = null;
                int status = 200;
                if (m == null || !m.expiresAt.isAfter(now)) {
                    status = 404;
                    why = "no live key registration";
                } else if (!Arrays.asList(m.targetIds).contains(clientId)) {
                    status = 403;
                    why = "this client is not a target";
                } else if (req.suid() != null && req.suid() != m.suid) {
                    status = 403;
                    why = "the key is registered for SUID " + m.suid;
                }
                item.put("status", status);
                if (why != null) {
                    item.put("error", why);
                    denied.add(rel + " (" + status + ")");
                } else {
                    String keyIdentifier = rel + "@" + fqdn;
                    item.putAll(keyMetadata(registrar, m));
                    try (SecretBytes k = sealer.open(sealContext(tenantId, keyIdentifier, m.suid), m.sealedKey)) {
                        item.put(
                                "keyValue",
                                k.reveal(b -> java.util.Base64.getEncoder().encodeToString(b)));
                    }
                    retrieved.add(keyIdentifier);
                }
                items.add(item);
            }
            if (!retrieved.isEmpty()) {
                act.granted("batch of " + retrieved.size(), abbreviate(String.join(" ", retrieved)));
            }
            return Map.<String, Object>of("results", items);
        });
        if (!denied.isEmpty()) {
            act.refuse(403, "batch refusals: " + abbreviate(String.join(" ", denied)));
        }
        return result;
    }

    private static String abbreviate(String s) {
        return s.length() <= 900 ? s : s.substring(0, 900) + "…";
    }

    /** Key Registration Update by the source (§8.3.5.2.9): the answer echoes only what was asked. */
    public Map<String, Object> updateKey(
            Registrar registrar,
            String tenantId,
            String fqdn,
            String clientId,
            String relativeKeyId,
            KeyRegistrationUpdate req) {
        if (req.expirationTime() == null && req.labels() == null && req.targetIds() == null) {
            throw new RegistrationProcedures.Problem(400, "give expirationTime, labels or targetIds");
        }
        List<String> labels = req.labels() == null ? null : RegistrationRules.labels(req.labels());
        return QuarkusTransaction.requiringNew().call(() -> {
            TenantPolicy policy = policies.get(tenantId);
            KeyRegistration m = ownLiveKey(registrar, tenantId, clientId, relativeKeyId);
            Map<String, Object> out = new LinkedHashMap<>();
            if (req.expirationTime() != null) {
                ClientRegistration reg =
                        em.find(ClientRegistration.class, new ClientRegistration.Key(tenantId, m.sourceRegId));
                m.expiresAt = RegistrationRules.capExpiry(
                        policy, req.expirationTime(), RegistrationRules.now(), reg.expiresAt);
                out.put("expirationTime", m.expiresAt.toString());
            }
            if (labels != null) {
                m.labels = labels.toArray(String[]::new);
                out.put("labels", labels);
            }
            if (req.targetIds() != null) {
                List<String> targets = RegistrationRules.targets(registrar, req.targetIds(), m.suid, policy);
                m.targetIds = targets.toArray(String[]::new);
                out.put("targetIds", targets);
            }
            m.updatedAt = RegistrationRules.now();
            new RegistrationRules.ClientAction(audit, registrar, tenantId, clientId, registrar.prefix() + ".key.update")
                    .granted(relativeKeyId + "@" + fqdn, String.join(", ", out.keySet()));
            return out;
        });
    }

    public void deregisterKey(
            Registrar registrar, String tenantId, String fqdn, String clientId, String relativeKeyId) {
        QuarkusTransaction.requiringNew().run(() -> {
            KeyRegistration m = ownLiveKey(registrar, tenantId, clientId, relativeKeyId);
            em.remove(m);
            new RegistrationRules.ClientAction(
                            audit, registrar, tenantId, clientId, registrar.prefix() + ".key.deregister")
                    .granted(relativeKeyId + "@" + fqdn, null);
        });
    }

    private KeyRegistration ownLiveKey(Registrar registrar, String tenantId, String clientId, String relativeKeyId) {
        if (relativeKeyId == null
                || !RegistrationRules.RELATIVE_ID.matcher(relativeKeyId).matches()) {
            throw new RegistrationProcedures.Problem(400, "RelativeKeyID is 32 lowercase hex digits");
        }
        KeyRegistration m = em.find(
                KeyRegistration.class,
                new KeyRegistration.Key(tenantId, registrar, relativeKeyId),
                LockModeType.PESSIMISTIC_WRITE);
        if (m == null || !m.sourceClientId.equals(clientId) || !m.expiresAt.isAfter(RegistrationRules.now())) {
            throw new RegistrationProcedures.Problem(
                    404, "no live key registration " + relativeKeyId + " of this client");
        }
        return m;
    }

    private static Map<String, Object> keyMetadata(Registrar registrar, KeyRegistration m) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("expirationTime", m.expiresAt.toString());
        out.put(registrar == Registrar.MEF ? "sourceMefClientId" : "sourceMafClientId", m.sourceClientId);
        out.put("labels", List.of(m.labels));
        out.put("adminFqdn", m.adminFqdn);
        out.put("suid", m.suid);
        return out;
    }

    /** AAD of a registered Key Value: tenant, Key Identifier (which names the function's RegistrationRules.FQDN) and SUID. */
    public static KeySealer.SealContext sealContext(String tenantId, String keyIdentifier, int suid) {
        return new KeySealer.SealContext(tenantId, keyIdentifier, "registered-key/" + suid);
    }
}
