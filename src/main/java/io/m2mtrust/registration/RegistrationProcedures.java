package io.m2mtrust.registration;

import io.m2mtrust.audit.AuditLog;
import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.common.Sql;
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
import java.util.regex.Pattern;

/**
 * The generic client and key registration procedures shared by the MEF (TS-0003 §8.3.5.2) and the MAF
 * (§8.8.2): client registration, configuration retrieval, registration update and de-registration; key
 * registration, retrieval, update and de-registration. Every call comes from an authenticated peer of the
 * device listener; its identity is the MEF/MAF Client ID. Records of other clients answer 404, as if absent.
 */
@ApplicationScoped
public class RegistrationProcedures {

    /** An answer other than success: HTTP status and a message for the client. */
    public static final class Problem extends RuntimeException {
        public final int status;

        public Problem(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    /** {@code mefFqdn} for the MEF, {@code mafFqdn} for the MAF; the other must be absent. */
    public record ClientRegistrationRequest(
            String mefFqdn, String mafFqdn, Instant expirationTime, List<String> labels, String adminFqdn) {}

    public record ClientRegistrationUpdate(Instant expirationTime, List<String> labels) {}

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

    /** A Km the MAF fetched from the MEF for a client that authenticated with its KeID (§8.8.2.3, SUID 21). */
    public record RemoteKm(String keId, SecretBytes km, Instant expiresAt) {}

    public static final String CONNECTION_LABEL = "EXPORTER-oneM2M-Connection";
    static final String KM_SEAL_PURPOSE = "Km";

    private static final Pattern FQDN =
            Pattern.compile("(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?");
    private static final Pattern LABEL = Pattern.compile("[\\x21-\\x7e]{1,64}");
    private static final Pattern TARGET_ID = Pattern.compile("[\\x21-\\x7e]{1,300}");
    private static final Pattern RELATIVE_ID = Pattern.compile("[0-9a-f]{32}");
    private static final int MAX_LABELS = 10;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final EntityManager em;
    private final KeySealer sealer;
    private final PolicyService policies;
    private final AuditLog audit;

    RegistrationProcedures(EntityManager em, KeySealer sealer, PolicyService policies, AuditLog audit) {
        this.em = em;
        this.sealer = sealer;
        this.policies = policies;
        this.audit = audit;
    }

    // ---------------------------------------------------------------- client registration (§8.3.5.2.3–6)

    /**
     * Registers the client (replacing an earlier registration of the same client with this function, with
     * its keys and commands). With {@code remoteKm} (MAF only) the Km fetched from the MEF is sealed and a
     * KmID assigned ({@code assignedSymmKeyID}); the registration then lasts no longer than that Km.
     */
    public Map<String, Object> register(
            Registrar registrar,
            String tenantId,
            String fqdn,
            String clientId,
            ClientRegistrationRequest req,
            RemoteKm remoteKm) {
        requireOwnFqdn(registrar, req.mefFqdn(), req.mafFqdn(), fqdn);
        String admin = requireFqdn("adminFqdn", req.adminFqdn());
        List<String> labels = labels(req.labels());
        try {
            return QuarkusTransaction.requiringNew()
                    .call(() -> registerTx(registrar, tenantId, fqdn, clientId, req, remoteKm, admin, labels));
        } catch (RuntimeException e) {
            if (Sql.isUniqueViolation(e)) {
                throw new Problem(409, "another registration of this client completed at the same moment; retry");
            }
            throw e;
        }
    }

    private Map<String, Object> registerTx(
            Registrar registrar,
            String tenantId,
            String fqdn,
            String clientId,
            ClientRegistrationRequest req,
            RemoteKm remoteKm,
            String admin,
            List<String> labels) {
        {
            Instant now = now();
            Instant expires = capExpiry(
                    policies.get(tenantId), req.expirationTime(), now, remoteKm == null ? null : remoteKm.expiresAt());
            // registrations of one client serialise (a row lock would not: the row is replaced, not updated)
            em.createNativeQuery("select pg_advisory_xact_lock(hashtextextended(?1, 0))")
                    .setParameter(1, "registration|" + tenantId + "|" + registrar + "|" + clientId)
                    .getSingleResult();
            // a client re-registering over its KmID session keeps its Km (only a new KeID replaces it)
            ClientRegistration previous = em.createQuery(
                            "from ClientRegistration where tenantId = ?1 and registrar = ?2 and clientId = ?3",
                            ClientRegistration.class)
                    .setParameter(1, tenantId)
                    .setParameter(2, registrar)
                    .setParameter(3, clientId)
                    .getResultStream()
                    .findFirst()
                    .orElse(null);
            if (previous != null) {
                em.detach(previous);
            }
            int replaced = em.createQuery(
                            "delete from ClientRegistration where tenantId = ?1 and registrar = ?2 and clientId = ?3")
                    .setParameter(1, tenantId)
                    .setParameter(2, registrar)
                    .setParameter(3, clientId)
                    .executeUpdate();
            if (remoteKm != null) {
                // a KeID presented again (re-registration) replaces the KmID assigned for it before
                replaced += em.createQuery(
                                "delete from ClientRegistration where tenantId = ?1 and registrar = ?2 and keId = ?3")
                        .setParameter(1, tenantId)
                        .setParameter(2, registrar)
                        .setParameter(3, remoteKm.keId())
                        .executeUpdate();
            }
            em.flush();
            ClientRegistration r = new ClientRegistration();
            r.tenantId = tenantId;
            r.registrar = registrar;
            r.regId = registrar.regIdPrefix() + randomHex(8);
            r.clientId = clientId;
            r.adminFqdn = admin;
            r.labels = labels.toArray(String[]::new);
            r.expiresAt = expires;
            r.createdAt = now;
            r.updatedAt = now;
            r.nextCmdNo = 1;
            if (remoteKm == null && previous != null && previous.kmId != null) {
                r.keId = previous.keId;
                r.kmId = previous.kmId;
                r.sealedKm = previous.sealedKm;
                r.kmExpiresAt = previous.kmExpiresAt;
                if (r.expiresAt.isAfter(r.kmExpiresAt)) {
                    r.expiresAt = r.kmExpiresAt;
                }
            }
            if (remoteKm != null) {
                r.keId = remoteKm.keId();
                r.kmId = randomHex(16) + "@" + fqdn;
                r.sealedKm = sealer.seal(new KeySealer.SealContext(tenantId, r.kmId, KM_SEAL_PURPOSE), remoteKm.km());
                r.kmExpiresAt = remoteKm.expiresAt();
            }
            em.persist(r);
            em.flush();
            String p = registrar.prefix();
            audit.append(
                    tenantId,
                    actor(registrar, clientId),
                    p + ".client.register",
                    p + "-client/" + r.regId,
                    AuditLog.Outcome.SUCCESS,
                    "until " + r.expiresAt
                            + (remoteKm != null
                                    ? "; Km fetched for " + r.keId + ", KmID " + r.kmId
                                    : r.kmId != null ? "; keeps KmID " + r.kmId : "")
                            + (replaced > 0 ? "; replaces the previous registration and its keys" : ""));
            Map<String, Object> out = new LinkedHashMap<>();
            out.put(p + "ClientRegId", r.regId);
            out.put("labels", List.of(r.labels));
            out.put("expirationTime", r.expiresAt.toString());
            out.put(p + "ClientId", r.clientId);
            out.put("adminFqdn", r.adminFqdn);
            if (r.kmId != null) {
                out.put("assignedSymmKeyId", r.kmId);
            }
            return out;
        }
    }

    /** MEFClientCfg / MAFClientCfg (sec:clientRegCfg, TS-0003 §12.4): what the function holds for this registration. */
    public Map<String, Object> configuration(
            Registrar registrar, String tenantId, String fqdn, String clientId, String regId) {
        return QuarkusTransaction.requiringNew().call(() -> {
            ClientRegistration r = ownLiveRegistration(registrar, tenantId, clientId, regId, false);
            Map<String, Object> cfg = new LinkedHashMap<>();
            cfg.put("expirationTime", r.expiresAt.toString());
            cfg.put("labels", List.of(r.labels));
            cfg.put("fqdn", fqdn);
            cfg.put("adminFqdn", r.adminFqdn);
            return Map.of(registrar.prefix() + "ClientCfg", cfg);
        });
    }

    /** Updates expirationTime and/or labels; the answer carries only what was asked (Table 8.3.5.2.5-2). */
    public Map<String, Object> updateRegistration(
            Registrar registrar, String tenantId, String clientId, String regId, ClientRegistrationUpdate req) {
        if (req.expirationTime() == null && req.labels() == null) {
            throw new Problem(400, "give expirationTime or labels");
        }
        List<String> labels = req.labels() == null ? null : labels(req.labels());
        return QuarkusTransaction.requiringNew().call(() -> {
            ClientRegistration r = ownLiveRegistration(registrar, tenantId, clientId, regId, true);
            Map<String, Object> out = new LinkedHashMap<>();
            if (req.expirationTime() != null) {
                r.expiresAt = capExpiry(policies.get(tenantId), req.expirationTime(), now(), r.kmExpiresAt);
                out.put("expirationTime", r.expiresAt.toString());
            }
            if (labels != null) {
                r.labels = labels.toArray(String[]::new);
                out.put("labels", labels);
            }
            r.updatedAt = now();
            audit.append(
                    tenantId,
                    actor(registrar, clientId),
                    registrar.prefix() + ".client.update",
                    registrar.prefix() + "-client/" + regId,
                    AuditLog.Outcome.SUCCESS,
                    String.join(", ", out.keySet()));
            return out;
        });
    }

    /** Deletes the registration, and with it the client's key registrations and commands. */
    public void deregister(Registrar registrar, String tenantId, String clientId, String regId) {
        QuarkusTransaction.requiringNew().run(() -> {
            ClientRegistration r = ownLiveRegistration(registrar, tenantId, clientId, regId, true);
            em.remove(r);
            em.flush();
            audit.append(
                    tenantId,
                    actor(registrar, clientId),
                    registrar.prefix() + ".client.deregister",
                    registrar.prefix() + "-client/" + regId,
                    AuditLog.Outcome.SUCCESS,
                    "its key registrations (and commands) are deleted");
        });
    }

    /** The caller's own unexpired registration with this function; anything else is 404. */
    public ClientRegistration ownLiveRegistration(
            Registrar registrar, String tenantId, String clientId, String regId, boolean lock) {
        ClientRegistration r = regId == null || regId.length() > 40
                ? null
                : em.find(
                        ClientRegistration.class,
                        new ClientRegistration.Key(tenantId, regId),
                        lock ? LockModeType.PESSIMISTIC_WRITE : LockModeType.NONE);
        if (r == null || r.registrar != registrar || !r.clientId.equals(clientId) || r.expired(now())) {
            throw new Problem(404, "no live " + registrar + " client registration " + safe(regId) + " of this client");
        }
        return r;
    }

    private ClientRegistration liveRegistrationOf(Registrar registrar, String tenantId, String clientId) {
        List<ClientRegistration> rs = em.createQuery(
                        "from ClientRegistration where tenantId = ?1 and registrar = ?2 and clientId = ?3",
                        ClientRegistration.class)
                .setParameter(1, tenantId)
                .setParameter(2, registrar)
                .setParameter(3, clientId)
                .getResultList();
        if (rs.isEmpty() || rs.get(0).expired(now())) {
            throw new Problem(
                    403,
                    "register with the " + registrar + " first (Client Registration, TS-0003 "
                            + (registrar == Registrar.MEF ? "§8.3.5.2.3" : "§8.8.2.3") + ")");
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
    public Map<String, Object> registerKey(
            Registrar registrar,
            String tenantId,
            String fqdn,
            String clientId,
            KeyRegistrationRequest req,
            java.util.function.Supplier<SecretBytes> connectionExport) {
        requireOwnFqdn(registrar, req.mefFqdn(), req.mafFqdn(), fqdn);
        String admin = requireFqdn("adminFqdn", req.adminFqdn());
        List<String> labels = labels(req.labels());
        String action = registrar.prefix() + ".key.register";
        if (req.suid() == null || !registrar.suids().contains(req.suid())) {
            throw refuse(
                    registrar,
                    tenantId,
                    clientId,
                    action,
                    400,
                    "SUID must be one the " + registrar + " distributes: "
                            + new java.util.TreeSet<>(registrar.suids()));
        }
        int suid = req.suid();
        TenantPolicy policy = QuarkusTransaction.requiringNew().call(() -> policies.get(tenantId));
        if (!Arrays.asList(policy.allowedSuids).contains(suid)) {
            throw refuse(registrar, tenantId, clientId, action, 403, "the tenant policy does not allow SUID " + suid);
        }
        List<String> targets = targets(registrar, req.targetIds(), suid, policy);
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
            String keyIdentifier = relativeId + "@" + fqdn;
            return QuarkusTransaction.requiringNew().call(() -> {
                ClientRegistration reg = liveRegistrationOf(registrar, tenantId, clientId);
                Instant now = now();
                if (em.find(KeyRegistration.class, new KeyRegistration.Key(tenantId, registrar, relativeId)) != null) {
                    throw new Problem(
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
                m.expiresAt = capExpiry(policy, req.expirationTime(), now, reg.expiresAt);
                m.createdAt = now;
                m.updatedAt = now;
                em.persist(m);
                em.flush();
                audit.append(
                        tenantId,
                        actor(registrar, clientId),
                        action,
                        keyIdentifier,
                        AuditLog.Outcome.SUCCESS,
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
                throw new Problem(409, "this TLS session's exporter key is already registered");
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
        if (relativeKeyId == null || !RELATIVE_ID.matcher(relativeKeyId).matches()) {
            throw new Problem(400, "RelativeKeyID is 32 lowercase hex digits");
        }
        String keyIdentifier = relativeKeyId + "@" + fqdn;
        String action = registrar.prefix() + ".key.retrieve";
        return QuarkusTransaction.requiringNew().call(() -> {
            KeyRegistration m =
                    em.find(KeyRegistration.class, new KeyRegistration.Key(tenantId, registrar, relativeKeyId));
            if (m == null || !m.expiresAt.isAfter(now())) {
                throw refuse(registrar, tenantId, clientId, action, 404, "no live key registration " + keyIdentifier);
            }
            if (!Arrays.asList(m.targetIds).contains(clientId)) {
                throw refuse(
                        registrar, tenantId, clientId, action, 403, "this client is not a target of " + keyIdentifier);
            }
            if (expectedSuid != null && expectedSuid != m.suid) {
                throw refuse(
                        registrar,
                        tenantId,
                        clientId,
                        action,
                        403,
                        "the key is registered for SUID " + m.suid + ", not " + expectedSuid);
            }
            Map<String, Object> out = keyMetadata(registrar, m);
            try (SecretBytes k = sealer.open(sealContext(tenantId, keyIdentifier, m.suid), m.sealedKey)) {
                out.put("keyValue", k.reveal(b -> java.util.Base64.getEncoder().encodeToString(b)));
            }
            audit.append(
                    tenantId,
                    actor(registrar, clientId),
                    action,
                    keyIdentifier,
                    AuditLog.Outcome.SUCCESS,
                    "SUID " + m.suid);
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
            throw new Problem(400, "relativeKeyIds: 1 to " + MAX_BATCH + " items");
        }
        String action = registrar.prefix() + ".key.retrieve";
        List<String> denied = new ArrayList<>();
        Map<String, Object> result = QuarkusTransaction.requiringNew().call(() -> {
            List<Map<String, Object>> items = new ArrayList<>();
            List<String> retrieved = new ArrayList<>();
            Instant now = now();
            for (String rel : req.relativeKeyIds()) {
                Map<String, Object> item = new LinkedHashMap<>();
                item.put("relativeKeyId", rel);
                if (rel == null || !RELATIVE_ID.matcher(rel).matches()) {
                    item.put("status", 400);
                    item.put("error", "RelativeKeyID is 32 lowercase hex digits");
                    items.add(item);
                    continue;
                }
                KeyRegistration m = em.find(KeyRegistration.class, new KeyRegistration.Key(tenantId, registrar, rel));
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
                audit.append(
                        tenantId,
                        actor(registrar, clientId),
                        action,
                        "batch of " + retrieved.size(),
                        AuditLog.Outcome.SUCCESS,
                        abbreviate(String.join(" ", retrieved)));
            }
            return Map.<String, Object>of("results", items);
        });
        if (!denied.isEmpty()) {
            refuse(
                    registrar,
                    tenantId,
                    clientId,
                    action,
                    403,
                    "batch refusals: " + abbreviate(String.join(" ", denied)));
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
            throw new Problem(400, "give expirationTime, labels or targetIds");
        }
        List<String> labels = req.labels() == null ? null : labels(req.labels());
        return QuarkusTransaction.requiringNew().call(() -> {
            TenantPolicy policy = policies.get(tenantId);
            KeyRegistration m = ownLiveKey(registrar, tenantId, clientId, relativeKeyId);
            Map<String, Object> out = new LinkedHashMap<>();
            if (req.expirationTime() != null) {
                ClientRegistration reg =
                        em.find(ClientRegistration.class, new ClientRegistration.Key(tenantId, m.sourceRegId));
                m.expiresAt = capExpiry(policy, req.expirationTime(), now(), reg.expiresAt);
                out.put("expirationTime", m.expiresAt.toString());
            }
            if (labels != null) {
                m.labels = labels.toArray(String[]::new);
                out.put("labels", labels);
            }
            if (req.targetIds() != null) {
                List<String> targets = targets(registrar, req.targetIds(), m.suid, policy);
                m.targetIds = targets.toArray(String[]::new);
                out.put("targetIds", targets);
            }
            m.updatedAt = now();
            audit.append(
                    tenantId,
                    actor(registrar, clientId),
                    registrar.prefix() + ".key.update",
                    relativeKeyId + "@" + fqdn,
                    AuditLog.Outcome.SUCCESS,
                    String.join(", ", out.keySet()));
            return out;
        });
    }

    public void deregisterKey(
            Registrar registrar, String tenantId, String fqdn, String clientId, String relativeKeyId) {
        QuarkusTransaction.requiringNew().run(() -> {
            KeyRegistration m = ownLiveKey(registrar, tenantId, clientId, relativeKeyId);
            em.remove(m);
            audit.append(
                    tenantId,
                    actor(registrar, clientId),
                    registrar.prefix() + ".key.deregister",
                    relativeKeyId + "@" + fqdn,
                    AuditLog.Outcome.SUCCESS,
                    null);
        });
    }

    private KeyRegistration ownLiveKey(Registrar registrar, String tenantId, String clientId, String relativeKeyId) {
        if (relativeKeyId == null || !RELATIVE_ID.matcher(relativeKeyId).matches()) {
            throw new Problem(400, "RelativeKeyID is 32 lowercase hex digits");
        }
        KeyRegistration m = em.find(
                KeyRegistration.class,
                new KeyRegistration.Key(tenantId, registrar, relativeKeyId),
                LockModeType.PESSIMISTIC_WRITE);
        if (m == null || !m.sourceClientId.equals(clientId) || !m.expiresAt.isAfter(now())) {
            throw new Problem(404, "no live key registration " + relativeKeyId + " of this client");
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

    /** AAD of a registered Key Value: tenant, Key Identifier (which names the function's FQDN) and SUID. */
    public static KeySealer.SealContext sealContext(String tenantId, String keyIdentifier, int suid) {
        return new KeySealer.SealContext(tenantId, keyIdentifier, "registered-key/" + suid);
    }

    /** The Km of a MAF registration, opened in the HSM only for the handshake that needs it. */
    public SecretBytes openKm(ClientRegistration r) {
        return sealer.open(new KeySealer.SealContext(r.tenantId, r.kmId, KM_SEAL_PURPOSE), r.sealedKm);
    }

    // ---------------------------------------------------------------- housekeeping

    /** Deletes expired key and client registrations (their sealed keys go with them); audited per tenant. */
    @Scheduled(
            every = "${m2m.registrations.purge-interval:5m}",
            delayed = "60s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    public void purgeExpired() {
        QuarkusTransaction.requiringNew().run(() -> {
            Instant now = now();
            @SuppressWarnings("unchecked")
            List<Object[]> keys = em.createNativeQuery(
                            "delete from key_registration where expires_at <= ?1 returning tenant_id, relative_key_id")
                    .setParameter(1, now)
                    .getResultList();
            @SuppressWarnings("unchecked")
            List<Object[]> regs = em.createNativeQuery(
                            "delete from client_registration where expires_at <= ?1 returning tenant_id, reg_id")
                    .setParameter(1, now)
                    .getResultList();
            Map<String, int[]> perTenant = new LinkedHashMap<>();
            keys.forEach(r -> perTenant.computeIfAbsent((String) r[0], t -> new int[2])[0]++);
            regs.forEach(r -> perTenant.computeIfAbsent((String) r[0], t -> new int[2])[1]++);
            perTenant.forEach((t, n) -> audit.append(
                    t,
                    "system",
                    "registrations.purge",
                    "registrations",
                    AuditLog.Outcome.SUCCESS,
                    n[0] + " expired key registrations and " + n[1] + " expired client registrations deleted"));
        });
    }

    // ---------------------------------------------------------------- checks

    private Instant capExpiry(TenantPolicy p, Instant proposed, Instant now, Instant notAfter) {
        if (proposed == null) {
            throw new Problem(400, "expirationTime is required");
        }
        if (!proposed.isAfter(now)) {
            throw new Problem(400, "expirationTime must be in the future");
        }
        Instant cap = now.plusSeconds(p.maxKeyLifetimeSeconds);
        Instant e = proposed.isAfter(cap) ? cap : proposed;
        if (notAfter != null && e.isAfter(notAfter)) {
            e = notAfter; // a key never outlives the registration it was made under
        }
        return e.truncatedTo(ChronoUnit.SECONDS);
    }

    private static List<String> targets(Registrar registrar, List<String> ids, int suid, TenantPolicy policy) {
        if (ids == null || ids.isEmpty()) {
            throw new Problem(400, "targetIds are required (this MEF does not choose targets)");
        }
        List<String> distinct = ids.stream().distinct().toList();
        for (String id : distinct) {
            if (id == null || !TARGET_ID.matcher(id).matches()) {
                throw new Problem(400, "each target id is 1-300 printable characters");
            }
        }
        // TS-0003 §8.3.5.2.7 / §8.8.2.7 step 3: exactly one target for SAEF and ESPrim, 1..n for ESData
        if (registrar.singleTarget(suid) && distinct.size() != 1) {
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

    private static void requireOwnFqdn(Registrar registrar, String mefFqdn, String mafFqdn, String fqdn) {
        String given = registrar == Registrar.MEF ? mefFqdn : mafFqdn;
        String other = registrar == Registrar.MEF ? mafFqdn : mefFqdn;
        if (other != null) {
            throw new Problem(
                    400,
                    "unknown field " + (registrar == Registrar.MEF ? "mafFqdn" : "mefFqdn") + " for the " + registrar);
        }
        if (given == null || !given.equalsIgnoreCase(fqdn)) {
            throw new Problem(400, registrar.prefix() + "Fqdn must be this " + registrar + "'s FQDN, " + fqdn);
        }
    }

    private static String requireFqdn(String field, String v) {
        if (v == null || !FQDN.matcher(v).matches()) {
            throw new Problem(400, field + " must be a lowercase FQDN");
        }
        return v;
    }

    private static String actor(Registrar registrar, String clientId) {
        return registrar.prefix() + "-client " + clientId;
    }

    private Problem refuse(
            Registrar registrar, String tenantId, String clientId, String action, int status, String why) {
        try {
            audit.appendIndependently(
                    tenantId, actor(registrar, clientId), action, registrar.prefix(), AuditLog.Outcome.DENIED, why);
        } catch (RuntimeException ignored) {
            // the refusal stands even when it cannot be chained
        }
        return new Problem(status, why);
    }

    static String randomHex(int bytes) {
        byte[] b = new byte[bytes];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    static String safe(String s) {
        return s == null ? "" : s.replaceAll("[^A-Za-z0-9._-]", "?").substring(0, Math.min(40, s.length()));
    }

    static Instant now() {
        return Instant.now().truncatedTo(ChronoUnit.MICROS);
    }
}
