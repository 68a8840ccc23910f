package io.m2mtrust.identity;

import io.m2mtrust.audit.AuditLog;
import io.m2mtrust.cluster.NotJobLeader;
import io.m2mtrust.common.ApiProblem;
import io.m2mtrust.security.AdminAccess;
import io.m2mtrust.tenant.Tenant;
import io.m2mtrust.tenant.TenantStore;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.util.List;

/**
 * Brings a tenant's users in Keycloak in line with the tenant's status: suspended or deleted, every enabled user is
 * disabled (and remembered in {@code tenant_user_hold}); active again, exactly the remembered users are enabled.
 * Users a tenant admin disabled stay disabled.
 *
 * <p>The tenant row is the authority and changes first; the admin API refuses tokens of a tenant that is not
 * ACTIVE at once ({@link AdminAccess}), so a Keycloak outage delays only the Keycloak side.
 * {@code tenant.identity_status} records what was applied; the reconciler finishes what an outage interrupted.
 */
@ApplicationScoped
public class TenantIdentitySync {

    private static final Logger LOG = Logger.getLogger(TenantIdentitySync.class);

    private final KeycloakDirectory directory;
    private final AuditLog audit;
    private final TenantStore tenantRows;
    private final UserHoldStore holds;

    TenantIdentitySync(KeycloakDirectory directory, AuditLog audit, TenantStore tenantRows, UserHoldStore holds) {
        this.holds = holds;
        this.tenantRows = tenantRows;
        this.directory = directory;
        this.audit = audit;
    }

    /** Applies the tenant's status to its users now; false (logged) when Keycloak could not be reached. */
    public boolean apply(String tenantId, String actor) {
        if (!directory.enabled()) {
            return true;
        }
        Tenant t = QuarkusTransaction.requiringNew()
                .call(() -> tenantRows.find(tenantId).orElse(null));
        if (t == null || t.identityGroupId == null || t.status == Tenant.Status.CREATING) {
            return true;
        }
        Tenant.Status target = t.status;
        if (target.name().equals(t.identityStatus)) {
            return true;
        }
        try {
            var group = directory.findTenantGroup(tenantId);
            int changed = 0;
            if (group.isPresent()) {
                changed = target == Tenant.Status.ACTIVE ? release(tenantId) : hold(tenantId, group.get());
            }
            int n = changed;
            QuarkusTransaction.requiringNew().run(() -> {
                // a bulk update: the tenant's version (its ETag) is about what an admin set, not about this bookkeeping
                if (!tenantRows.markIdentityApplied(tenantId, target)) {
                    return; // changed again meanwhile: the next apply handles it
                }
                if (target
                        != Tenant.Status.DELETED) { // a deleted tenant's chain is closed (its signing key is shredded)
                    audit.append(
                            tenantId,
                            actor,
                            target == Tenant.Status.ACTIVE ? "tenant.users.enable" : "tenant.users.disable",
                            "tenant/" + tenantId,
                            AuditLog.Outcome.SUCCESS,
                            n + " Keycloak user(s) " + (target == Tenant.Status.ACTIVE ? "enabled again" : "disabled")
                                    + " for tenant status " + target);
                }
            });
            LOG.infof(
                    "tenant %s: %d Keycloak user(s) %s (status %s)",
                    tenantId, n, target == Tenant.Status.ACTIVE ? "enabled" : "disabled", target);
            return true;
        } catch (ApiProblem p) {
            LOG.warnf(
                    "tenant %s: its Keycloak users could not be brought to status %s now (%s); the identity reconciler retries",
                    tenantId, target, p.getMessage());
            return false;
        }
    }

    private int hold(String tenantId, KeycloakDirectory.TenantGroup group) {
        List<String> enabled = directory.enabledMemberIds(group);
        for (String userId : enabled) {
            // remembered before the change, so a failure in between can only over-remember an already disabled user
            QuarkusTransaction.requiringNew().run(() -> holds.hold(tenantId, userId));
            directory.setEnabled(userId, false);
        }
        return enabled.size();
    }

    private int release(String tenantId) {
        List<String> held = QuarkusTransaction.requiringNew().call(() -> holds.held(tenantId));
        for (String userId : held) {
            try {
                directory.setEnabled(userId, true);
            } catch (ApiProblem p) {
                if (p.status() != 404) { // a held user deleted in Keycloak meanwhile is simply forgotten
                    throw p;
                }
            }
            QuarkusTransaction.requiringNew().run(() -> holds.release(tenantId, userId));
        }
        return held.size();
    }

    /** Finishes what a Keycloak outage interrupted: every tenant whose applied identity status lags its status. */
    @Scheduled(
            every = "${m2m.identity.reconcile-interval:60s}",
            delayed = "20s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP,
            skipExecutionIf = NotJobLeader.class)
    void reconcile() {
        if (!directory.enabled()) {
            return;
        }
        List<String> lagging = QuarkusTransaction.requiringNew().call(tenantRows::identityLagging);
        for (String tenantId : lagging) {
            if (!apply(tenantId, "identity-reconciler")) {
                return; // Keycloak still away: try again at the next round
            }
        }
    }
}
