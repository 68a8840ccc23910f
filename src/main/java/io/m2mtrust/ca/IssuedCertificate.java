package io.m2mtrust.ca;

import io.m2mtrust.common.SubjectType;
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

/** A certificate the tenant CA issued: an end-entity certificate (EST) or the service's FQDN certificate. */
@Entity
@Table(name = "issued_certificate")
@IdClass(IssuedCertificate.Key.class)
public class IssuedCertificate extends TenantOwned {

    public enum Kind {
        CLIENT,
        SERVER
    }

    /** VALID until revoked by an admin or superseded by a re-enrolment of the same subject (both are on the CRL). */
    public enum Status {
        VALID,
        REVOKED,
        SUPERSEDED
    }

    /** Lowercase hex of the certificate's serial number. */
    @Id
    public String serial;

    @Enumerated(EnumType.STRING)
    @Column(nullable = false)
    public Kind kind;

    @Enumerated(EnumType.STRING)
    @Column(name = "subject_type", nullable = false)
    public SubjectType subjectType;

    @Column(name = "subject_id", nullable = false)
    public String subjectId;

    /** The authenticated client that asked (KpmID or certificate identity); null for SERVER certificates. */
    @Column(name = "enrolee_id")
    public String enroleeId;

    @Column(name = "ca_version", nullable = false)
    public int caVersion;

    @Column(name = "tls_key_version")
    public Integer tlsKeyVersion;

    @Column(nullable = false)
    public byte[] der;

    /** {@code x5t#S256}: base64url of the SHA-256 of {@link #der}. */
    @Column(nullable = false)
    public String thumbprint;

    @Enumerated(EnumType.STRING)
    @Column(nullable = false)
    public Status status;

    @Column(name = "not_before", nullable = false)
    public Instant notBefore;

    @Column(name = "not_after", nullable = false)
    public Instant notAfter;

    @Column(name = "issued_at", nullable = false)
    public Instant issuedAt;

    @Column(name = "revoked_at")
    public Instant revokedAt;

    @Column(name = "revocation_reason")
    public Integer revocationReason;

    @Column(name = "replaced_by")
    public String replacedBy;

    /** The primary key: the {@code @Id} fields above, in order. */
    public record Key(String tenantId, String serial) implements Serializable {}
}
