package io.m2mtrust.enrolment;

import io.m2mtrust.hsm.HsmKeyLabel;
import io.m2mtrust.hsm.KeyPurpose;
import io.m2mtrust.keys.KeyState;
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

/** One version (epoch) of a group key. PRIMARY and ACTIVE epochs enrol; RETIRED/DESTROYED do not. */
@Entity
@Table(name = "enrolment_group_key")
@IdClass(GroupKey.Key.class)
public class GroupKey extends TenantOwned {

    @Id
    @Column(name = "group_id")
    public String groupId;

    @Id
    public int epoch;

    @Enumerated(EnumType.STRING)
    @Column(nullable = false)
    public KeyState state;

    @Column(name = "hsm_label", nullable = false)
    public String hsmLabel;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;

    @Column(name = "retired_at")
    public Instant retiredAt;

    public boolean enrols() {
        return state.usable();
    }

    public static HsmKeyLabel label(String tenantId, String groupId, int epoch) {
        return HsmKeyLabel.named(tenantId, KeyPurpose.GROUP, groupId, epoch);
    }

    /** The primary key: the {@code @Id} fields above, in order. */
    public record Key(String tenantId, String groupId, int epoch) implements Serializable {}
}
