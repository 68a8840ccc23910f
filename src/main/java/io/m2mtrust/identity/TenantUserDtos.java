package io.m2mtrust.identity;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.m2mtrust.common.ApiProblem;
import io.m2mtrust.security.AdminAccess;
import jakarta.validation.constraints.Email;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;

import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Bodies of {@code /api/v1/tenants/{t}/users} and of a tenant's first admin. A temporary password travels only in a
 * request, as a char array that is wiped after use, and never appears in {@code toString}, a response or a log.
 */
public final class TenantUserDtos {

    private TenantUserDtos() {}

    /** Lower-case, 3-64 characters; an e-mail address is a fine user name. */
    public static final String USERNAME = "^[a-z0-9][a-z0-9._@+-]{2,63}$";

    static final String USERNAME_RULE = "3-64 characters of a-z, 0-9 and . _ @ + -, starting with a letter or digit";

    static final String ROLE = "^(tenant-admin|tenant-auditor)$";

    public record NewTenantUser(
            @Pattern(regexp = USERNAME, message = USERNAME_RULE)
            String username,

            @Email @Size(max = 254) String email,
            @Size(max = 100) String firstName,
            @Size(max = 100) String lastName,

            @NotNull @Size(min = 1, max = 2)
            Set<@NotNull @Pattern(regexp = ROLE, message = "tenant-admin or tenant-auditor") String> roles,

            @Size(min = 12, max = 128, message = "12-128 characters")
            char[] temporaryPassword) {

        @Override
        public String toString() {
            return "NewTenantUser[username=" + username + ", roles=" + roles + ", temporaryPassword="
                    + (temporaryPassword == null ? "none" : "***") + "]";
        }

        KeycloakDirectory.NewUser toNewUser() {
            return TenantUserDtos.toNewUser(username, email, firstName, lastName, roles, temporaryPassword);
        }
    }

    /** The first tenant-admin made with a tenant: a user name or an e-mail (then also the user name). */
    public record FirstAdmin(
            @Pattern(regexp = USERNAME, message = USERNAME_RULE)
            String username,

            @Email @Size(max = 254) String email,
            @Size(max = 100) String firstName,
            @Size(max = 100) String lastName,

            @Size(min = 12, max = 128, message = "12-128 characters")
            char[] temporaryPassword) {

        @Override
        public String toString() {
            return "FirstAdmin[username=" + username + ", temporaryPassword="
                    + (temporaryPassword == null ? "none" : "***") + "]";
        }

        public KeycloakDirectory.NewUser toNewUser() {
            return TenantUserDtos.toNewUser(
                    username, email, firstName, lastName, Set.of(AdminAccess.TENANT_ADMIN), temporaryPassword);
        }
    }

    static KeycloakDirectory.NewUser toNewUser(
            String username,
            String email,
            String firstName,
            String lastName,
            Set<String> roles,
            char[] temporaryPassword) {
        String name = username != null ? username : email == null ? null : email.toLowerCase(java.util.Locale.ROOT);
        if (name == null) {
            throw ApiProblem.invalid(
                    List.of(ApiProblem.fieldError("username", "give a user name or an e-mail address")));
        }
        if (!name.matches(USERNAME)) {
            throw ApiProblem.invalid(List.of(ApiProblem.fieldError(
                    "email", "this e-mail address cannot serve as a user name; give a username")));
        }
        if (temporaryPassword == null && email == null) {
            throw ApiProblem.invalid(
                    List.of(
                            ApiProblem.fieldError(
                                    "temporaryPassword",
                                    "give an e-mail address (Keycloak e-mails an invitation) or a temporary password (changed at first sign-in)")));
        }
        return new KeycloakDirectory.NewUser(name, email, firstName, lastName, new TreeSet<>(roles), temporaryPassword);
    }

    /** Enable or disable a user and set their tenant roles (the whole set: an empty set leaves a member without role). */
    public record UpdateTenantUser(
            @NotNull Boolean enabled,

            @NotNull @Size(max = 2)
            Set<@NotNull @Pattern(regexp = ROLE, message = "tenant-admin or tenant-auditor") String> roles) {}

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record TenantUserView(
            String id,
            String username,
            String email,
            String firstName,
            String lastName,
            boolean enabled,
            Set<String> roles,
            List<String> pendingActions,
            Instant createdAt,
            String invitation) {
        static TenantUserView of(KeycloakDirectory.DirectoryUser u, String invitation) {
            return new TenantUserView(
                    u.id(),
                    u.username(),
                    u.email(),
                    u.firstName(),
                    u.lastName(),
                    u.enabled(),
                    new TreeSet<>(u.roles()),
                    u.requiredActions(),
                    u.createdAt(),
                    invitation);
        }
    }
}
