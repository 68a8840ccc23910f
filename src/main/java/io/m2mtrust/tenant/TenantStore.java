package io.m2mtrust.tenant;

import io.m2mtrust.common.AfterCommit;
import io.m2mtrust.common.ApiProblem;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import jakarta.persistence.LockModeType;

import java.util.List;
import java.util.Optional;

/**
 * The store of {@link Tenant} rows: the one place that queries or writes the {@code tenant} table. Lookups answer
 * the statuses an admin can see (a CREATING claim is invisible: 404).
 */
@ApplicationScoped
public class TenantStore {

    /** How long another replica may answer from its cache after a status change there (issue 19 shortens it). */
    static final long ACTIVE_CACHE_NANOS = java.time.Duration.ofSeconds(5).toNanos();

    private record CachedStatus(boolean active, long loadedAt) {}

    private final EntityManager em;
    private final AfterCommit afterCommit;
    private final java.util.concurrent.ConcurrentHashMap<String, CachedStatus> active =
            new java.util.concurrent.ConcurrentHashMap<>();

    TenantStore(EntityManager em, AfterCommit afterCommit) {
        this.em = em;
        this.afterCommit = afterCommit;
    }

    /**
     * Whether the tenant is ACTIVE, from a cache the hot device paths read without a query. Every status change on
     * this replica drops the entry ({@link #statusChanging}), so a suspension refuses the very next handshake here.
     */
    public boolean isActive(String id) {
        CachedStatus c = active.get(id);
        long now = System.nanoTime();
        if (c != null && now - c.loadedAt() < ACTIVE_CACHE_NANOS) {
            return c.active();
        }
        boolean a = io.quarkus.narayana.jta.QuarkusTransaction.requiringNew().call(() -> {
            Tenant t = em.find(Tenant.class, id);
            return t != null && t.status == Tenant.Status.ACTIVE;
        });
        active.put(id, new CachedStatus(a, now));
        return a;
    }

    /** Called in the transaction that changes a tenant's status: the cached status goes now and at its end. */
    public void statusChanging(String id) {
        afterCommit.forget(() -> active.remove(id));
    }

    /** The tenant, whatever its status; 404 if it never existed (or is only being created). */
    public Tenant get(String id) {
        Tenant t = em.find(Tenant.class, TenantIds.require(id));
        if (t == null || t.status == Tenant.Status.CREATING) {
            throw ApiProblem.notFound("tenant " + id);
        }
        return t;
    }

    /** A tenant whose keys and policy still exist; 410 for a deleted (crypto-shredded) tenant. */
    public Tenant requireLive(String id) {
        Tenant t = get(id);
        if (t.status == Tenant.Status.DELETED) {
            throw ApiProblem.gone("tenant " + id + " was deleted and its keys destroyed");
        }
        return t;
    }

    /** Every visible tenant in id order, or only {@code onlyIdOrNull} when it is given. */
    public List<Tenant> list(String onlyIdOrNull) {
        if (onlyIdOrNull != null) {
            Tenant t = em.find(Tenant.class, onlyIdOrNull);
            return t == null || t.status == Tenant.Status.CREATING ? List.of() : List.of(t);
        }
        return em.createQuery("from Tenant where status <> ?1 order by id", Tenant.class)
                .setParameter(1, Tenant.Status.CREATING)
                .getResultList();
    }

    /** The row in any status, without a lock. */
    public Optional<Tenant> find(String id) {
        return Optional.ofNullable(em.find(Tenant.class, id));
    }

    /** The row in any status, locked for the rest of the transaction. */
    public Optional<Tenant> findForUpdate(String id) {
        return Optional.ofNullable(em.find(Tenant.class, id, LockModeType.PESSIMISTIC_WRITE));
    }

    /** Optimistic check of the row's version at commit (its ETag). */
    public void lockOptimistic(Tenant t) {
        em.lock(t, LockModeType.OPTIMISTIC);
    }

    public void lockPessimistic(Tenant t) {
        em.lock(t, LockModeType.PESSIMISTIC_WRITE);
    }

    /**
     * Row lock on the tenant for the current transaction: serialises key creation and rotation per tenant across
     * replicas (the version numbers they compute must not collide).
     */
    public void lockForUpdate(String tenantId) {
        em.createNativeQuery("select id from tenant where id = ?1 for update")
                .setParameter(1, tenantId)
                .getResultList();
    }

    public void insert(Tenant t) {
        em.persist(t);
        em.flush();
    }

    public void flush() {
        em.flush();
    }

    /** Drops a creation claim (a CREATING row) and nothing else. */
    public void dropClaim(String id) {
        em.createQuery("delete from Tenant where id = ?1 and status = ?2")
                .setParameter(1, id)
                .setParameter(2, Tenant.Status.CREATING)
                .executeUpdate();
    }

    // ------------------------------------------------ identity bookkeeping (bulk updates: the row's version, its
    // ETag, is about what an admin set, not about this)

    /** Remembers the tenant's Keycloak group, made on first use, unless one is already remembered. */
    public void adoptIdentityGroup(String id, String groupId) {
        em.createNativeQuery("update tenant set identity_group_id = ?1, identity_status = status "
                        + "where id = ?2 and identity_group_id is null")
                .setParameter(1, groupId)
                .setParameter(2, id)
                .executeUpdate();
    }

    /**
     * Records that the tenant's users now match {@code status}; false when the tenant's status changed meanwhile
     * (the next apply handles it).
     */
    public boolean markIdentityApplied(String id, Tenant.Status status) {
        return em.createNativeQuery("update tenant set identity_status = ?1 where id = ?2 and status = ?1")
                        .setParameter(1, status.name())
                        .setParameter(2, id)
                        .executeUpdate()
                > 0;
    }

    /** Tenants with a Keycloak group whose users do not yet match their status, in id order. */
    @SuppressWarnings("unchecked")
    public List<String> identityLagging() {
        return em.createNativeQuery("select id from tenant where identity_group_id is not null "
                        + "and status <> 'CREATING' and (identity_status is null or identity_status <> status) "
                        + "order by id")
                .getResultList();
    }
}
