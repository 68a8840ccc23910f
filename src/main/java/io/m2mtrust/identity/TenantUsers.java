package io.m2mtrust.identity;

import io.m2mtrust.audit.AuditLog;
import io.m2mtrust.common.ApiProblem;
import io.m2mtrust.security.AdminAccess;
import io.m2mtrust.security.TenantDoor;
import io.m2mtrust.tenant.Tenant;
import io.m2mtrust.tenant.TenantStore;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * A tenant's people, managed by the tenant's own admins (and platform-admins): list, invite or create, enable and
 * disable, grant {@code tenant-admin} / {@code tenant-auditor}. Never another tenant's users (they are not members
 * of this tenant's group: 404), never a platform-admin (403), never oneself out of one's own admin rights (409).
 * Every change is chained in the tenant's audit log, refusals too.
 */
@ApplicationScoped
public class TenantUsers {

    private final KeycloakDirectory directory;
    private final TenantDoor door;
    private final AdminAccess access;
    private final AuditLog audit;
    private final TenantStore tenantRows;

    TenantUsers(
            KeycloakDirectory directory, TenantDoor door, AdminAccess access, AuditLog audit, TenantStore tenantRows) {
        this.tenantRows = tenantRows;
        this.directory = directory;
        this.door = door;
        this.access = access;
        this.audit = audit;
    }

    public List<TenantUserDtos.TenantUserView> list(String tenantId, int first, int max) {
        KeycloakDirectory.TenantGroup group = groupOf(enter(tenantId, AdminAccess.Need.READ));
        return directory.members(group, first, max).stream()
                .map(u -> TenantUserDtos.TenantUserView.of(u, null))
                .toList();
    }

    public TenantUserDtos.TenantUserView get(String tenantId, String userId) {
        KeycloakDirectory.TenantGroup group = groupOf(enter(tenantId, AdminAccess.Need.READ));
        return TenantUserDtos.TenantUserView.of(member(group, userId), null);
    }

    public TenantUserDtos.TenantUserView create(String tenantId, TenantUserDtos.NewTenantUser req) {
        Tenant t = enter(tenantId, AdminAccess.Need.WRITE);
        String actor = access.actor();
        KeycloakDirectory.NewUser u = req.toNewUser();
        try {
            return audit.auditRefusals(tenantId, actor, "user.create", "user/" + u.username(), () -> {
                requireActive(t);
                KeycloakDirectory.TenantGroup group = groupOf(t);
                KeycloakDirectory.EnsuredUser made = directory.ensureUser(group, u);
                try {
                    QuarkusTransaction.requiringNew()
                            .run(() -> audit.append(
                                    tenantId,
                                    actor,
                                    "user.create",
                                    "user/" + u.username(),
                                    AuditLog.Outcome.SUCCESS,
                                    (made.created() ? "made" : "already a member; roles added") + " with roles "
                                            + u.roles()
                                            + (u.temporaryPassword() != null
                                                    ? "; temporary password, changed at first sign-in"
                                                    : "; invitation e-mailed")));
                } catch (RuntimeException auditFailed) {
                    if (made.created()) { // nothing unaudited stays behind
                        directory.removeUser(made.id());
                    }
                    throw auditFailed;
                }
                // the user exists and is audited: an invitation that cannot go out now is resent later, never a failure
                String invitation = u.temporaryPassword() != null
                        ? "TEMPORARY_PASSWORD"
                        : !made.created() ? null : directory.inviteOrOwe(made.id());
                return TenantUserDtos.TenantUserView.of(member(group, made.id()), invitation);
            });
        } finally {
            if (u.temporaryPassword() != null) {
                Arrays.fill(u.temporaryPassword(), '\0');
            }
        }
    }

