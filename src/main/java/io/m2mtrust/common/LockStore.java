package io.m2mtrust.common;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;

/**
 * Named PostgreSQL advisory locks held until the current transaction ends: they serialise work across replicas
 * where there is no row to lock yet (a registration replaced, not updated; an enrolee's first enrolment). Callers
 * run inside a transaction; name a lock {@code "<what>|<tenant>|..."} so two kinds never share one.
 */
@ApplicationScoped
public class LockStore {

    private final EntityManager em;

    LockStore(EntityManager em) {
        this.em = em;
    }

    /** Waits for the lock named {@code name}. */
    public void lock(String name) {
        em.createNativeQuery("select count(*) from (select pg_advisory_xact_lock(hashtextextended(?1, 0))) l")
                .setParameter(1, name)
                .getSingleResult();
    }

    /** Takes the lock named {@code name} if no other transaction holds it; never waits. */
    public boolean tryLock(String name) {
        return (Boolean) em.createNativeQuery("select pg_try_advisory_xact_lock(hashtextextended(?1, 0))")
                .setParameter(1, name)
                .getSingleResult();
    }
}
