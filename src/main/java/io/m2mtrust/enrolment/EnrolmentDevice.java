package io.m2mtrust.enrolment;

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

/** A device listed explicitly, or the per-device state (denied, Kpm exported) of a device from a range. */
@Entity
@Table(name = "enrolment_device")
@IdClass(EnrolmentDevice.Key.class)
public class EnrolmentDevice extends TenantOwned {

    public enum Status {
        ALLOWED,
        DENIED
    }

    @Id
    @Column(name = "group_id")
    public String groupId;

    @Id
    @Column(name = "device_id")
    public String deviceId;

    @Enumerated(EnumType.STRING)
    @Column(nullable = false)
    public Status status;

    @Column(name = "kpm_exported_at")
    public Instant kpmExportedAt;

    @Column(name = "kpm_exported_epoch")
    public Integer kpmExportedEpoch;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;

    @Column(name = "updated_at", nullable = false)
    public Instant updatedAt;

    /** The primary key: the {@code @Id} fields above, in order. */
    public record Key(String tenantId, String groupId, String deviceId) implements Serializable {}
}