    public TenantUserDtos.TenantUserView update(String tenantId, String userId, TenantUserDtos.UpdateTenantUser req) {
        Tenant t = enter(tenantId, AdminAccess.Need.WRITE);
        String actor = access.actor();
        Set<String> roles = new TreeSet<>(req.roles());
        return audit.auditRefusals(tenantId, actor, "user.update", "user/" + userId, () -> {
            requireActive(t);
            KeycloakDirectory.TenantGroup group = groupOf(t);
            KeycloakDirectory.DirectoryUser before = mutable(group, userId);
            if (userId.equals(access.subject())
                    && (!req.enabled() || !roles.contains(AdminAccess.TENANT_ADMIN))
                    && !access.isPlatformAdmin()) {
                throw ApiProblem.conflict(
                        "you cannot disable yourself or give up your own tenant-admin role; ask another tenant-admin");
            }
            if (!roles.equals(before.roles())) {
                directory.setRoles(group, userId, roles);
            }
            if (req.enabled() != before.enabled()) {
                directory.setEnabled(userId, req.enabled());
            }
            String change = (req.enabled() != before.enabled() ? (req.enabled() ? "enabled" : "disabled") + "; " : "")
                    + (!roles.equals(before.roles()) ? "roles " + before.roles() + " -> " + roles : "");
            QuarkusTransaction.requiringNew()
                    .run(() -> audit.append(
                            tenantId,
                            actor,
                            "user.update",
                            "user/" + before.username(),
                            AuditLog.Outcome.SUCCESS,
                            change.isBlank() ? "no change" : change.strip()));
            return TenantUserDtos.TenantUserView.of(member(group, userId), null);
        });
    }

    /** E-mails the user Keycloak's link again (a lost or expired invitation). */
    public TenantUserDtos.TenantUserView invite(String tenantId, String userId) {
        Tenant t = enter(tenantId, AdminAccess.Need.WRITE);
        String actor = access.actor();
        return audit.auditRefusals(tenantId, actor, "user.invite", "user/" + userId, () -> {
            requireActive(t);
            KeycloakDirectory.TenantGroup group = groupOf(t);
            KeycloakDirectory.DirectoryUser u = mutable(group, userId);
            if (u.email() == null) {
                throw ApiProblem.conflict("user " + u.username() + " has no e-mail address to send an invitation to");
            }
            if (!directory.sendInvitation(userId)) {
                throw new ApiProblem(
                        502,
                        "invitation-not-sent",
                        "Bad Gateway",
                        "Keycloak could not send the invitation e-mail; check the realm's SMTP settings and retry");
            }
            QuarkusTransaction.requiringNew()
                    .run(() -> audit.append(
                            tenantId,
                            actor,
                            "user.invite",
                            "user/" + u.username(),
                            AuditLog.Outcome.SUCCESS,
                            "invitation e-mailed"));
            return TenantUserDtos.TenantUserView.of(member(group, userId), "SENT");
        });
    }

    private Tenant enter(String tenantId, AdminAccess.Need need) {
        Tenant t = door.enter(tenantId, need);
        if (!directory.enabled()) {
            throw new ApiProblem(
                    409,
                    "identity-provisioning-off",
                    "Conflict",
                    "this installation does not manage users in Keycloak (m2m.identity.provisioning=off); manage them in your identity provider");
        }
        return t;
    }

    private static void requireActive(Tenant t) {
        if (t.status != Tenant.Status.ACTIVE) {
            throw ApiProblem.conflict(
                    "tenant " + t.id + " is " + t.status.name().toLowerCase(java.util.Locale.ROOT)
                            + "; its users change only while it is active");
        }
    }

    private KeycloakDirectory.TenantGroup groupOf(Tenant t) {
        if (t.identityGroupId == null) {
            // a tenant made while provisioning was off: its group is made (or adopted) on first use and remembered
            KeycloakDirectory.TenantGroup g = directory.ensureTenantGroup(t.id);
            QuarkusTransaction.requiringNew().run(() -> tenantRows.adoptIdentityGroup(t.id, g.id()));
            return g;
        }
        return directory
                .findTenantGroup(t.id)
                .filter(g -> g.id().equals(t.identityGroupId))
                .orElseThrow(() -> new ApiProblem(
                        409,
                        "identity-drift",
                        "Conflict",
                        "the Keycloak group of tenant " + t.id
                                + " was removed or replaced outside m2m-trust; restore /tenants/" + t.id));
    }

    private KeycloakDirectory.DirectoryUser member(KeycloakDirectory.TenantGroup group, String userId) {
        if (userId == null || !userId.matches("^[0-9a-fA-F-]{36}$")) {
            throw ApiProblem.notFound("user " + userId);
        }
        return directory.member(group, userId).orElseThrow(() -> ApiProblem.notFound("user " + userId));
    }

    /** A user this caller may change: a member of the tenant who is not a platform-admin. */
    private KeycloakDirectory.DirectoryUser mutable(KeycloakDirectory.TenantGroup group, String userId) {
        KeycloakDirectory.DirectoryUser u = member(group, userId);
        if (directory.effectiveRealmRoles(userId).contains(AdminAccess.PLATFORM_ADMIN)) {
            throw ApiProblem.forbidden(
                    "user " + u.username() + " holds platform-admin; only Keycloak's own administrators change it");
        }
        return u;
    }
}
