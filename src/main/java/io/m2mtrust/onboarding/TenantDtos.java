package io.m2mtrust.onboarding;

import io.m2mtrust.identity.TenantUserDtos;
import io.m2mtrust.tenant.Tenant;
import io.m2mtrust.tenant.TenantIds;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;

import java.time.Instant;

/** Request and response bodies of {@code /api/v1/tenants}. */
public final class TenantDtos {

    private TenantDtos() {}

    public record CreateTenant(
            @NotBlank
            @Size(min = 3, max = 40)
            @Pattern(regexp = TenantIds.REGEX, message = "3-40 characters of a-z, 0-9 and inner hyphens")
            String id,

            @NotBlank @Size(max = 200) String name,
            @jakarta.validation.Valid TenantUserDtos.FirstAdmin firstAdmin) {

        public CreateTenant(String id, String name) {
            this(id, name, null);
        }
    }

    public record UpdateTenant(
            @NotBlank @Size(max = 200) String name, @NotNull Tenant.Status status) {}

    @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
    public record TenantView(
            String id,
            String name,
            Tenant.Status status,
            Instant createdAt,
            Instant updatedAt,
            Instant deletedAt,
            TenantService.FirstAdmin firstAdmin) {
        static TenantView of(Tenant t) {
            return new TenantView(t.id, t.name, t.status, t.createdAt, t.updatedAt, t.deletedAt, null);
        }

        static TenantView of(TenantService.Created c) {
            Tenant t = c.tenant();
            return new TenantView(t.id, t.name, t.status, t.createdAt, t.updatedAt, t.deletedAt, c.firstAdmin());
        }
    }
}
