package io.m2mtrust.mef;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.Table;

import java.io.Serializable;
import java.time.Instant;
import java.util.Objects;

/**
 * A key registered with the MEF by a Source MEF Client (TS-0003 §8.3.5.2.7) for Target MEF Clients; the
 * Key Value is sealed under the tenant KEK with AAD (tenant, Key Identifier, SUID).
 */
@Entity
@Table(name = "mef_key_registration")
@IdClass(MefKeyRegistration.Key.class)
public class MefKeyRegistration {

    @Id
    @Column(name = "tenant_id")
    public String tenantId;

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

    public static class Key implements Serializable {
        public String tenantId;
        public String relativeKeyId;

        public Key() {
        }

        public Key(String tenantId, String relativeKeyId) {
            this.tenantId = tenantId;
            this.relativeKeyId = relativeKeyId;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && Objects.equals(k.tenantId, tenantId) && Objects.equals(k.relativeKeyId, relativeKeyId);
        }

        @Override
        public int hashCode() {
            return Objects.hash(tenantId, relativeKeyId);
        }
    }
}
