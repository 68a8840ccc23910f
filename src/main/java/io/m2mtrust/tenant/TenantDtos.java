package io.m2mtrust.tenant;

import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;

import java.time.Instant;

/** Request and response bodies of {@code /api/v1/tenants}. */
public final class TenantDtos {

    private TenantDtos() {
    }

    public record CreateTenant(
            @NotBlank @Size(min = 3, max = 40) @Pattern(regexp = TenantIds.REGEX, message = "3-40 characters of a-z, 0-9 and inner hyphens") String id,
            @NotBlank @Size(max = 200) String name) {
    }

    public record UpdateTenant(
            @NotBlank @Size(max = 200) String name,
            @NotNull Tenant.Status status) {
    }

    public record TenantView(String id, String name, Tenant.Status status, Instant createdAt, Instant updatedAt, Instant deletedAt) {
        static TenantView of(Tenant t) {
            return new TenantView(t.id, t.name, t.status, t.createdAt, t.updatedAt, t.deletedAt);
        }
    }
}
