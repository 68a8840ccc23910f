package io.m2mtrust.audit;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

import java.time.Instant;

/** One link of a per-tenant audit hash chain; {@code hash = SHA-256(prevHash || canonical fields)}. */
@Entity
@Table(name = "audit_event")
public class AuditEvent extends PanacheEntityBase {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(nullable = false)
    public String chain;

    @Column(nullable = false)
    public long seq;

    @Column(name = "occurred_at", nullable = false)
    public Instant occurredAt;

    @Column(nullable = false)
    public String actor;

    @Column(nullable = false)
    public String action;

    @Column(nullable = false)
    public String target;

    @Column(nullable = false)
    public String outcome;

    public String detail;

    @Column(name = "request_id")
    public String requestId;

    @Column(name = "prev_hash", nullable = false)
    public byte[] prevHash;

    @Column(nullable = false)
    public byte[] hash;
}
