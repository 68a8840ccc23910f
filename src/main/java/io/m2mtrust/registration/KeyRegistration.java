package io.m2mtrust.registration;

import io.m2mtrust.tenant.TenantOwned;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.Table;

import java.io.Serializable;
import java.time.Instant;

/**
 * A key registered with the MEF or MAF by a source client (TS-0003 §8.3.5.2.7 / §8.8.2.7) for target
 * clients; the Key Value is sealed under the tenant KEK with AAD (tenant, Key Identifier, SUID).
 */
@Entity
@Table(name = "key_registration")
@IdClass(KeyRegistration.Key.class)
public class KeyRegistration extends TenantOwned {

    @Id
    @jakarta.persistence.Enumerated(jakarta.persistence.EnumType.STRING)
    public Registrar registrar;

    /** Lowercase hex of 16 bytes. */
    @Id
    @Column(name = "relative_key_id")
    public String relativeKeyId;

    @Column(name = "source_client_id", nullable = false)
    public String sourceClientId;

    @Column(name = "source_reg_id", nullable = false)
    public String sourceRegId;

    @Column(name = "admin_fqdn", nullable = false)
    public String adminFqdn;

    @Column(nullable = false)
    public String[] labels;

    @Column(nullable = false)
    public int suid;

    @Column(name = "target_ids", nullable = false)
    public String[] targetIds;

    @Column(name = "key_source", nullable = false)
    public String keySource;

    @Column(name = "sealed_key", nullable = false)
    public byte[] sealedKey;

    @Column(name = "expires_at", nullable = false)
    public Instant expiresAt;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;

    @Column(name = "updated_at", nullable = false)
    public Instant updatedAt;

    /** The primary key: the {@code @Id} fields above, in order. */
    public record Key(String tenantId, Registrar registrar, String relativeKeyId) implements Serializable {}
}
