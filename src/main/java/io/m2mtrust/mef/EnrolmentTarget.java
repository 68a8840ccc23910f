package io.m2mtrust.mef;

import io.m2mtrust.tenant.TenantOwned;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.Table;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

import java.io.Serializable;
import java.time.Instant;

/**
 * An Enrolment Target (a MAF or a CSE) allowed to call {@code fetchCredentials}: matched by the identity
 * it authenticates with on the device listener, limited to {@link #allowedSuids}, and derived for with
 * {@link #targetFqdn} as Enrolment-Target-ID (§10.3.7).
 */
@Entity
@Table(name = "enrolment_target")
@IdClass(EnrolmentTarget.Key.class)
public class EnrolmentTarget extends TenantOwned {

    @Id
    public String identity;

    @Column(name = "target_fqdn", nullable = false)
    public String targetFqdn;

    @JdbcTypeCode(SqlTypes.ARRAY)
    @Column(name = "allowed_suids", nullable = false)
    public Integer[] allowedSuids;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;

    @Column(name = "updated_at", nullable = false)
    public Instant updatedAt;

    /** The primary key: the {@code @Id} fields above, in order. */
    public record Key(String tenantId, String identity) implements Serializable {}
}
