package io.m2mtrust.audit;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.Table;

import java.io.Serializable;
import java.time.Instant;
import java.util.Objects;

/** ECDSA P-256 signature (made in the HSM with the chain owner's SIGN key) over a chain head. */
@Entity
@Table(name = "audit_head_signature")
@IdClass(AuditHeadSignature.Key.class)
public class AuditHeadSignature extends PanacheEntityBase {

    @Id
    public String chain;

    @Id
    public long seq;

    @Column(nullable = false)
    public byte[] hash;

    @Column(nullable = false)
    public byte[] signature;

    @Column(name = "key_label", nullable = false)
    public String keyLabel;

    @Column(name = "signed_at", nullable = false)
    public Instant signedAt;

    public static class Key implements Serializable {
        public String chain;
        public long seq;

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.seq == seq && Objects.equals(k.chain, chain);
        }

        @Override
        public int hashCode() {
            return Objects.hash(chain, seq);
        }
    }
}
