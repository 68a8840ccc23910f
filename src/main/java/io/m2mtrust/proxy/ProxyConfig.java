package io.m2mtrust.proxy;

import io.m2mtrust.tenant.TenantOwned;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Table;

import java.time.Instant;

/** The CSE a tenant's proxy stands in front of, spoken to with the oneM2M HTTP binding (TS-0009). */
@Entity
@Table(name = "proxy_config")
public class ProxyConfig extends TenantOwned {

    /** Base URL of the CSE's HTTP binding, e.g. {@code http://cse.internal:8080}. */
    @Column(name = "cse_url", nullable = false)
    public String cseUrl;

    /** The CSE-ID (SP-relative, e.g. {@code /id-in}). */
    @Column(name = "cse_id", nullable = false)
    public String cseId;

    /** The CSEBase resource name (e.g. {@code cse-in}). */
    @Column(name = "cse_base", nullable = false)
    public String cseBase;

    /** The tenant's M2M-SP-ID ({@code //<FQDN>}): ESCertKE maps a From to a certificate identity with it; null: no ESCertKE. */
    @Column(name = "sp_id")
    public String spId;

    @Column(name = "rand_lifetime_s", nullable = false)
    public int randLifetimeSeconds;

    @Column(name = "timeout_ms", nullable = false)
    public int timeoutMs;

    @Column(name = "updated_at", nullable = false)
    public Instant updatedAt;
}
