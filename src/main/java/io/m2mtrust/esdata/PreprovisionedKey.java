package io.m2mtrust.esdata;

import io.m2mtrust.tenant.TenantOwned;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.Table;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

import java.io.Serializable;
import java.time.Instant;

/** A pre-provisioned ESData key (SUID 14 or 15), sealed; the value never leaves the sealed form except in the HSM-opened moment of use. */
@Entity
@Table(name = "preprovisioned_key")
@IdClass(PreprovisionedKey.Key.class)
public class PreprovisionedKey extends TenantOwned {

    @Id
    @Column(name = "key_id")
    public String keyId;

    @Column(nullable = false)
    public int suid;

    @JdbcTypeCode(SqlTypes.ARRAY)
    @Column(nullable = false)
    public String[] holders;

    @Column(name = "sealed_key", nullable = false)
    public byte[] sealedKey;

    @Column(name = "key_length", nullable = false)
    public int keyLength;

    @Column(name = "expires_at", nullable = false)
    public Instant expiresAt;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;

    @Column(name = "revoked_at")
    public Instant revokedAt;

    @Override
    public String toString() {
        return "PreprovisionedKey[" + tenantId + "/" + keyId + ", suid " + suid + "]";
    }

    /** The primary key: the {@code @Id} fields above, in order. */
    public record Key(String tenantId, String keyId) implements Serializable {}
}
