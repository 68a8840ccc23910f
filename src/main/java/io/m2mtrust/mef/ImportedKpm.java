package io.m2mtrust.mef;

import io.m2mtrust.tenant.TenantOwned;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.Table;

import java.io.Serializable;
import java.time.Instant;

/** An individually pre-provisioned Kpm, sealed under the tenant KEK (the database never sees it in the clear). */
@Entity
@Table(name = "imported_kpm")
@IdClass(ImportedKpm.Key.class)
public class ImportedKpm extends TenantOwned {

    @Id
    @Column(name = "kpm_id")
    public String kpmId;

    @Column(name = "sealed_kpm", nullable = false)
    public byte[] sealedKpm;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;

    /** The primary key: the {@code @Id} fields above, in order. */
    public record Key(String tenantId, String kpmId) implements Serializable {}
}
