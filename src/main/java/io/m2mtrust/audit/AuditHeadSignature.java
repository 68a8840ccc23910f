package io.m2mtrust.audit;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.Table;

import java.io.Serializable;
import java.time.Instant;

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

    /** The primary key: the {@code @Id} fields above, in order. */
    public record Key(String chain, long seq) implements Serializable {}
}
