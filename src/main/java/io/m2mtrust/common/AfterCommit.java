package io.m2mtrust.common;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Status;
import jakarta.transaction.Synchronization;
import jakarta.transaction.TransactionSynchronizationRegistry;

/**
 * Runs a cache's "forget" when the current transaction ends, committed or not, and once more right away: a reader
 * that loaded the old row before the commit cannot leave it cached past the commit, and nothing outlives a rollback
 * either (the next read reloads). Without a transaction it runs at once.
 */
@ApplicationScoped
public class AfterCommit {

    private final TransactionSynchronizationRegistry transactions;

    AfterCommit(TransactionSynchronizationRegistry transactions) {
        this.transactions = transactions;
    }

    public void forget(Runnable forget) {
        forget.run();
        if (transactions.getTransactionStatus() != Status.STATUS_ACTIVE) {
            return;
        }
        transactions.registerInterposedSynchronization(new Synchronization() {
            @Override
            public void beforeCompletion() {}

            @Override
            public void afterCompletion(int status) {
                forget.run();
            }
        });
    }
}
