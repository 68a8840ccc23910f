package io.m2mtrust.mef;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.Table;

import java.io.Serializable;
import java.time.Instant;
import java.util.Objects;

/** An MEF Client Registration record (TS-0003 §8.3.5.2.3; {@code <mefClientReg>} in the resource model). */
@Entity
@Table(name = "mef_client_registration")
@IdClass(MefClientRegistration.Key.class)
public class MefClientRegistration {

    @Id
    @Column(name = "tenant_id")
    public String tenantId;

    /** MEFClientRegID. */
    @Id
    @Column(name = "reg_id")
    public String regId;

    /** MEF Client ID: the identity the client authenticated with. */
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

    public boolean expired(Instant now) {
        return !expiresAt.isAfter(now);
    }

    public static class Key implements Serializable {
        public String tenantId;
        public String regId;

        public Key() {
        }

        public Key(String tenantId, String regId) {
            this.tenantId = tenantId;
            this.regId = regId;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && Objects.equals(k.tenantId, tenantId) && Objects.equals(k.regId, regId);
        }

        @Override
        public int hashCode() {
            return Objects.hash(tenantId, regId);
        }
    }
}
