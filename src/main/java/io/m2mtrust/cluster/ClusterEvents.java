package io.m2mtrust.cluster;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import jakarta.transaction.Status;
import jakarta.transaction.Synchronization;
import jakarta.transaction.TransactionSynchronizationRegistry;
import org.hibernate.Session;

/**
 * Tells every other replica about a change, atomically with it (ADR 0023): the event is written and its
 * notification queued in the caller's transaction, so other replicas hear of exactly the changes that commit, at
 * their commit, in commit order. The receiving side is {@link ClusterEventHandler}.
 */
@ApplicationScoped
public class ClusterEvents {

    private final EntityManager em;
    private final TransactionSynchronizationRegistry transactions;
    private final ClusterLink link;

    ClusterEvents(EntityManager em, TransactionSynchronizationRegistry transactions, ClusterLink link) {
        this.em = em;
        this.transactions = transactions;
        this.link = link;
    }

    /**
     * Publishes {@code payload} (names only, never key material) as an event of {@code kind}; needs a transaction.
     * After the commit the caller's thread waits (at most {@code m2m.cluster.ack-timeout}) until every live replica
     * has applied it, so the change is in force everywhere when the caller answers.
     */
    public void publish(String kind, String payload) {
        if (transactions.getTransactionStatus() != Status.STATUS_ACTIVE) {
            throw new IllegalStateException("a cluster event is published inside the transaction of its change");
        }
        long seq = em.unwrap(Session.class)
                .doReturningWork(c -> ClusterEventStore.insertAndNotify(c, link.replicaId(), kind, payload));
        transactions.registerInterposedSynchronization(new Synchronization() {
            @Override
            public void beforeCompletion() {}

            @Override
            public void afterCompletion(int status) {
                if (status == Status.STATUS_COMMITTED) {
                    link.awaitApplied(seq);
                }
            }
        });
    }
}
