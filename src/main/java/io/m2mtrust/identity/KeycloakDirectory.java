package io.m2mtrust.identity;

import io.m2mtrust.common.ApiProblem;
import io.m2mtrust.security.AdminAccess;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import jakarta.ws.rs.ProcessingException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;
import org.keycloak.admin.client.Keycloak;
import org.keycloak.admin.client.resource.GroupResource;
import org.keycloak.admin.client.resource.RealmResource;
import org.keycloak.representations.idm.CredentialRepresentation;
import org.keycloak.representations.idm.GroupRepresentation;
import org.keycloak.representations.idm.RoleRepresentation;
import org.keycloak.representations.idm.UserRepresentation;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * The tenants' people in Keycloak, through its admin REST API (the only class that calls it).
 *
 * <p>One realm for all tenants. A tenant is the group {@code /tenants/<id>} carrying the attribute
 * {@code tenant=<id>}; the realm's user-attribute mapper resolves that attribute through group membership into
 * the tokens' {@code tenant} claim (users themselves cannot carry it: it is not in the realm's user profile).
 * Roles are the subgroups {@code admins} (realm role {@code tenant-admin}) and {@code auditors}
 * ({@code tenant-auditor}), so granting a role is a group membership and a tenant's view of its people is three
 * member listings. The service account needs {@code realm-management/manage-users} only (ADR 0014).
 *
 * <p>Every call is idempotent by name: an existing tenant group or tenant user is adopted, never duplicated, so
 * a request repeated after a failure half-way completes rather than conflicts. Keycloak unreachable (or refusing
 * the service account) is a 503 problem; nothing here ever sees or logs a password.
 */
@ApplicationScoped
public class KeycloakDirectory {

    private static final Logger LOG = Logger.getLogger(KeycloakDirectory.class);

    public static final String TENANTS_GROUP = "tenants";
    public static final String ADMINS = "admins";
    public static final String AUDITORS = "auditors";
    /** The tenant roles a tenant's people may hold, and the subgroup that grants each. */
    public static final Map<String, String> ROLE_GROUPS =
            Map.of(AdminAccess.TENANT_ADMIN, ADMINS, AdminAccess.TENANT_AUDITOR, AUDITORS);
    /** Required action Keycloak runs at the first sign-in (or from the invitation link). */
    static final String UPDATE_PASSWORD = "UPDATE_PASSWORD";

    private static final int PAGE = 200;

    private final Instance<Keycloak> keycloak;
    private final boolean enabled;
    private final String realm;
    private final int invitationLifespanSeconds;

    KeycloakDirectory(
            Instance<Keycloak> keycloak,
            @ConfigProperty(name = "m2m.identity.provisioning") String provisioning,
            @ConfigProperty(name = "quarkus.keycloak.admin-client.realm") String realm,
            @ConfigProperty(name = "m2m.identity.invitation-lifespan", defaultValue = "72h")
                    java.time.Duration invitationLifespan,
            @ConfigProperty(name = "quarkus.keycloak.admin-client.server-url") Optional<String> serverUrl) {
        this.keycloak = keycloak;
        this.enabled = switch (provisioning) {
            case "keycloak" -> true;
            case "off" -> false;
            default ->
                throw new IllegalStateException(
                        "m2m.identity.provisioning must be 'keycloak' or 'off', not '" + provisioning + "'");
        };
        if (enabled && serverUrl.isEmpty()) {
            throw new IllegalStateException(
                    "m2m.identity.provisioning=keycloak needs Keycloak's address: set M2M_KEYCLOAK_URL "
                            + "(and M2M_KEYCLOAK_PROVISIONER_SECRET), or M2M_IDENTITY_PROVISIONING=off to manage users elsewhere");
        }
        this.realm = realm;
        this.invitationLifespanSeconds = (int) invitationLifespan.toSeconds();
    }

