package io.m2mtrust.audit;

import io.quarkus.panache.common.Page;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The one place that queries or writes the {@code audit_event} and {@code audit_head_signature} tables. */
@ApplicationScoped
class AuditStore {

    private final EntityManager em;

    AuditStore(EntityManager em) {
        this.em = em;
    }

    /** Per-chain advisory lock for the current transaction: links are appended strictly in order across replicas. */
    void lockChain(String chain) {
        em.createNativeQuery("select count(*) from (select pg_advisory_xact_lock(hashtextextended(?1, 7301))) l")
                .setParameter(1, chain)
                .getSingleResult();
    }

    Optional<AuditEvent> head(String chain) {
        return AuditEvent.find("chain = ?1 order by seq desc", chain).firstResultOptional();
    }

    void insert(AuditEvent e) {
        em.persist(e);
    }

    void insert(AuditHeadSignature s) {
        em.persist(s);
    }

    /** Up to {@code size} events from {@code fromSeq} on, detached (a walk over a long chain keeps no context). */
    List<AuditEvent> pageFrom(String chain, long fromSeq, int size) {
        List<AuditEvent> batch = AuditEvent.find("chain = ?1 and seq >= ?2 order by seq", chain, fromSeq)
                .page(Page.ofSize(size))
                .list();
        batch.forEach(em::detach);
        return batch;
    }

    Optional<AuditHeadSignature> newestSignature(String chain) {
        return AuditHeadSignature.find("chain = ?1 order by seq desc", chain).firstResultOptional();
    }

    List<AuditEvent> after(String chain, long afterSeq, int limit) {
        return AuditEvent.find("chain = ?1 and seq > ?2 order by seq", chain, afterSeq)
                .page(Page.ofSize(limit))
                .list();
    }

    /** Newest first; each filter optional (the action as a prefix). */
    List<AuditEvent> search(String chain, String actionPrefix, String outcome, Long beforeSeq, int limit) {
        StringBuilder q = new StringBuilder("from AuditEvent where chain = :chain");
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("chain", chain);
        if (actionPrefix != null && !actionPrefix.isBlank()) {
            q.append(" and action like :action");
            params.put("action", actionPrefix.trim().replace("%", "") + "%");
        }
        if (outcome != null) {
            q.append(" and outcome = :outcome");
            params.put("outcome", outcome);
        }
        if (beforeSeq != null) {
            q.append(" and seq < :before");
            params.put("before", beforeSeq);
        }
        var query = em.createQuery(q.append(" order by seq desc").toString(), AuditEvent.class)
                .setMaxResults(limit);
        params.forEach(query::setParameter);
        return query.getResultList();
    }
}
