package io.m2mtrust.ca;

import io.m2mtrust.tenant.TenantOwned;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.Table;

import java.io.Serializable;
import java.time.Instant;

/** The self-signed certificate of one version of a tenant's CA key (its private key is in the HSM). */
@Entity
@Table(name = "ca_certificate")
@IdClass(CaCertificate.Key.class)
public class CaCertificate extends TenantOwned {

    @Id
    @Column(name = "key_version")
    public int keyVersion;

    @Column(nullable = false)
    public byte[] der;

    @Column(name = "not_before", nullable = false)
    public Instant notBefore;

    @Column(name = "not_after", nullable = false)
    public Instant notAfter;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;

    /** The primary key: the {@code @Id} fields above, in order. */
    public record Key(String tenantId, int keyVersion) implements Serializable {}
}
