package io.m2mtrust.registration;

import io.m2mtrust.audit.AuditLog;
import io.m2mtrust.cluster.NotJobLeader;
import io.m2mtrust.common.LockStore;
import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.common.Sql;
import io.m2mtrust.keys.KeySealer;
import io.m2mtrust.policy.PolicyService;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import jakarta.persistence.LockModeType;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The client registration procedures shared by the MEF (TS-0003 §8.3.5.2.3–6) and the MAF (§8.8.2.3–6): client
 * registration, configuration retrieval, registration update and de-registration (key registration is {@link
 * KeyRegistrationProcedures}). Every call comes from an authenticated peer of the
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

    /** A Km the MAF fetched from the MEF for a client that authenticated with its KeID (§8.8.2.3, SUID 21). */
    public record RemoteKm(String keId, SecretBytes km, Instant expiresAt) {}

    public static final String CONNECTION_LABEL = "EXPORTER-oneM2M-Connection";
    static final String KM_SEAL_PURPOSE = "Km";

    private final EntityManager em;
    private final KeySealer sealer;
    private final PolicyService policies;
    private final AuditLog audit;
    private final RegistrationStore store;
    private final LockStore locks;

    RegistrationProcedures(
            EntityManager em,
            KeySealer sealer,
            PolicyService policies,
            AuditLog audit,
            RegistrationStore store,
            LockStore locks) {
        this.locks = locks;
        this.store = store;
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
        RegistrationRules.requireOwnFqdn(registrar, req.mefFqdn(), req.mafFqdn(), fqdn);
        String admin = RegistrationRules.requireFqdn("adminFqdn", req.adminFqdn());
        List<String> labels = RegistrationRules.labels(req.labels());
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
            Instant now = RegistrationRules.now();
            Instant expires = RegistrationRules.capExpiry(
                    policies.current(tenantId),
                    req.expirationTime(),
                    now,
                    remoteKm == null ? null : remoteKm.expiresAt());
            // registrations of one client serialise (a row lock would not: the row is replaced, not updated)
            locks.lock("registration|" + tenantId + "|" + registrar + "|" + clientId);
            // a client re-registering over its KmID session keeps its Km (only a new KeID replaces it)
            ClientRegistration previous =
                    store.registrationOf(tenantId, registrar, clientId).orElse(null);
            if (previous != null) {
                em.detach(previous);
            }
            // a KeID presented again (re-registration) replaces the KmID assigned for it before
            int replaced = store.deleteRegistrationsOf(
                    tenantId, registrar, clientId, remoteKm == null ? null : remoteKm.keId());
            em.flush();
            ClientRegistration r = new ClientRegistration();
            r.tenantId = tenantId;
            r.registrar = registrar;
            r.regId = registrar.regIdPrefix() + RegistrationRules.randomHex(8);
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
                r.kmId = RegistrationRules.randomHex(16) + "@" + fqdn;
                r.sealedKm = sealer.seal(new KeySealer.SealContext(tenantId, r.kmId, KM_SEAL_PURPOSE), remoteKm.km());
                r.kmExpiresAt = remoteKm.expiresAt();
            }
            em.persist(r);
            em.flush();
            String p = registrar.prefix();
            new RegistrationRules.ClientAction(audit, registrar, tenantId, clientId, p + ".client.register")
                    .granted(
                            p + "-client/" + r.regId,
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
        List<String> labels = req.labels() == null ? null : RegistrationRules.labels(req.labels());
        return QuarkusTransaction.requiringNew().call(() -> {
            ClientRegistration r = ownLiveRegistration(registrar, tenantId, clientId, regId, true);
            Map<String, Object> out = new LinkedHashMap<>();
            if (req.expirationTime() != null) {
                store.registrationsChanging(tenantId);
                r.expiresAt = RegistrationRules.capExpiry(
                        policies.get(tenantId), req.expirationTime(), RegistrationRules.now(), r.kmExpiresAt);
                out.put("expirationTime", r.expiresAt.toString());
            }
            if (labels != null) {
                r.labels = labels.toArray(String[]::new);
                out.put("labels", labels);
            }
            r.updatedAt = RegistrationRules.now();
            new RegistrationRules.ClientAction(
                            audit, registrar, tenantId, clientId, registrar.prefix() + ".client.update")
                    .granted(registrar.prefix() + "-client/" + regId, String.join(", ", out.keySet()));
            return out;
        });
    }

    /** Deletes the registration, and with it the client's key registrations and commands. */
    public void deregister(Registrar registrar, String tenantId, String clientId, String regId) {
        QuarkusTransaction.requiringNew().run(() -> {
            ClientRegistration r = ownLiveRegistration(registrar, tenantId, clientId, regId, true);
            em.remove(r);
            em.flush();
            new RegistrationRules.ClientAction(
                            audit, registrar, tenantId, clientId, registrar.prefix() + ".client.deregister")
                    .granted(
                            registrar.prefix() + "-client/" + regId,
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
        if (r == null
                || r.registrar != registrar
                || !r.clientId.equals(clientId)
                || r.expired(RegistrationRules.now())) {
            throw new Problem(
                    404,
                    "no live " + registrar + " client registration " + RegistrationRules.safe(regId)
                            + " of this client");
        }
        return r;
    }

    ClientRegistration liveRegistrationOf(Registrar registrar, String tenantId, String clientId) {
        ClientRegistration r =
                store.registrationOf(tenantId, registrar, clientId).orElse(null);
        if (r == null || r.expired(RegistrationRules.now())) {
            throw new Problem(
                    403,
                    "register with the " + registrar + " first (Client Registration, TS-0003 "
                            + (registrar == Registrar.MEF ? "§8.3.5.2.3" : "§8.8.2.3") + ")");
        }
        return r;
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
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP,
            skipExecutionIf = NotJobLeader.class)
    public void purgeExpired() {
        QuarkusTransaction.requiringNew().run(() -> {
            store.deleteExpired(RegistrationRules.now())
                    .forEach((t, n) -> audit.append(
                            t,
                            "system",
                            "registrations.purge",
                            "registrations",
                            AuditLog.Outcome.SUCCESS,
                            n[0] + " expired key registrations and " + n[1] + " expired client registrations deleted"));
        });
    }
}
