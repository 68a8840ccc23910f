package io.m2mtrust.security;

import io.m2mtrust.common.ApiProblem;
import io.m2mtrust.tenant.Tenant;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.jwt.JsonWebToken;

import java.util.Optional;

/**
 * Authorisation at the door of every admin endpoint (first line of each method).
 *
 * <ul>
 *   <li>{@code platform-admin}: every tenant, every action;</li>
 *   <li>{@code tenant-admin}: read and write, only the tenant named by the token's {@value #TENANT_CLAIM} claim;</li>
 *   <li>{@code tenant-auditor}: read only, same binding.</li>
 * </ul>
 * Tenant roles act only while their tenant is ACTIVE (403 {@code tenant-inactive} once it is suspended or deleted).
 * Another tenant's resource answers 404 (its existence is not revealed), a missing role 403, no token
 * 401 (the HTTP permission on {@code /api/*}).
 */
@RequestScoped
public class AdminAccess {

    public static final String TENANT_CLAIM = "tenant";
    public static final String PLATFORM_ADMIN = "platform-admin";
    public static final String TENANT_ADMIN = "tenant-admin";
    public static final String TENANT_AUDITOR = "tenant-auditor";

    public enum Need {
        READ,
        WRITE
    }

    @Inject
    SecurityIdentity identity;

    @Inject
    JsonWebToken jwt;

    @Inject
    jakarta.persistence.EntityManager em;

    public boolean isPlatformAdmin() {
        return identity.hasRole(PLATFORM_ADMIN);
    }

    /** The tenant this token is bound to (tenant roles only). */
    public Optional<String> boundTenant() {
        Object claim = jwt == null ? null : jwt.getClaim(TENANT_CLAIM);
        if (claim == null) {
            return Optional.empty();
        }
        String s = claim.toString();
        // Keycloak may serialise a single-valued attribute as a JSON string with quotes
        if (s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"")) {
            s = s.substring(1, s.length() - 1);
        }
        return s.isBlank() ? Optional.empty() : Optional.of(s);
    }

    public void requirePlatformAdmin() {
        if (!isPlatformAdmin()) {
            throw ApiProblem.forbidden("this action needs the platform-admin role");
        }
    }

    /** Checks that the caller may {@code need} the resources of {@code tenantId}. */
    public void require(String tenantId, Need need) {
        if (isPlatformAdmin()) {
            return;
        }
        boolean admin = identity.hasRole(TENANT_ADMIN);
        boolean auditor = identity.hasRole(TENANT_AUDITOR);
        if (!admin && !auditor) {
            throw ApiProblem.forbidden("no tenant role in the token");
        }
        Optional<String> bound = boundTenant();
        if (bound.isEmpty()) {
            throw ApiProblem.forbidden("the token carries a tenant role but no tenant claim");
        }
        if (!bound.get().equals(tenantId)) {
            throw ApiProblem.notFound("tenant " + tenantId);
        }
        requireActiveTenant(tenantId);
        if (need == Need.WRITE && !admin) {
            throw ApiProblem.forbidden("tenant-auditor is read-only");
        }
    }

    /**
     * A tenant's own people act only while it is ACTIVE: suspending or deleting a tenant stops its tokens at once, on
     * every replica (Keycloak disables the users too, but access tokens already issued stay valid until they expire).
     * The row read here is the one the request loads next anyway: outside a transaction both reads share the
     * request's persistence context, so the check adds no query.
     */
    private void requireActiveTenant(String tenantId) {
        Tenant t = em.find(Tenant.class, tenantId);
        if (t != null && t.status != Tenant.Status.ACTIVE && t.status != Tenant.Status.CREATING) {
            throw new ApiProblem(
                    403,
                    "tenant-inactive",
                    "Forbidden",
                    "tenant " + tenantId + " is " + t.status.name().toLowerCase(java.util.Locale.ROOT)
                            + "; its users cannot act");
        }
    }

    /** The caller's subject (Keycloak user id), or null. */
    public String subject() {
        return jwt == null ? null : jwt.getSubject();
    }

    /** Who is acting, for the audit chain: subject and user name, never the token. */
    public String actor() {
        if (identity == null || identity.isAnonymous()) {
            return "anonymous";
        }
        String name = jwt != null && jwt.getClaim("preferred_username") != null
                ? jwt.getClaim("preferred_username").toString()
                : identity.getPrincipal().getName();
        String sub = jwt != null ? jwt.getSubject() : null;
        return sub == null || sub.equals(name) ? name : name + " (" + sub + ")";
    }
}
