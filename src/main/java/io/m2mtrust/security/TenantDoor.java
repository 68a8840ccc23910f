package io.m2mtrust.security;

import io.m2mtrust.tenant.Tenant;
import io.m2mtrust.tenant.TenantIds;
import io.m2mtrust.tenant.TenantStore;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * The first line of every tenant-scoped admin endpoint: a well-formed id (400), the caller's right to
 * it (404 for another tenant, 403 for a missing role), and a tenant that still exists (404/410).
 */
@ApplicationScoped
public class TenantDoor {

    private final AdminAccess access;
    private final TenantStore tenants;

    TenantDoor(AdminAccess access, TenantStore tenants) {
        this.access = access;
        this.tenants = tenants;
    }

    public Tenant enter(String tenantId, AdminAccess.Need need) {
        TenantIds.require(tenantId);
        access.require(tenantId, need);
        return tenants.requireLive(tenantId);
    }
}
