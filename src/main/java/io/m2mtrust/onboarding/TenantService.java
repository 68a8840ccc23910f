package io.m2mtrust.onboarding;

import io.m2mtrust.audit.AuditLog;
import io.m2mtrust.common.ApiProblem;
import io.m2mtrust.common.ETags;
import io.m2mtrust.common.Sql;
import io.m2mtrust.hsm.HsmKeyLabel;
import io.m2mtrust.identity.KeycloakDirectory;
import io.m2mtrust.identity.TenantIdentitySync;
import io.m2mtrust.keys.TenantKeyService;
import io.m2mtrust.policy.PolicyService;
import io.m2mtrust.security.AdminAccess;
import io.m2mtrust.tenant.Tenant;
import io.m2mtrust.tenant.TenantIds;
import io.m2mtrust.tenant.TenantStore;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.List;

/**
 * Creates, changes and deletes tenants. Creation touches the HSM and the database: the keys are
 * generated first, and destroyed again if the database part fails, so a failed creation leaves
 * neither a row nor an HSM object. Deletion commits the tombstone first, then crypto-shreds; the
 * key reconciler finishes shredding if the HSM fails in between.
 */
@ApplicationScoped
public class TenantService {

    private static final Logger LOG = Logger.getLogger(TenantService.class);

    private final TenantStore tenants;
    private final TenantKeyService keys;
    private final PolicyService policies;
    private final AuditLog audit;
    private final KeycloakDirectory directory;
    private final TenantIdentitySync identitySync;

    TenantService(
            TenantStore tenants,
            TenantKeyService keys,
            PolicyService policies,
            AuditLog audit,
            KeycloakDirectory directory,
            TenantIdentitySync identitySync) {
        this.tenants = tenants;
        this.keys = keys;
        this.policies = policies;
        this.audit = audit;
        this.directory = directory;
        this.identitySync = identitySync;
    }

    /** The outcome of a creation: the tenant, whether this request made it, and its first admin if one was asked for. */
    public record Created(Tenant tenant, boolean created, FirstAdmin firstAdmin) {}

    /** {@code invitation}: SENT (e-mailed by Keycloak), NOT_SENT (resend it later), or TEMPORARY_PASSWORD. */
    public record FirstAdmin(String id, String username, String invitation) {}

