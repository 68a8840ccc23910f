package io.m2mtrust.security;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.m2mtrust.cluster.ClusterEventHandler;
import io.m2mtrust.cluster.ClusterEvents;
import io.quarkus.arc.ClientProxy;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.transaction.Status;
import jakarta.transaction.Synchronization;
import jakarta.transaction.TransactionSynchronizationRegistry;
import org.jboss.logging.Logger;

import java.util.List;

/**
 * Publishes revocations to every {@link RevocationListener}: each revokes its own rows in the caller's transaction,
 * and after a successful commit each drops its caches, on this replica and (through a cluster event written in the
 * same transaction, ADR 0023) on every other one. The one way a feature revokes another feature's data.
 */
@ApplicationScoped
public class Revocations implements ClusterEventHandler {

    private static final Logger LOG = Logger.getLogger(Revocations.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String KIND = "revocation";

    private final Instance<RevocationListener> listeners;
    private final TransactionSynchronizationRegistry transactions;
    private final ClusterEvents cluster;

    Revocations(
            Instance<RevocationListener> listeners,
            TransactionSynchronizationRegistry transactions,
            ClusterEvents cluster) {
        this.listeners = listeners;
        this.transactions = transactions;
        this.cluster = cluster;
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
        try {
            cluster.publish(KIND, JSON.writeValueAsString(event));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a revocation event must serialise", e);
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

    /**
     * Creates every listener now, not at the first revocation: the first event another replica sends must not wait
     * for bean creation or Jackson's first look at the event types (together 60–140 ms in ClusterIT before this).
     */
    void warm(@Observes StartupEvent ev) throws JsonProcessingException {
        listeners.forEach(ClientProxy::unwrap);
        // and Jackson's introspection of the event types
        JSON.readValue(
                JSON.writeValueAsString(new KeyRevoked("warm-up", KeyRevoked.Kind.ENROLMENT, List.of(), "warm-up")),
                Revocation.class);
    }

    @Override
    public String kind() {
        return KIND;
    }

    /** Another replica committed {@code payload}'s revocation: the owners drop what this replica cached of it. */
    @Override
    public void onRemote(String payload) {
        Revocation event;
        try {
            event = JSON.readValue(payload, Revocation.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not a revocation event", e);
        }
        forgetEverywhere(listeners.stream().toList(), event);
    }

    /** Nothing of its own: the owners' caches are {@code ReplicaCache}s, which a lost link empties. */
    @Override
    public void onLinkLost() {}

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
