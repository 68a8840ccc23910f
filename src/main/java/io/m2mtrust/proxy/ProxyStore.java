package io.m2mtrust.proxy;

import jakarta.enterprise.context.ApplicationScoped;

import java.util.List;
import java.util.Optional;

/**
 * The queries over the proxy's tables: protected entities, remote receivers and ESData rules (the configuration
 * row itself is read by key). Callers run inside a transaction.
 */
@ApplicationScoped
class ProxyStore {

    List<ProtectedEntity> entities(String tenantId) {
        return ProtectedEntity.list("tenantId = ?1 order by entityId", tenantId);
    }

    /** Every tenant's protected entities. */
    List<ProtectedEntity> allEntities() {
        return ProtectedEntity.listAll();
    }

    Optional<ProtectedEntity> entity(String tenantId, String entityId) {
        return ProtectedEntity.findByIdOptional(new ProtectedEntity.Key(tenantId, entityId));
    }

    Optional<ProtectedEntity> entityAt(String tenantId, String resourcePath) {
        return ProtectedEntity.find("tenantId = ?1 and resourcePath = ?2", tenantId, resourcePath)
                .firstResultOptional();
    }

    int deleteEntity(String tenantId, String entityId) {
        return (int) ProtectedEntity.delete("tenantId = ?1 and entityId = ?2", tenantId, entityId);
    }

    List<ProxyRemote> remotes(String tenantId) {
        return ProxyRemote.list("tenantId = ?1 order by name", tenantId);
    }

    int deleteRemote(String tenantId, String name) {
        return (int) ProxyRemote.delete("tenantId = ?1 and name = ?2", tenantId, name);
    }

    List<EsDataRule> esdataRules(String tenantId) {
        return EsDataRule.list("tenantId = ?1 order by id", tenantId);
    }

    Optional<EsDataRule> esdataRuleAt(String tenantId, String containerPath) {
        return EsDataRule.find("tenantId = ?1 and containerPath = ?2", tenantId, containerPath)
                .firstResultOptional();
    }

    int deleteEsdataRule(String tenantId, String id) {
        return (int) EsDataRule.delete("tenantId = ?1 and id = ?2", tenantId, id);
    }
}
