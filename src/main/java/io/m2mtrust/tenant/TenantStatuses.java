package io.m2mtrust.tenant;

import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The status of a tenant as the admin API's door sees it, remembered for at most {@code m2m.tenants.status-cache}
 * (5 s) so that a suspended or deleted tenant's tokens stop working within seconds on every replica without a
 * query per request. Changes made through this replica are forgotten at once.
 */
@ApplicationScoped
public class TenantStatuses {

    private record Seen(Tenant.Status status, long atNanos) {
    }

    private final EntityManager em;
    private final long ttlNanos;
    private final ConcurrentHashMap<String, Seen> seen = new ConcurrentHashMap<>();

    TenantStatuses(EntityManager em, @ConfigProperty(name = "m2m.tenants.status-cache", defaultValue = "5s") Duration ttl) {
        this.em = em;
        this.ttlNanos = ttl.toNanos();
    }

    /** The tenant's status; empty when it never existed (or is still being created). */
    public Optional<Tenant.Status> of(String tenantId) {
        long now = System.nanoTime();
        Seen s = seen.get(tenantId);
        if (s == null || now - s.atNanos() > ttlNanos) {
            Tenant.Status status = QuarkusTransaction.joiningExisting().call(() -> {
                Tenant t = em.find(Tenant.class, tenantId);
                return t == null ? null : t.status;
            });
            if (status == null || status == Tenant.Status.CREATING) {
                seen.remove(tenantId);
                return Optional.empty();
            }
            s = new Seen(status, now);
            if (seen.size() > 10_000) {
                seen.clear();
            }
            seen.put(tenantId, s);
        }
        return Optional.of(s.status());
    }

    public void forget(String tenantId) {
        seen.remove(tenantId);
    }
}
