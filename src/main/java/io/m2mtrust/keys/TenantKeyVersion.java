package io.m2mtrust.keys;

import io.m2mtrust.hsm.HsmKeyLabel;
import io.m2mtrust.hsm.KeyPurpose;
import io.m2mtrust.tenant.TenantOwned;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.Table;

import java.io.Serializable;
import java.time.Instant;

/**
 * Metadata of one version of a per-tenant HSM key. The key itself exists only in the token, under
 * {@link #hsmLabel}. PRIMARY seals/derives/signs; ACTIVE still opens/verifies; RETIRED and DESTROYED
 * have no HSM object any more.
 */
@Entity
@Table(name = "tenant_key_version")
@IdClass(TenantKeyVersion.Key.class)
public class TenantKeyVersion extends TenantOwned {

    @Id
    @Enumerated(EnumType.STRING)
    public KeyPurpose purpose;

    @Id
    public int version;

    @Enumerated(EnumType.STRING)
    @Column(nullable = false)
    public KeyState state;

    @Column(name = "hsm_label", nullable = false)
    public String hsmLabel;

    /** X.509 SubjectPublicKeyInfo of a SIGN key (public material), so old signatures stay verifiable. */
    @Column(name = "public_key")
    public byte[] publicKey;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;

    @Column(name = "retired_at")
    public Instant retiredAt;

    public HsmKeyLabel label() {
        return HsmKeyLabel.of(tenantId, purpose, version);
    }

    public boolean usableForOpen() {
        return state.usable();
    }

    /** The primary key: the {@code @Id} fields above, in order. */
    public record Key(String tenantId, KeyPurpose purpose, int version) implements Serializable {}
}
