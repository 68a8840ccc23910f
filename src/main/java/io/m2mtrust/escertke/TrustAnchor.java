package io.m2mtrust.escertke;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.Table;

import java.io.Serializable;
import java.time.Instant;
import java.util.Objects;

/** A CA the tenant trusts for ESCertKE peers besides its own (e.g. another operator's), with its latest CRL. */
@Entity
@Table(name = "escertke_trust_anchor")
@IdClass(TrustAnchor.Key.class)
public class TrustAnchor {

    @Id
    @Column(name = "tenant_id")
    public String tenantId;

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

    public static class Key implements Serializable {
        public String tenantId;
        public String id;

        public Key() {}

        public Key(String tenantId, String id) {
            this.tenantId = tenantId;
            this.id = id;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && Objects.equals(k.tenantId, tenantId) && Objects.equals(k.id, id);
        }

        @Override
        public int hashCode() {
            return Objects.hash(tenantId, id);
        }
    }
}
