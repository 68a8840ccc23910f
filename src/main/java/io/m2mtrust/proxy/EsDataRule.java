package io.m2mtrust.proxy;

import io.m2mtrust.tenant.TenantOwned;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.Table;

import java.io.Serializable;
import java.time.Instant;

/** A tenant rule: content instances in {@link #containerPath} are protected with ESData ({@link #rule} is a {@link ProxyEsData.Rule} as JSON). */
@Entity
@Table(name = "proxy_esdata_rule")
@IdClass(EsDataRule.Key.class)
public class EsDataRule extends TenantOwned {

    @Id
    public String id;

    @Column(name = "container_path", nullable = false)
    public String containerPath;

    @Column(nullable = false)
    public String rule;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;

    /** The primary key: the {@code @Id} fields above, in order. */
    public record Key(String tenantId, String id) implements Serializable {}
}
