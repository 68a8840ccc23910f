package io.m2mtrust.proxy;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;

import java.util.List;
import java.util.Optional;

/**
 * The queries over the proxy's tables: protected entities, remote receivers and ESData rules (the configuration
 * row itself is read by key). Callers run inside a transaction.
 */
@ApplicationScoped
class ProxyStore {

    private final EntityManager em;

    ProxyStore(EntityManager em) {
        this.em = em;
    }

    List<ProtectedEntity> entities(String tenantId) {
        return em.createQuery("from ProtectedEntity where tenantId = ?1 order by entityId", ProtectedEntity.class)
                .setParameter(1, tenantId)
                .getResultList();
    }

    /** Every tenant's protected entities. */
    List<ProtectedEntity> allEntities() {
        return em.createQuery("from ProtectedEntity", ProtectedEntity.class).getResultList();
    }

    Optional<ProtectedEntity> entity(String tenantId, String entityId) {
        return Optional.ofNullable(em.find(ProtectedEntity.class, new ProtectedEntity.Key(tenantId, entityId)));
    }

    Optional<ProtectedEntity> entityAt(String tenantId, String resourcePath) {
        return em.createQuery("from ProtectedEntity where tenantId = ?1 and resourcePath = ?2", ProtectedEntity.class)
                .setParameter(1, tenantId)
                .setParameter(2, resourcePath)
                .getResultStream()
                .findFirst();
    }

    int deleteEntity(String tenantId, String entityId) {
        return em.createQuery("delete from ProtectedEntity where tenantId = ?1 and entityId = ?2")
                .setParameter(1, tenantId)
                .setParameter(2, entityId)
                .executeUpdate();
    }

    List<ProxyRemote> remotes(String tenantId) {
        return em.createQuery("from ProxyRemote where tenantId = ?1 order by name", ProxyRemote.class)
                .setParameter(1, tenantId)
                .getResultList();
    }

    int deleteRemote(String tenantId, String name) {
        return em.createQuery("delete from ProxyRemote where tenantId = ?1 and name = ?2")
                .setParameter(1, tenantId)
                .setParameter(2, name)
                .executeUpdate();
    }

    List<EsDataRule> esdataRules(String tenantId) {
        return em.createQuery("from EsDataRule where tenantId = ?1 order by id", EsDataRule.class)
                .setParameter(1, tenantId)
                .getResultList();
    }

    Optional<EsDataRule> esdataRuleAt(String tenantId, String containerPath) {
        return em.createQuery("from EsDataRule where tenantId = ?1 and containerPath = ?2", EsDataRule.class)
                .setParameter(1, tenantId)
                .setParameter(2, containerPath)
                .getResultStream()
                .findFirst();
    }

    int deleteEsdataRule(String tenantId, String id) {
        return em.createQuery("delete from EsDataRule where tenantId = ?1 and id = ?2")
                .setParameter(1, tenantId)
                .setParameter(2, id)
                .executeUpdate();
    }
}