    /** Checks the configuration at start-up rather than at the first tenant creation. */
    void onStart(@jakarta.enterprise.event.Observes io.quarkus.runtime.StartupEvent ev) {
        LOG.infof("identity provisioning: %s", enabled ? "Keycloak realm " + realm : "off");
    }

    /** False when the operator keeps tenants' people in an identity provider of their own (no user API then). */
    public boolean enabled() {
        return enabled;
    }

    public record TenantGroup(String tenantId, String id, String adminsId, String auditorsId, boolean created) {
        String roleGroupId(String role) {
            return AdminAccess.TENANT_ADMIN.equals(role) ? adminsId : auditorsId;
        }
    }

    public record DirectoryUser(
            String id,
            String username,
            String email,
            String firstName,
            String lastName,
            boolean enabled,
            Instant createdAt,
            List<String> requiredActions,
            Set<String> roles) {}

    /** A user to make; {@code temporaryPassword} (may be null) never leaves this call except to Keycloak. */
    public record NewUser(
            String username,
            String email,
            String firstName,
            String lastName,
            Set<String> roles,
            char[] temporaryPassword) {
        @Override
        public String toString() {
            return "NewUser[username=" + username + ", roles=" + roles + ", temporaryPassword="
                    + (temporaryPassword == null ? "none" : "***") + "]";
        }
    }

    public record EnsuredUser(String id, String username, boolean created) {}

    // ---------------------------------------------------------------- tenant groups

    /** The tenant's group with its role subgroups, made when missing (then {@code created} is true). */
    public TenantGroup ensureTenantGroup(String tenantId) {
        return call("ensure the group of tenant " + tenantId, () -> {
            RealmResource r = realm();
            GroupRepresentation root = findPath(r, TENANTS_GROUP).orElseGet(() -> {
                GroupRepresentation g = new GroupRepresentation();
                g.setName(TENANTS_GROUP);
                g.setAttributes(Map.of(
                        "m2m-trust", List.of("tenants of m2m-trust: one subgroup per tenant, managed by m2m-trust")));
                created(r.groups().add(g), "group /" + TENANTS_GROUP);
                return findPath(r, TENANTS_GROUP).orElseThrow();
            });
            boolean created = false;
            GroupRepresentation tenant =
                    findPath(r, TENANTS_GROUP + "/" + tenantId).orElse(null);
            if (tenant == null) {
                GroupRepresentation g = new GroupRepresentation();
                g.setName(tenantId);
                g.setAttributes(Map.of(AdminAccess.TENANT_CLAIM, List.of(tenantId)));
                created(r.groups().group(root.getId()).subGroup(g), "group /tenants/" + tenantId);
                tenant = findPath(r, TENANTS_GROUP + "/" + tenantId).orElseThrow();
                created = true;
            } else if (!List.of(tenantId)
                    .equals(
                            tenant.getAttributes() == null
                                    ? null
                                    : tenant.getAttributes().get(AdminAccess.TENANT_CLAIM))) {
                // a group someone made by hand: adopting it would hand its members this tenant's claim unseen
                throw ApiProblem.conflict("Keycloak group /tenants/" + tenantId
                        + " exists without the attribute tenant=" + tenantId + "; remove or fix it in Keycloak first");
            }
            String admins = ensureRoleGroup(r, tenant.getId(), tenantId, ADMINS, AdminAccess.TENANT_ADMIN);
            String auditors = ensureRoleGroup(r, tenant.getId(), tenantId, AUDITORS, AdminAccess.TENANT_AUDITOR);
            return new TenantGroup(tenantId, tenant.getId(), admins, auditors, created);
        });
    }

