package io.m2mtrust.tenant;

import io.m2mtrust.cluster.ReplicaCache;
import io.m2mtrust.cluster.ReplicaCaches;
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

    /** The cluster topic of tenant status changes (ADR 0023). */
    static final String TOPIC = "tenant-status";

    private final EntityManager em;
    private final ReplicaCaches caches;
    /** Whether a tenant is ACTIVE; a status change anywhere in the cluster drops its entry (the TTL is a backstop). */
    private final ReplicaCache<Boolean> active;

    TenantStore(EntityManager em, ReplicaCaches caches) {
        this.em = em;
        this.caches = caches;
        this.active = caches.cache(TOPIC, java.time.Duration.ofSeconds(60), 100_000);
    }

    /**
     * Whether the tenant is ACTIVE, from a cache the hot device paths read without a query. Every status change drops
     * the entry ({@link #statusChanging}) on this replica at once and on the others at its commit, so a suspension
     * refuses the next handshake on every replica.
     */
    public boolean isActive(String id) {
        return active.get(
                id,
                () -> io.quarkus.narayana.jta.QuarkusTransaction.requiringNew().call(() -> {
                    Tenant t = em.find(Tenant.class, id);
                    return t != null && t.status == Tenant.Status.ACTIVE;
                }));
    }

    /** Called in the transaction that changes a tenant's status: every replica's cached status goes. */
    public void statusChanging(String id) {
        caches.changed(TOPIC, id);
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
