package io.m2mtrust.esprim;

import io.m2mtrust.tenant.TenantOwned;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.Table;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

import java.io.Serializable;
import java.time.Instant;
import java.util.List;

/** A stored rand object: ours as receiver (shared or for one originator), or an originator's we accepted. */
@Entity
@Table(name = "esprim_rand")
@IdClass(EsprimRand.Key.class)
public class EsprimRand extends TenantOwned {

    /** RECEIVER/ORIGINATOR: this service is the receiver; PEER_RECEIVER/OWN_ORIGINATOR: it originates for a local entity. */
    public enum Role {
        RECEIVER,
        ORIGINATOR,
        PEER_RECEIVER,
        OWN_ORIGINATOR
    }

    @Id
    @Column(name = "entity_id")
    public String entityId;

    @Id
    @Enumerated(EnumType.STRING)
    public Role role;

    @Id
    @Column(name = "rand_id")
    public String randId;

    /** Receiver rands made for one originator, and originator rands: that originator. */
    public String peer;

    @Column(nullable = false)
    public boolean shared;

    @Column(name = "rand_value", nullable = false)
    public byte[] randValue;

    @JdbcTypeCode(SqlTypes.ARRAY)
    @Column(name = "key_gen_algs", nullable = false)
    public Integer[] keyGenAlgs;

    @JdbcTypeCode(SqlTypes.ARRAY)
    @Column(name = "protocol_algs", nullable = false)
    public Integer[] protocolAlgs;

    @Column(name = "expires_at", nullable = false)
    public Instant expiresAt;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;

    public RandObject toRandObject() {
        return new RandObject(randId, randValue, expiresAt, List.of(keyGenAlgs), List.of(protocolAlgs));
    }

    /** The primary key: the {@code @Id} fields above, in order. */
    public record Key(String tenantId, String entityId, Role role, String randId) implements Serializable {}
}