    /** The tenant's group if it exists (never creates). */
    public Optional<TenantGroup> findTenantGroup(String tenantId) {
        return call("find the group of tenant " + tenantId, () -> {
            RealmResource r = realm();
            Optional<GroupRepresentation> tenant = findPath(r, TENANTS_GROUP + "/" + tenantId);
            if (tenant.isEmpty()) {
                return Optional.empty();
            }
            String admins = findPath(r, TENANTS_GROUP + "/" + tenantId + "/" + ADMINS)
                    .map(GroupRepresentation::getId)
                    .orElse(null);
            String auditors = findPath(r, TENANTS_GROUP + "/" + tenantId + "/" + AUDITORS)
                    .map(GroupRepresentation::getId)
                    .orElse(null);
            return Optional.of(new TenantGroup(tenantId, tenant.get().getId(), admins, auditors, false));
        });
    }

    private String ensureRoleGroup(RealmResource r, String parentId, String tenantId, String name, String role) {
        String path = TENANTS_GROUP + "/" + tenantId + "/" + name;
        GroupRepresentation g = findPath(r, path).orElseGet(() -> {
            GroupRepresentation n = new GroupRepresentation();
            n.setName(name);
            created(r.groups().group(parentId).subGroup(n), "group /" + path);
            return findPath(r, path).orElseThrow();
        });
        GroupResource group = r.groups().group(g.getId());
        boolean mapped = group.roles().realmLevel().listAll().stream().anyMatch(x -> role.equals(x.getName()));
        if (!mapped) {
            // taken from the roles this group may be given rather than from /roles, which would need view-realm
            RoleRepresentation rep = group.roles().realmLevel().listAvailable().stream()
                    .filter(x -> role.equals(x.getName()))
                    .findFirst()
                    .orElseThrow(() -> new ApiProblem(
                            409, "identity-drift", "Conflict", "realm role " + role + " is missing in Keycloak"));
            group.roles().realmLevel().add(List.of(rep));
        }
        return g.getId();
    }

    /** Compensation: removes a group this request made (its subgroups go with it). */
    public void removeGroup(String groupId) {
        call("remove group " + groupId, () -> {
            realm().groups().group(groupId).remove();
            return null;
        });
    }

    // ---------------------------------------------------------------- users

    /**
     * Makes a user of the tenant (member of its group and of the subgroups of {@code roles}), or adopts the user of
     * that name when it already belongs to this tenant. A temporary password makes Keycloak ask for a new one at the
     * first sign-in; without one the user is left with the required action and an invitation is e-mailed later.
     */
    public EnsuredUser ensureUser(TenantGroup group, NewUser u) {
        return call("create user " + u.username() + " of tenant " + group.tenantId(), () -> {
            RealmResource r = realm();
            Optional<UserRepresentation> existing = byUsername(r, u.username());
            if (existing.isPresent()) {
                String id = existing.get().getId();
                if (!isMember(r, id, group.id())) {
                    // the name is someone else's, perhaps another tenant's: say no more than that it is taken
                    throw ApiProblem.conflict("user name " + u.username() + " is taken");
                }
                if (r.users().get(id).roles().realmLevel().listEffective().stream()
                        .anyMatch(x -> AdminAccess.PLATFORM_ADMIN.equals(x.getName()))) {
                    throw ApiProblem.forbidden("user " + u.username()
                            + " holds platform-admin; only Keycloak's own administrators change it");
                }
                for (String role : u.roles()) {
                    r.users().get(id).joinGroup(group.roleGroupId(role));
                }
                return new EnsuredUser(id, u.username(), false);
            }
            UserRepresentation rep = new UserRepresentation();
            rep.setUsername(u.username());
            rep.setEmail(u.email());
            rep.setFirstName(u.firstName());
            rep.setLastName(u.lastName());
            rep.setEnabled(true);
            List<String> groups = new ArrayList<>();
            groups.add("/" + TENANTS_GROUP + "/" + group.tenantId());
            for (String role : new TreeSet<>(u.roles())) {
                groups.add("/" + TENANTS_GROUP + "/" + group.tenantId() + "/" + ROLE_GROUPS.get(role));
            }
            rep.setGroups(groups);
            if (u.temporaryPassword() != null) {
                CredentialRepresentation c = new CredentialRepresentation();
                c.setType(CredentialRepresentation.PASSWORD);
                c.setValue(new String(u.temporaryPassword()));
                c.setTemporary(true);
                rep.setCredentials(List.of(c));
            } else {
                rep.setRequiredActions(List.of(UPDATE_PASSWORD));
            }
            try (Response res = r.users().create(rep)) {
                if (res.getStatus() == 409) {
                    throw ApiProblem.conflict("user name " + u.username() + " or its e-mail is taken");
                }
                if (res.getStatus() == 400) {
                    // e.g. the realm's password policy; Keycloak's message never contains the password
                    throw ApiProblem.badRequest(
                            "identity-refused", "Keycloak refused the user: " + keycloakMessage(res));
                }
                if (res.getStatus() != 201) {
                    throw new WebApplicationException(res.getStatus());
                }
                String location = res.getLocation().getPath();
                return new EnsuredUser(location.substring(location.lastIndexOf('/') + 1), u.username(), true);
            }
        });
    }

