package io.m2mtrust.enrolment;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.Table;

import java.io.Serializable;
import java.time.Instant;
import java.util.Objects;

/** Devices {@code prefix + zero-padded(n, width)} for first ≤ n ≤ last, without a row per device. */
@Entity
@Table(name = "enrolment_range")
@IdClass(EnrolmentRange.Key.class)
public class EnrolmentRange extends PanacheEntityBase {

    @Id
    @Column(name = "tenant_id")
    public String tenantId;

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

    public static class Key implements Serializable {
        public String tenantId;
        public String groupId;
        public String prefix;
        public long firstNo;

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k
                    && k.firstNo == firstNo
                    && Objects.equals(k.tenantId, tenantId)
                    && Objects.equals(k.groupId, groupId)
                    && Objects.equals(k.prefix, prefix);
        }

        @Override
        public int hashCode() {
            return Objects.hash(tenantId, groupId, prefix, firstNo);
        }
    }
}
