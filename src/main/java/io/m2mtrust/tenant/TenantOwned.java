package io.m2mtrust.tenant;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Id;
import jakarta.persistence.MappedSuperclass;

/**
 * A row that belongs to one tenant: the tenant id leads its primary key (every query of a feature's tables is
 * scoped by it, and deleting a tenant finds all of its rows by it). Entities add the rest of their key with
 * {@code @IdClass}.
 */
@MappedSuperclass
public abstract class TenantOwned extends PanacheEntityBase {

    @Id
    @Column(name = "tenant_id")
    public String tenantId;
}