    /** E-mails the user Keycloak's link to set a password (and any other pending required action). */
    public boolean sendInvitation(String userId) {
        try {
            return call("invite user " + userId, () -> {
                try {
                    realm().users()
                            .get(userId)
                            .executeActionsEmail(List.of(UPDATE_PASSWORD), invitationLifespanSeconds);
                    return true;
                } catch (WebApplicationException e) {
                    if (e.getResponse() != null && e.getResponse().getStatus() == 500) {
                        // Keycloak answers 500 when its SMTP server refuses or is unreachable: Keycloak itself is fine
                        LOG.warnf(
                                "Keycloak could not e-mail the invitation of user %s (check the realm's SMTP settings)",
                                userId);
                        return false;
                    }
                    throw e;
                }
            });
        } catch (ApiProblem p) {
            if (p.status() == 503) {
                throw p;
            }
            LOG.warnf("Keycloak could not send the invitation to user %s: %s", userId, p.getMessage());
            return false;
        }
    }

    /** {@link #sendInvitation} for a user already made: "SENT" or "NOT_SENT" (resend later), never a failure. */
    public String inviteOrOwe(String userId) {
        try {
            return sendInvitation(userId) ? "SENT" : "NOT_SENT";
        } catch (ApiProblem keycloakAway) {
            return "NOT_SENT";
        }
    }

    /** Compensation: removes a user this request made. */
    public void removeUser(String userId) {
        call("remove user " + userId, () -> {
            realm().users().get(userId).remove();
            return null;
        });
    }

    /** The tenant's people, a page at a time, with the tenant roles their subgroups give them. */
    public List<DirectoryUser> members(TenantGroup group, int first, int max) {
        return call("list the users of tenant " + group.tenantId(), () -> {
            RealmResource r = realm();
            Map<String, Set<String>> roles = roleMembers(r, group);
            List<DirectoryUser> out = new ArrayList<>();
            for (UserRepresentation u : r.groups().group(group.id()).members(first, max, false)) {
                out.add(view(u, roles.getOrDefault(u.getId(), Set.of())));
            }
            return out;
        });
    }

    /** One user of the tenant; empty when the id is not a member of its group (another tenant's user, or none). */
    public Optional<DirectoryUser> member(TenantGroup group, String userId) {
        return call("read user " + userId, () -> {
            RealmResource r = realm();
            UserRepresentation u;
            try {
                u = r.users().get(userId).toRepresentation();
            } catch (WebApplicationException e) {
                if (isNotFound(e)) {
                    return Optional.empty();
                }
                throw e;
            }
            if (!isMember(r, userId, group.id())) {
                return Optional.empty();
            }
            Set<String> roles = new TreeSet<>();
            Set<String> groupIds = groupIds(r, userId);
            if (groupIds.contains(group.adminsId())) {
                roles.add(AdminAccess.TENANT_ADMIN);
            }
            if (groupIds.contains(group.auditorsId())) {
                roles.add(AdminAccess.TENANT_AUDITOR);
            }
            return Optional.of(view(u, roles));
        });
    }

