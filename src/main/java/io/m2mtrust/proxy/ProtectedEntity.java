package io.m2mtrust.proxy;

import io.m2mtrust.tenant.TenantOwned;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.Table;

import java.io.Serializable;
import java.time.Instant;

/**
 * An entity behind the proxy that terminates ESPrim: the {@code <CSEBase>} (resource path = the CSE base
 * name) or an {@code <AE>} (path {@code cse-in/<AE name>}). {@link #entityId} is its oneM2M identity, the one
 * key registrations name as target (CSE-ID or AE-ID).
 */
@Entity
@Table(name = "protected_entity")
@IdClass(ProtectedEntity.Key.class)
public class ProtectedEntity extends TenantOwned {

    @Id
    @Column(name = "entity_id")
    public String entityId;

    @Column(name = "resource_path", nullable = false)
    public String resourcePath;

    /** Plain primitives to this entity are refused: only ESPrim reaches it. */
    @Column(name = "esprim_required", nullable = false)
    public boolean esprimRequired;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;

    /** The primary key: the {@code @Id} fields above, in order. */
    public record Key(String tenantId, String entityId) implements Serializable {}
}
