package io.m2mtrust.policy;

import io.m2mtrust.tenant.TenantOwned;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Table;
import jakarta.persistence.Version;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

import java.time.Instant;

/** The security policy of one tenant; every feature reads its allow-lists from here. */
@Entity
@Table(name = "tenant_policy")
public class TenantPolicy extends TenantOwned {

    @JdbcTypeCode(SqlTypes.ARRAY)
    @Column(name = "allowed_suids", nullable = false)
    public Integer[] allowedSuids;

    @JdbcTypeCode(SqlTypes.ARRAY)
    @Column(name = "jose_algs", nullable = false)
    public String[] joseAlgs;

    @JdbcTypeCode(SqlTypes.ARRAY)
    @Column(name = "jose_encs", nullable = false)
    public String[] joseEncs;

    @JdbcTypeCode(SqlTypes.ARRAY)
    @Column(name = "tls_cipher_suites", nullable = false)
    public String[] tlsCipherSuites;

    @Column(name = "default_key_lifetime_seconds", nullable = false)
    public long defaultKeyLifetimeSeconds;

    @Column(name = "max_key_lifetime_seconds", nullable = false)
    public long maxKeyLifetimeSeconds;

    @Column(name = "max_esdata_targets", nullable = false)
    public int maxEsdataTargets;

    @Column(name = "request_quota_per_second", nullable = false)
    public int requestQuotaPerSecond;

    /** Capacity of each request bucket (a device-facing function, the ESData API, the proxy). */
    @Column(name = "request_burst", nullable = false)
    public int requestBurst;

    /** HSM-bound operations under the tenant's keys, per second (issue 21, ADR 0026). */
    @Column(name = "hsm_quota_per_second", nullable = false)
    public int hsmQuotaPerSecond;

    @Column(name = "hsm_burst", nullable = false)
    public int hsmBurst;

    @Column(name = "allow_host_memory_keys", nullable = false)
    public boolean allowHostMemoryKeys;

    @Column(name = "updated_at", nullable = false)
    public Instant updatedAt;

    @Version
    public long version;
}
