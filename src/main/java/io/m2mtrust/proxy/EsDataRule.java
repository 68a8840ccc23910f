package io.m2mtrust.proxy;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.Table;

import java.io.Serializable;
import java.time.Instant;
import java.util.Objects;

/** A tenant rule: content instances in {@link #containerPath} are protected with ESData ({@link #rule} is a {@link ProxyEsData.Rule} as JSON). */
@Entity
@Table(name = "proxy_esdata_rule")
@IdClass(EsDataRule.Key.class)
public class EsDataRule {

    @Id
    @Column(name = "tenant_id")
    public String tenantId;

    @Id
    public String id;

    @Column(name = "container_path", nullable = false)
    public String containerPath;

    @Column(nullable = false)
    public String rule;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;

    public static class Key implements Serializable {
        public String tenantId;
        public String id;

        public Key() {}

        public Key(String tenantId, String id) {
            this.tenantId = tenantId;
            this.id = id;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && Objects.equals(k.tenantId, tenantId) && Objects.equals(k.id, id);
        }

        @Override
        public int hashCode() {
            return Objects.hash(tenantId, id);
        }
    }
}
