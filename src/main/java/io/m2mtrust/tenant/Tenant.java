package io.m2mtrust.tenant;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import jakarta.persistence.Version;

import java.time.Instant;

/** A customer of the platform. Deleted tenants stay as tombstones: ids are never reused. */
@Entity
@Table(name = "tenant")
public class Tenant extends PanacheEntityBase {

    /** CREATING claims the id while the HSM keys are generated; only ACTIVE/SUSPENDED/DELETED are visible. */
    public enum Status {
        CREATING,
        ACTIVE,
        SUSPENDED,
        DELETED
    }

    @Id
    public String id;

    @Column(nullable = false)
    public String name;

    @Enumerated(EnumType.STRING)
    @Column(nullable = false)
    public Status status;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;

    @Column(name = "updated_at", nullable = false)
    public Instant updatedAt;

    @Column(name = "deleted_at")
    public Instant deletedAt;

    /** The tenant's group in Keycloak ({@code /tenants/<id>}); null when identity provisioning is off. */
    @Column(name = "identity_group_id")
    public String identityGroupId;

    /** The status last applied to the tenant's users in Keycloak (see {@code identity.TenantIdentitySync}). */
    @Column(name = "identity_status")
    public String identityStatus;

    @Version
    public long version;
}
