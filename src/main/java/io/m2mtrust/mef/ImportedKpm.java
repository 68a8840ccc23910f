package io.m2mtrust.mef;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.Table;

import java.io.Serializable;
import java.time.Instant;
import java.util.Objects;

/** An individually pre-provisioned Kpm, sealed under the tenant KEK (the database never sees it in the clear). */
@Entity
@Table(name = "imported_kpm")
@IdClass(ImportedKpm.Key.class)
public class ImportedKpm extends PanacheEntityBase {

    @Id
    @Column(name = "tenant_id")
    public String tenantId;

    @Id
    @Column(name = "kpm_id")
    public String kpmId;

    @Column(name = "sealed_kpm", nullable = false)
    public byte[] sealedKpm;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;

    public static class Key implements Serializable {
        public String tenantId;
        public String kpmId;

        public Key() {}

        public Key(String tenantId, String kpmId) {
            this.tenantId = tenantId;
            this.kpmId = kpmId;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && Objects.equals(k.tenantId, tenantId) && Objects.equals(k.kpmId, kpmId);
        }

        @Override
        public int hashCode() {
            return Objects.hash(tenantId, kpmId);
        }
    }
}
