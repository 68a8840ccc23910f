package io.m2mtrust.ca;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.Table;

import java.io.Serializable;
import java.time.Instant;
import java.util.Objects;

/** The self-signed certificate of one version of a tenant's CA key (its private key is in the HSM). */
@Entity
@Table(name = "ca_certificate")
@IdClass(CaCertificate.Key.class)
public class CaCertificate {

    @Id
    @Column(name = "tenant_id")
    public String tenantId;

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

    public static class Key implements Serializable {
        public String tenantId;
        public int keyVersion;

        public Key() {}

        public Key(String tenantId, int keyVersion) {
            this.tenantId = tenantId;
            this.keyVersion = keyVersion;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && Objects.equals(k.tenantId, tenantId) && k.keyVersion == keyVersion;
        }

        @Override
        public int hashCode() {
            return Objects.hash(tenantId, keyVersion);
        }
    }
}
