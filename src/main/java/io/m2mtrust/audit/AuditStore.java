package io.m2mtrust.audit;

import io.quarkus.panache.common.Page;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import org.hibernate.Session;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/** The one place that queries or writes the {@code audit_event} and {@code audit_head_signature} tables. */
@ApplicationScoped
class AuditStore {

    private final EntityManager em;

    AuditStore(EntityManager em) {
        this.em = em;
    }

    /** Where a link goes: its sequence number and the previous link's hash. */
    record Link(long seq, byte[] hash) {}

    /**
     * The head this replica last wrote per chain (sequence number and hash of that link). It is only a guess: an
     * append that builds on it moves the head row on the condition that the row still says exactly that, so a guess
     * that another replica, a rolled-back transaction or a hand-edited row made stale costs one more statement and is
     * never trusted.
     */
    private final ConcurrentHashMap<String, Link> lastWritten = new ConcurrentHashMap<>();

    /**
     * Appends the link {@code build} makes from the previous link (next sequence number, previous hash) and moves the
     * chain's head to it; the head row stays locked until the transaction ends, so links are strictly sequential
     * across replicas. Usually one round trip: the head row is moved on the condition that it is still at the link
     * this replica wrote last, and the event inserted, in one statement. When that condition fails (or this replica
     * has not written the chain yet) the head row is locked and read first, then the link inserted.
     */
    AuditEvent append(String chain, Function<Link, AuditEvent> build) {
        Session session = em.unwrap(Session.class);
        session.flush(); // the caller's pending changes reach the database before its audit link, as they did before
        Link guess = lastWritten.get(chain);
        if (guess != null) {
            AuditEvent e = build.apply(new Link(guess.seq() + 1, guess.hash()));
            if (session.doReturningWork(c -> insertIfHeadAt(c, e)) == 1) {
                remember(e);
                return e;
            }
        }
        AuditEvent e = build.apply(session.doReturningWork(c -> nextLink(c, chain)));
        session.doWork(c -> insertLink(c, e));
        remember(e);
        return e;
    }

    private void remember(AuditEvent e) {
        lastWritten.merge(e.chain, new Link(e.seq, e.hash), (old, now) -> now.seq() >= old.seq() ? now : old);
    }

    /** Moves the head from {@code e.seq - 1}/{@code e.prevHash} to {@code e} and inserts it, or does nothing (0). */
    private static int insertIfHeadAt(Connection c, AuditEvent e) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("with moved as (update audit_chain_head set seq = ?, hash = ?"
                + " where chain = ? and seq = ? and hash = ? returning 1)"
                + " insert into audit_event (chain, seq, occurred_at, actor, action, target, outcome, detail, request_id,"
                + " prev_hash, hash) select ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? from moved")) {
            s.setLong(1, e.seq);
            s.setBytes(2, e.hash);
            s.setString(3, e.chain);
            s.setLong(4, e.seq - 1);
            s.setBytes(5, e.prevHash);
            bindEvent(s, 6, e);
            return s.executeUpdate();
        }
    }

    /**
     * Takes the chain's head row lock for the rest of the transaction and returns the next sequence number with the
     * previous hash, in one statement: a first append makes the row, later ones raise its {@code seq} and read its
     * hash (the previous link's) under the lock.
     */
    private static Link nextLink(Connection c, String chain) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("insert into audit_chain_head (chain, seq, hash) values (?, 1, ?)"
                + " on conflict (chain) do update set seq = audit_chain_head.seq + 1 returning seq, hash")) {
            s.setString(1, chain);
            s.setBytes(2, AuditChainHash.GENESIS);
            try (ResultSet r = s.executeQuery()) {
                r.next();
                return new Link(r.getLong(1), r.getBytes(2));
            }
        }
    }

    /** Inserts a link and moves the chain's head to it, in one statement (the head row is already locked). */
    private static void insertLink(Connection c, AuditEvent e) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("with moved as (update audit_chain_head set hash = ? where chain"
                + " = ? and seq = ?) insert into audit_event (chain, seq, occurred_at, actor, action, target, outcome,"
                + " detail, request_id, prev_hash, hash) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            s.setBytes(1, e.hash);
            s.setString(2, e.chain);
            s.setLong(3, e.seq);
            bindEvent(s, 4, e);
            s.executeUpdate();
        }
    }

    private static void bindEvent(PreparedStatement s, int from, AuditEvent e) throws SQLException {
        s.setString(from, e.chain);
        s.setLong(from + 1, e.seq);
        s.setObject(from + 2, OffsetDateTime.ofInstant(e.occurredAt, ZoneOffset.UTC));
        s.setString(from + 3, e.actor);
        s.setString(from + 4, e.action);
        s.setString(from + 5, e.target);
        s.setString(from + 6, e.outcome);
        s.setString(from + 7, e.detail);
        s.setString(from + 8, e.requestId);
        s.setBytes(from + 9, e.prevHash);
        s.setBytes(from + 10, e.hash);
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
