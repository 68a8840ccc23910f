package io.m2mtrust.security;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import jakarta.transaction.Status;
import jakarta.transaction.Synchronization;
import jakarta.transaction.TransactionSynchronizationRegistry;
import org.jboss.logging.Logger;

import java.util.List;

/**
 * Publishes revocations to every {@link RevocationListener}: each revokes its own rows in the caller's transaction,
 * and after a successful commit each drops its caches. The one way a feature revokes another feature's data.
 */
@ApplicationScoped
public class Revocations {

    private static final Logger LOG = Logger.getLogger(Revocations.class);

    private final Instance<RevocationListener> listeners;
    private final TransactionSynchronizationRegistry transactions;

    Revocations(Instance<RevocationListener> listeners, TransactionSynchronizationRegistry transactions) {
        this.listeners = listeners;
        this.transactions = transactions;
    }

    /** Runs inside a transaction; returns what the owners revoked, nested revocations included. */
    public RevocationEffects publish(Revocation event) {
        if (transactions.getTransactionStatus() != Status.STATUS_ACTIVE) {
            throw new IllegalStateException("a revocation is published inside the transaction that decides it");
        }
        List<RevocationListener> all = listeners.stream().toList();
        RevocationEffects effects = RevocationEffects.NONE;
        for (RevocationListener l : all) {
            effects = effects.plus(l.revoke(event));
        }
        transactions.registerInterposedSynchronization(new Synchronization() {
            @Override
            public void beforeCompletion() {}

            @Override
            public void afterCompletion(int status) {
                if (status == Status.STATUS_COMMITTED) {
                    forgetEverywhere(all, event);
                }
            }
        });
        return effects;
    }

    private static void forgetEverywhere(List<RevocationListener> all, Revocation event) {
        for (RevocationListener l : all) {
            try {
                l.forget(event);
            } catch (RuntimeException e) {
                LOG.errorf(
                        "%s could not drop its caches for %s: %s", l.getClass().getSimpleName(), event, e);
            }
        }
    }
}