    /** The realm roles the user holds directly or through any group (to keep platform-admins out of tenants' reach). */
    public Set<String> effectiveRealmRoles(String userId) {
        return call("read the roles of user " + userId, () -> {
            Set<String> out = new TreeSet<>();
            realm().users().get(userId).roles().realmLevel().listEffective().forEach(x -> out.add(x.getName()));
            return out;
        });
    }

    public void setEnabled(String userId, boolean on) {
        call((on ? "enable" : "disable") + " user " + userId, () -> {
            var user = realm().users().get(userId);
            UserRepresentation rep = user.toRepresentation();
            if (rep.isEnabled() != on) {
                rep.setEnabled(on);
                user.update(rep);
            }
            if (!on) {
                // end their Keycloak sessions too: no refresh, no console session; access tokens already issued expire
                // within the realm's lifespan (and the API refuses a suspended tenant's tokens at once anyway)
                user.logout();
            }
            return null;
        });
    }

    /** Replaces the user's tenant roles by {@code roles} (joining and leaving the role subgroups). */
    public void setRoles(TenantGroup group, String userId, Set<String> roles) {
        call("set the roles of user " + userId, () -> {
            var user = realm().users().get(userId);
            for (Map.Entry<String, String> e : ROLE_GROUPS.entrySet()) {
                String gid = group.roleGroupId(e.getKey());
                if (roles.contains(e.getKey())) {
                    user.joinGroup(gid);
                } else {
                    user.leaveGroup(gid);
                }
            }
            return null;
        });
    }

    /**
     * The ids of the tenant's enabled users (all pages), from the tenant group and its role subgroups: someone put
     * into a role subgroup by hand in Keycloak carries the tenant claim too, so is disabled with the others.
     */
    public List<String> enabledMemberIds(TenantGroup group) {
        return call("list the users of tenant " + group.tenantId(), () -> {
            java.util.LinkedHashSet<String> out = new java.util.LinkedHashSet<>();
            for (String gid : new String[] {group.id(), group.adminsId(), group.auditorsId()}) {
                if (gid == null) {
                    continue;
                }
                for (int first = 0; ; first += PAGE) {
                    List<UserRepresentation> page = realm().groups().group(gid).members(first, PAGE, true);
                    page.stream()
                            .filter(u -> Boolean.TRUE.equals(u.isEnabled()))
                            .forEach(u -> out.add(u.getId()));
                    if (page.size() < PAGE) {
                        break;
                    }
                }
            }
            return List.copyOf(out);
        });
    }

    // ---------------------------------------------------------------- plumbing

    private RealmResource realm() {
        if (!enabled) {
            throw new ApiProblem(
                    409,
                    "identity-provisioning-off",
                    "Conflict",
                    "this installation does not manage users in Keycloak (m2m.identity.provisioning=off); manage them in your identity provider");
        }
        return keycloak.get().realm(realm);
    }

    private Map<String, Set<String>> roleMembers(RealmResource r, TenantGroup group) {
        Map<String, Set<String>> out = new HashMap<>();
        for (Map.Entry<String, String> e : ROLE_GROUPS.entrySet()) {
            String gid = group.roleGroupId(e.getKey());
            if (gid == null) {
                continue;
            }
            for (int first = 0; ; first += PAGE) {
                List<UserRepresentation> page = r.groups().group(gid).members(first, PAGE, true);
                page.forEach(u ->
                        out.computeIfAbsent(u.getId(), k -> new TreeSet<>()).add(e.getKey()));
                if (page.size() < PAGE) {
                    break;
                }
            }
        }
        return out;
    }

