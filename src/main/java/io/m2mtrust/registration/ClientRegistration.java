package io.m2mtrust.registration;

import io.m2mtrust.tenant.TenantOwned;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.Table;

import java.io.Serializable;
import java.time.Instant;

/** A MEF or MAF Client Registration record (TS-0003 §8.3.5.2.3 / §8.8.2.3; {@code <mefClientReg>} for the MEF). */
@Entity
@Table(name = "client_registration")
@IdClass(ClientRegistration.Key.class)
public class ClientRegistration extends TenantOwned {

    /** MEFClientRegID. */
    @Id
    @Column(name = "reg_id")
    public String regId;

    @jakarta.persistence.Enumerated(jakarta.persistence.EnumType.STRING)
    @Column(nullable = false)
    public Registrar registrar;

    /** MEF/MAF Client ID: the identity the client authenticated with. */
    @Column(name = "client_id", nullable = false)
    public String clientId;

    @Column(name = "admin_fqdn", nullable = false)
    public String adminFqdn;

    @Column(nullable = false)
    public String[] labels;

    @Column(name = "expires_at", nullable = false)
    public Instant expiresAt;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;

    @Column(name = "updated_at", nullable = false)
    public Instant updatedAt;

    @Column(name = "next_cmd_no", nullable = false)
    public int nextCmdNo;

    /** MAF only, remotely provisioned Km (§8.8.2.3): the KeID it was fetched for. */
    @Column(name = "ke_id")
    public String keId;

    /** MAF only: the MAF-assigned KmID (assignedSymmKeyID), the psk_identity of later MAF handshakes. */
    @Column(name = "km_id")
    public String kmId;

    /** MAF only: Km sealed under the tenant KEK (AAD tenant, KmID, "Km"). */
    @Column(name = "sealed_km")
    public byte[] sealedKm;

    /** MAF only: Km never outlives the Ke it came from (§10.7). */
    @Column(name = "km_expires_at")
    public Instant kmExpiresAt;

    public boolean expired(Instant now) {
        return !expiresAt.isAfter(now);
    }

    /** The primary key: the {@code @Id} fields above, in order. */
    public record Key(String tenantId, String regId) implements Serializable {}
}
