package io.m2mtrust.identity;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;

/**
 * The Keycloak users m2m-trust disabled because their tenant was suspended or deleted ({@code tenant_user_hold}):
 * only those are enabled again when the tenant is reactivated. Callers run inside a transaction.
 */
@ApplicationScoped
class UserHoldStore {

    private final EntityManager em;

    UserHoldStore(EntityManager em) {
        this.em = em;
    }

    void hold(String tenantId, String userId) {
        em.createNativeQuery("insert into tenant_user_hold (tenant_id, user_id, held_at) values (?1, ?2, ?3) "
                        + "on conflict do nothing")
                .setParameter(1, tenantId)
                .setParameter(2, userId)
                .setParameter(3, Instant.now().truncatedTo(ChronoUnit.MICROS))
                .executeUpdate();
    }

    @SuppressWarnings("unchecked")
    List<String> held(String tenantId) {
        return em.createNativeQuery("select user_id from tenant_user_hold where tenant_id = ?1 order by user_id")
                .setParameter(1, tenantId)
                .getResultList();
    }

    void release(String tenantId, String userId) {
        em.createNativeQuery("delete from tenant_user_hold where tenant_id = ?1 and user_id = ?2")
                .setParameter(1, tenantId)
                .setParameter(2, userId)
                .executeUpdate();
    }
}
