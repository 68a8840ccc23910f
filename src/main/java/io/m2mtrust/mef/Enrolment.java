package io.m2mtrust.mef;

import io.m2mtrust.tenant.TenantOwned;
import io.m2mtrust.tls.DevicePeer;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.Table;

import java.io.Serializable;
import java.time.Instant;

/**
 * An Enrolee's Ke (TS-0003 §8.3.2.1): sealed under the tenant KEK with AAD (tenant, KeID, "Ke"),
 * valid until {@link #expiresAt} (§10.7: Km and Kpsa never outlive it). At most one ACTIVE per enrolee.
 */
@Entity
@Table(name = "enrolment")
@IdClass(Enrolment.Key.class)
public class Enrolment extends TenantOwned {

    public enum Status {
        ACTIVE,
        REPLACED,
        REVOKED
    }

    @Id
    @Column(name = "ke_id")
    public String keId;

    @Column(name = "enrolee_id", nullable = false)
    public String enroleeId;

    @Enumerated(EnumType.STRING)
    @Column(nullable = false)
    public DevicePeer.Credential credential;

    @Column(name = "sealed_ke", nullable = false)
    public byte[] sealedKe;

    @Enumerated(EnumType.STRING)
    @Column(nullable = false)
    public Status status;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;

    @Column(name = "expires_at", nullable = false)
    public Instant expiresAt;

    /** The primary key: the {@code @Id} fields above, in order. */
    public record Key(String tenantId, String keId) implements Serializable {}
}