    /**
     * Creation, all or nothing across the database, the HSM and Keycloak:
     * (1) a CREATING row claims the id (the primary key decides the race; a claim older than {@link #STALE_CLAIM}
     * from a crashed creation is taken over); (2) the tenant's Keycloak group {@code /tenants/<id>} is made or
     * adopted; (3) the keys are generated in the HSM; (4) the first tenant-admin is made or adopted in Keycloak;
     * (5) one transaction writes policy, key versions and audit and makes the tenant ACTIVE. A failure anywhere
     * undoes what this request made (user, keys, group, claim), so the same request can simply be repeated; what
     * cannot be undone at once (Keycloak gone half-way) is adopted by the repetition, never duplicated. The
     * invitation e-mail goes out only after (5).
     *
     * <p>Repeating a request that already succeeded (same id and name, the first admin already in the tenant)
     * answers the existing tenant ({@code created=false}) and changes nothing.
     */
    public Created create(TenantDtos.CreateTenant req, String actor) {
        String id = TenantIds.require(req.id());
        String name = req.name().strip();
        KeycloakDirectory.NewUser admin =
                req.firstAdmin() == null ? null : req.firstAdmin().toNewUser();
        if (admin != null && !directory.enabled()) {
            throw new ApiProblem(
                    409,
                    "identity-provisioning-off",
                    "Conflict",
                    "this installation does not manage users in Keycloak (m2m.identity.provisioning=off); create the tenant without firstAdmin");
        }
        Created repeat = repeated(id, name, admin);
        if (repeat != null) {
            return repeat;
        }
        claim(id, name);
        Tenant committed;
        KeycloakDirectory.TenantGroup group = null;
        KeycloakDirectory.EnsuredUser user = null;
        List<HsmKeyLabel> made = List.of();
        try {
            if (directory.enabled()) {
                group = directory.ensureTenantGroup(id);
            }
            made = keys.generateInitialKeys(id);
            if (admin != null) {
                user = directory.ensureUser(group, admin);
            }
            List<HsmKeyLabel> labels = made;
            KeycloakDirectory.TenantGroup g = group;
            KeycloakDirectory.EnsuredUser u = user;
            Tenant tenant = QuarkusTransaction.requiringNew().call(() -> {
                Tenant t = tenants.findForUpdate(id).orElseThrow();
                Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
                tenants.statusChanging(id);
                t.status = Tenant.Status.ACTIVE;
                t.createdAt = now;
                t.updatedAt = now;
                if (g != null) {
                    t.identityGroupId = g.id();
                    t.identityStatus = Tenant.Status.ACTIVE.name();
                }
                policies.createDefault(id);
                keys.recordInitialKeys(id, labels, actor);
                audit.append(
                        id,
                        actor,
                        "tenant.create",
                        "tenant/" + id,
                        AuditLog.Outcome.SUCCESS,
                        "name=" + t.name
                                + (g == null
                                        ? ""
                                        : "; Keycloak group /tenants/" + id + (g.created() ? " made" : " adopted")));
                if (u != null) {
                    audit.append(
                            id,
                            actor,
                            "user.create",
                            "user/" + u.username(),
                            AuditLog.Outcome.SUCCESS,
                            "first tenant-admin " + (u.created() ? "made" : "adopted") + " in Keycloak; "
                                    + (admin.temporaryPassword() != null
                                            ? "temporary password, changed at first sign-in"
                                            : "invitation e-mailed"));
                }
                tenants.flush();
                return t;
            });
            committed = tenant;
        } catch (RuntimeException e) {
            compensate(id, group, user, made);
            throw e;
        } finally {
            if (admin != null && admin.temporaryPassword() != null) {
                Arrays.fill(admin.temporaryPassword(), '\0');
            }
        }
        // committed: from here on nothing is undone; an invitation that cannot be sent now is sent again later
        FirstAdmin first = null;
        if (user != null) {
            String invitation =
                    admin.temporaryPassword() != null ? "TEMPORARY_PASSWORD" : directory.inviteOrOwe(user.id());
            first = new FirstAdmin(user.id(), user.username(), invitation);
        }
        return new Created(committed, true, first);
    }

    /** The answer to a repetition of a creation that succeeded, or null when this is not one. */
    private Created repeated(String id, String name, KeycloakDirectory.NewUser admin) {
        Tenant t = tenants.find(id).orElse(null);
        if (t == null || t.status != Tenant.Status.ACTIVE || !t.name.equals(name)) {
            return null; // claim() answers 409 for every other existing tenant
        }
        FirstAdmin first = null;
        if (admin != null) {
            var group = directory.findTenantGroup(id);
            var member = group.flatMap(g -> directory.members(g, 0, 1000).stream()
                    .filter(u -> u.username().equalsIgnoreCase(admin.username()))
                    .findFirst());
            if (member.isEmpty() || !member.get().roles().contains(AdminAccess.TENANT_ADMIN)) {
                return null;
            }
            first = new FirstAdmin(member.get().id(), member.get().username(), "UNCHANGED");
        }
        return new Created(t, false, first);
    }

    /** Undoes, newest first, what a failed creation made; whatever cannot be undone now a repetition adopts. */
    private void compensate(
            String id,
            KeycloakDirectory.TenantGroup group,
            KeycloakDirectory.EnsuredUser user,
            List<HsmKeyLabel> made) {
        if (user != null && user.created()) {
            try {
                directory.removeUser(user.id());
            } catch (RuntimeException left) {
                LOG.errorf(
                        "tenant %s: creation failed and its new Keycloak user %s could not be removed now; a repeated creation adopts it",
                        id, user.username());
            }
        }
        if (!made.isEmpty()) {
            try {
                keys.shred(id);
            } catch (RuntimeException shredFailure) {
                LOG.errorf("tenant %s: creation failed and its HSM keys %s could not be destroyed now", id, made);
            }
        }
        if (group != null && group.created()) {
            try {
                directory.removeGroup(group.id());
            } catch (RuntimeException left) {
                LOG.errorf(
                        "tenant %s: creation failed and its new Keycloak group could not be removed now; a repeated creation adopts it",
                        id);
            }
        }
        try {
            QuarkusTransaction.requiringNew().run(() -> tenants.dropClaim(id));
        } catch (RuntimeException cleanupFailure) {
            LOG.errorf(
                    "tenant %s: creation failed and its claim could not be dropped; it expires in %s", id, STALE_CLAIM);
        }
    }

