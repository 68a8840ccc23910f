package io.m2mtrust.tenant;

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
public class Tenants {

    private final EntityManager em;

    Tenants(EntityManager em) {
        this.em = em;
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
}
