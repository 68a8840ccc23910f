package io.m2mtrust.esdata;

import io.m2mtrust.common.SubjectType;
import io.m2mtrust.hsm.AsymmetricKeyType;
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

/** An end-point the service acts for: its certificate (tenant CA) and its private key in the HSM. */
@Entity
@Table(name = "endpoint")
@IdClass(Endpoint.Key.class)
public class Endpoint extends TenantOwned {

    public enum Status {
        ACTIVE,
        DELETED
    }

    @Id
    public String id;

    @Enumerated(EnumType.STRING)
    @Column(name = "subject_type", nullable = false)
    public SubjectType subjectType;

    @Column(name = "subject_id", nullable = false)
    public String subjectId;

    @Column(name = "key_type", nullable = false)
    @jakarta.persistence.Enumerated(jakarta.persistence.EnumType.STRING)
    public AsymmetricKeyType keyType = AsymmetricKeyType.EC_P256;

    @Column(name = "hsm_label", nullable = false)
    public String hsmLabel;

    @Column(name = "cert_serial", nullable = false)
    public String certSerial;

    @Enumerated(EnumType.STRING)
    @Column(nullable = false)
    public Status status;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;

    @Column(name = "deleted_at")
    public Instant deletedAt;

    /** The primary key: the {@code @Id} fields above, in order. */
    public record Key(String tenantId, String id) implements Serializable {}
}
