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

    /** A chain position: a sequence number and a hash (for {@link #nextLink}, the previous link's hash). */
    record Link(long seq, byte[] hash) {}

    /**
     * Takes the chain's head row lock for the rest of the transaction (appends are strictly sequential across
     * replicas) and returns the next sequence number with the previous hash, in one statement: a first append makes
     * the row, later ones raise its {@code seq} and read its hash (the previous link's) under the lock.
     */
    Link nextLink(String chain) {
        Object[] row = (Object[]) em.createNativeQuery(
                        "insert into audit_chain_head (chain, seq, hash) values (?1, 1, ?2) on conflict (chain) do"
                                + " update set seq = audit_chain_head.seq + 1 returning seq, hash")
                .setParameter(1, chain)
                .setParameter(2, AuditChainHash.GENESIS)
                .getSingleResult();
        return new Link(((Number) row[0]).longValue(), (byte[]) row[1]);
    }

    /** Inserts a link and moves the chain's head to it, in one statement (the head row is already locked). */
    void insertLink(AuditEvent e) {
        em.createNativeQuery("with moved as (update audit_chain_head set hash = ?11 where chain = ?1 and seq = ?2)"
                        + " insert into audit_event (chain, seq, occurred_at, actor, action, target, outcome, detail,"
                        + " request_id, prev_hash, hash) values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)")
                .setParameter(1, e.chain)
                .setParameter(2, e.seq)
                .setParameter(3, e.occurredAt)
                .setParameter(4, e.actor)
                .setParameter(5, e.action)
                .setParameter(6, e.target)
                .setParameter(7, e.outcome)
                .setParameter(8, e.detail)
                .setParameter(9, e.requestId)
                .setParameter(10, e.prevHash)
                .setParameter(11, e.hash)
                .executeUpdate();
    }

    /** The sequence number the chain's head row records (0 for a chain never appended to). */
    long headSeq(String chain) {
        List<?> r = em.createNativeQuery("select seq from audit_chain_head where chain = ?1")
                .setParameter(1, chain)
                .getResultList();
        return r.isEmpty() ? 0 : ((Number) r.get(0)).longValue();
    }

    /** The head row's sequence number and hash, to sign a chain whose last signature failed. */
    Optional<Link> head(String chain) {
        List<?> r = em.createNativeQuery("select seq, hash from audit_chain_head where chain = ?1")
                .setParameter(1, chain)
                .getResultList();
        if (r.isEmpty()) {
            return Optional.empty();
        }
        Object[] row = (Object[]) r.get(0);
        return Optional.of(new Link(((Number) row[0]).longValue(), (byte[]) row[1]));
    }

    /** Chains whose head row is ahead of their newest signature (a crash or an outage before the signer ran). */
    @SuppressWarnings("unchecked")
    List<String> chainsWithUnsignedHeads() {
        return em.createNativeQuery("select h.chain from audit_chain_head h where h.seq > coalesce((select max(s.seq)"
                        + " from audit_head_signature s where s.chain = h.chain), 0)")
                .getResultList();
    }

    /** The newest signed sequence number of a chain (0 if none). */
    long signedSeq(String chain) {
        List<?> r = em.createNativeQuery("select max(seq) from audit_head_signature where chain = ?1")
                .setParameter(1, chain)
                .getResultList();
        return r.isEmpty() || r.get(0) == null ? 0 : ((Number) r.get(0)).longValue();
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
