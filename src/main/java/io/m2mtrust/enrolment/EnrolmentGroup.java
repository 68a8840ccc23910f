package io.m2mtrust.enrolment;

import io.m2mtrust.common.SubjectType;
import io.m2mtrust.tenant.TenantOwned;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.Table;
import jakarta.persistence.Version;

import java.io.Serializable;
import java.time.Instant;

/** A group of devices whose Kpm are derived from one HSM group key; {@link #epoch} is its primary version. */
@Entity
@Table(name = "enrolment_group")
@IdClass(EnrolmentGroup.Key.class)
public class EnrolmentGroup extends TenantOwned {

    public enum Status {
        ACTIVE,
        DELETED
    }

    @Id
    public String id;

    @Column(nullable = false)
    public String name;

    @Column(nullable = false)
    public int epoch;

    @Enumerated(EnumType.STRING)
    @Column(nullable = false)
    public Status status;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;

    @Column(name = "updated_at", nullable = false)
    public Instant updatedAt;

    /**
     * Certificate profile of the group's devices (null: they get no certificates): the flavour, and the
     * identity template in which {@code {device}} stands for the device id. EST issues exactly that
     * identity to a device authenticated with its KpmID (TS-0003 §8.3.6.2.2 step 3 d).
     */
    @Enumerated(EnumType.STRING)
    @Column(name = "cert_subject_type")
    public SubjectType certSubjectType;

    @Column(name = "cert_subject_template")
    public String certSubjectTemplate;

    @Version
    public long version;

    /** The primary key: the {@code @Id} fields above, in order. */
    public record Key(String tenantId, String id) implements Serializable {}
}
