package io.m2mtrust.enrolment;

import io.m2mtrust.tenant.TenantOwned;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.Table;

import java.io.Serializable;
import java.time.Instant;

/** Devices {@code prefix + zero-padded(n, width)} for first ≤ n ≤ last, without a row per device. */
@Entity
@Table(name = "enrolment_range")
@IdClass(EnrolmentRange.Key.class)
public class EnrolmentRange extends TenantOwned {

    @Id
    @Column(name = "group_id")
    public String groupId;

    @Id
    public String prefix;

    @Column(nullable = false)
    public int width;

    @Id
    @Column(name = "first_no")
    public long firstNo;

    @Column(name = "last_no", nullable = false)
    public long lastNo;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;

    /** Whether {@code deviceId} is a member: the prefix, then exactly {@link #width} digits in range. */
    public boolean contains(String deviceId) {
        if (!deviceId.startsWith(prefix) || deviceId.length() != prefix.length() + width) {
            return false;
        }
        String digits = deviceId.substring(prefix.length());
        for (int i = 0; i < digits.length(); i++) {
            if (digits.charAt(i) < '0' || digits.charAt(i) > '9') {
                return false;
            }
        }
        long n = Long.parseLong(digits);
        return n >= firstNo && n <= lastNo;
    }

    /** The primary key: the {@code @Id} fields above, in order. */
    public record Key(String tenantId, String groupId, String prefix, long firstNo) implements Serializable {}
}
