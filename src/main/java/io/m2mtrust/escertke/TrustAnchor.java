package io.m2mtrust.escertke;

import io.m2mtrust.tenant.TenantOwned;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.Table;

import java.io.Serializable;
import java.time.Instant;

/** A CA the tenant trusts for ESCertKE peers besides its own (e.g. another operator's), with its latest CRL. */
@Entity
@Table(name = "escertke_trust_anchor")
@IdClass(TrustAnchor.Key.class)
public class TrustAnchor extends TenantOwned {

    @Id
    public String id;

    @Column(nullable = false)
    public byte[] certificate;

    /** DER CRL signed by this anchor; null: revocation of its certificates is not checked (shown in the API). */
    public byte[] crl;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;

    @Column(name = "updated_at", nullable = false)
    public Instant updatedAt;

    /** The primary key: the {@code @Id} fields above, in order. */
    public record Key(String tenantId, String id) implements Serializable {}
}