    private static DirectoryUser view(UserRepresentation u, Set<String> roles) {
        return new DirectoryUser(
                u.getId(),
                u.getUsername(),
                u.getEmail(),
                u.getFirstName(),
                u.getLastName(),
                Boolean.TRUE.equals(u.isEnabled()),
                u.getCreatedTimestamp() == null ? null : Instant.ofEpochMilli(u.getCreatedTimestamp()),
                u.getRequiredActions() == null ? List.of() : List.copyOf(u.getRequiredActions()),
                Set.copyOf(roles));
    }

    private static boolean isMember(RealmResource r, String userId, String groupId) {
        return groupIds(r, userId).contains(groupId);
    }

    private static Set<String> groupIds(RealmResource r, String userId) {
        Set<String> ids = new java.util.HashSet<>();
        for (GroupRepresentation g : r.users().get(userId).groups(0, 1000, true)) {
            ids.add(g.getId());
        }
        return ids;
    }

    private static Optional<UserRepresentation> byUsername(RealmResource r, String username) {
        return r.users().search(username, true).stream()
                .filter(u -> username.equalsIgnoreCase(u.getUsername()))
                .findFirst();
    }

    private static Optional<GroupRepresentation> findPath(RealmResource r, String path) {
        try {
            return Optional.of(r.getGroupByPath(path));
        } catch (WebApplicationException e) {
            if (isNotFound(e)) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /** The REST client reports 404 as a plain WebApplicationException (not always a NotFoundException). */
    private static boolean isNotFound(WebApplicationException e) {
        return e.getResponse() != null && e.getResponse().getStatus() == 404;
    }

    private static void created(Response res, String what) {
        try (res) {
            // 409: made meanwhile by a concurrent request for the same tenant; the caller reads it back
            if (res.getStatus() != 201 && res.getStatus() != 409) {
                throw new WebApplicationException(
                        "Keycloak answered " + res.getStatus() + " creating " + what, res.getStatus());
            }
        }
    }

    private static String keycloakMessage(Response res) {
        try {
            Map<?, ?> body = res.readEntity(Map.class);
            Object m = body == null
                    ? null
                    : body.get("errorMessage") != null ? body.get("errorMessage") : body.get("error_description");
            return m == null ? "HTTP " + res.getStatus() : m.toString();
        } catch (RuntimeException unreadable) {
            return "HTTP " + res.getStatus();
        }
    }

    /**
     * Runs one conversation with Keycloak. Unreachable, 5xx, or a refused service account (401/403: a
     * misconfiguration the operator must see in the log) become a 503 problem; our own problems pass through.
     */
    private <T> T call(String what, Supplier<T> work) {
        try {
            return work.get();
        } catch (ApiProblem p) {
            throw p;
        } catch (WebApplicationException e) {
            int status = e.getResponse() == null ? 0 : e.getResponse().getStatus();
            if (status == 401 || status == 403) {
                LOG.errorf(
                        "Keycloak refused m2m-trust's service account (HTTP %d) to %s: it needs the client role "
                                + "realm-management/manage-users in realm %s (see docs/identity.md)",
                        status, what, realm);
            } else if (status == 404) {
                throw ApiProblem.notFound("Keycloak has no such object (" + what + ")");
            } else if (status > 0 && status < 500) {
                throw new ApiProblem(
                        409, "identity-refused", "Conflict", "Keycloak refused to " + what + " (HTTP " + status + ")");
            } else {
                LOG.warnf("Keycloak failed to %s: HTTP %d", what, status);
            }
            throw unavailable(what);
        } catch (ProcessingException e) {
            LOG.warnf("Keycloak unreachable to %s: %s", what, rootMessage(e));
            throw unavailable(what);
        }
    }

    static ApiProblem unavailable(String what) {
        return new ApiProblem(
                503,
                "identity-provider-unavailable",
                "Service Unavailable",
                "Keycloak could not " + what
                        + " (unreachable, or it refused m2m-trust's service account); nothing was left half-made: retry later, the request is safe to repeat");
    }

    private static String rootMessage(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        return c.getClass().getSimpleName() + (c.getMessage() == null ? "" : ": " + c.getMessage());
    }
}
