package io.m2mtrust.proxy;

import io.m2mtrust.tenant.TenantOwned;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.Table;

import java.io.Serializable;
import java.time.Instant;

/** A remote ESPrim receiver that legacy entities behind the proxy reach through it: its identity, its binding URL and the pairwise key id. */
@Entity
@Table(name = "proxy_remote")
@IdClass(ProxyRemote.Key.class)
public class ProxyRemote extends TenantOwned {

    @Id
    public String name;

    /** The receiver's CSE-ID or AE-ID (the identity bound to the pairwise key besides the originator). */
    @Column(name = "receiver_id", nullable = false)
    public String receiverId;

    /** The HTTP binding URL of the receiver's {@code <CSEBase>} or {@code <AE>}, where Notify requests go. */
    @Column(nullable = false)
    public String url;

    /** The pairwise key; null: established by ESCertKE with the receiver on first use (and again when it expires). */
    @Column(name = "key_id")
    public String keyId;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;

    /** The primary key: the {@code @Id} fields above, in order. */
    public record Key(String tenantId, String name) implements Serializable {}
}
