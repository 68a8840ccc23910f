package io.m2mtrust.escertke;

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

/**
 * A pairwise key established by ESCertKE (TS-0003 §8.7): the last 32 bytes of {@code EXPORTER-oneM2M-ESCertKE},
 * sealed under the tenant KEK; bound to the two identities whose certificates the handshake authenticated.
 */
@Entity
@Table(name = "escertke_key")
@IdClass(EscertkeKey.Key.class)
public class EscertkeKey extends TenantOwned {

    public enum Role {
        INITIATOR,
        TERMINATOR
    }

    /** {@code hex(pairwiseE2EKeyID)@<initiator's FQDN>} (interop profile). */
    @Id
    @Column(name = "key_id")
    public String keyId;

    @Enumerated(EnumType.STRING)
    @Column(nullable = false)
    public Role role;

    /** The From this side used (the protected entity, or the legacy originator in its absolute form). */
    @Column(name = "local_identity", nullable = false)
    public String localIdentity;

    /** The From the peer used, matched to its certificate's subjectAltName. */
    @Column(name = "peer_identity", nullable = false)
    public String peerIdentity;

    /** The subjectAltName of this side's certificate (the identity an ESData end-point uses for the key). */
    @Column(name = "local_subject", nullable = false)
    public String localSubject;

    /** The subjectAltName of the peer's certificate. */
    @Column(name = "peer_subject", nullable = false)
    public String peerSubject;

    /** Whether {@code identity} is this side (by its From or its certificate's subjectAltName). */
    public boolean isLocal(String identity) {
        return localIdentity.equals(identity) || localSubject.equals(identity);
    }

    /** Whether {@code identity} is the peer (by its From or its certificate's subjectAltName). */
    public boolean isPeer(String identity) {
        return peerIdentity.equals(identity) || peerSubject.equals(identity);
    }

    @Column(name = "peer_certificate_serial", nullable = false)
    public String peerCertificateSerial;

    @Column(name = "peer_certificate_sha256", nullable = false)
    public String peerCertificateSha256;

    @Column(name = "sealed_key", nullable = false)
    public byte[] sealedKey;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;

    @Column(name = "expires_at", nullable = false)
    public Instant expiresAt;

    @Column(name = "revoked_at")
    public Instant revokedAt;

    public boolean usable(Instant now) {
        return revokedAt == null && expiresAt.isAfter(now);
    }

    @Override
    public String toString() {
        return "EscertkeKey[" + tenantId + "/" + keyId + " " + role + " " + localIdentity + " <-> " + peerIdentity
                + "]"; // never the blob
    }

    /** The primary key: the {@code @Id} fields above, in order. */
    public record Key(String tenantId, String keyId) implements Serializable {}
}