    static final Duration STALE_CLAIM = java.time.Duration.ofMinutes(10);

    private void claim(String id, String name) {
        try {
            QuarkusTransaction.requiringNew().run(() -> {
                Tenant existing = tenants.findForUpdate(id).orElse(null);
                Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
                if (existing != null) {
                    if (existing.status != Tenant.Status.CREATING
                            || existing.updatedAt.isAfter(now.minus(STALE_CLAIM))) {
                        throw ApiProblem.conflict(
                                "tenant " + id + " exists, existed or is being created; tenant ids are never reused");
                    }
                    LOG.warnf("tenant %s: taking over a creation claim abandoned at %s", id, existing.updatedAt);
                    existing.name = name;
                    existing.updatedAt = now;
                    return;
                }
                Tenant t = new Tenant();
                t.id = id;
                t.name = name;
                t.status = Tenant.Status.CREATING;
                t.createdAt = now;
                t.updatedAt = now;
                tenants.insert(t);
            });
        } catch (ApiProblem p) {
            throw p;
        } catch (RuntimeException e) {
            if (Sql.isUniqueViolation(e)) {
                throw ApiProblem.conflict(
                        "tenant " + id + " exists, existed or is being created; tenant ids are never reused");
            }
            throw e;
        }
    }

    public Tenant update(String id, TenantDtos.UpdateTenant req, String ifMatch, String actor) {
        tenants.requireLive(id);
        Tenant t = audit.auditRefusals(
                id, actor, "tenant.update", "tenant/" + id, () -> updateChecked(id, req, ifMatch, actor));
        // suspension disables the tenant's Keycloak users, re-activation enables the same ones again; the tenant's
        // tokens are refused from the commit on whatever Keycloak says (AdminAccess), the reconciler retries
        identitySync.apply(id, actor);
        return t;
    }

    private Tenant updateChecked(String id, TenantDtos.UpdateTenant req, String ifMatch, String actor) {
        return QuarkusTransaction.requiringNew().call(() -> {
            Tenant t = tenants.requireLive(id);
            tenants.lockOptimistic(t);
            ETags.requireMatch(ifMatch, t.version);
            if (req.status() != Tenant.Status.ACTIVE && req.status() != Tenant.Status.SUSPENDED) {
                throw ApiProblem.badRequest(
                        "validation", "status must be ACTIVE or SUSPENDED; use DELETE to delete a tenant");
            }
            String change = (t.status != req.status() ? "status " + t.status + "->" + req.status() + " " : "")
                    + (!t.name.equals(req.name().strip()) ? "name changed" : "");
            t.name = req.name().strip();
            tenants.statusChanging(id);
            t.status = req.status();
            t.updatedAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
            tenants.flush();
            audit.append(
                    id,
                    actor,
                    "tenant.update",
                    "tenant/" + id,
                    AuditLog.Outcome.SUCCESS,
                    change.isBlank() ? "no change" : change.strip());
            return t;
        });
    }

    /** Tombstones the tenant, then destroys its HSM keys. Returns the number of HSM objects destroyed. */
    public int delete(String id, String actor) {
        QuarkusTransaction.requiringNew().run(() -> {
            Tenant t = tenants.requireLive(id);
            tenants.lockPessimistic(t);
            // the last event of the tenant's chain: signed now, its signing key is destroyed right after the commit
            audit.appendClosing(
                    id,
                    actor,
                    "tenant.delete",
                    "tenant/" + id,
                    "tenant deleted; HSM keys crypto-shredded"
                            + (t.identityGroupId == null ? "" : "; its Keycloak users disabled"));
            Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
            tenants.statusChanging(id);
            policies.forget(id);
            t.status = Tenant.Status.DELETED;
            t.deletedAt = now;
            t.updatedAt = now;
            keys.markAllDestroyed(id, actor);
        });
        int shredded;
        try {
            shredded = keys.shred(id);
        } catch (RuntimeException e) {
            LOG.errorf(
                    "tenant %s deleted but its HSM keys could not be destroyed now (%s); the reconciler retries",
                    id, e.getMessage());
            shredded = -1;
        }
        identitySync.apply(id, actor);
        return shredded;
    }
}
