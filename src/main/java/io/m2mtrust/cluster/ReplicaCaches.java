package io.m2mtrust.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Status;
import jakarta.transaction.Synchronization;
import jakarta.transaction.TransactionSynchronizationRegistry;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Every replica's caches, by topic (ADR 0023). A change calls {@link #changed} in its transaction: the topic's caches
 * forget the tenant here now and when the transaction ends, and on every other replica when it commits. A lost link
 * forgets everything.
 */
@ApplicationScoped
public class ReplicaCaches implements ClusterEventHandler {

    static final String KIND = "cache";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Something a topic holds besides {@link ReplicaCache}s (sessions, say) that a change must reach. */
    public interface Forgetter {
        void forgetTenant(String tenantId);

        void forgetAll();
    }

    private final ClusterLink link;
    private final ClusterEvents events;
    private final TransactionSynchronizationRegistry transactions;
    private final ConcurrentHashMap<String, List<Forgetter>> topics = new ConcurrentHashMap<>();

    ReplicaCaches(ClusterLink link, ClusterEvents events, TransactionSynchronizationRegistry transactions) {
        this.link = link;
        this.events = events;
        this.transactions = transactions;
    }

    /** A new cache under {@code topic}; entries live at most {@code ttl} (zero: until a change). */
    public <V> ReplicaCache<V> cache(String topic, Duration ttl, int maxEntries) {
        ReplicaCache<V> c = new ReplicaCache<>(topic, ttl, maxEntries, link);
        register(topic, new Forgetter() {
            @Override
            public void forgetTenant(String tenantId) {
                c.forgetTenant(tenantId);
            }

            @Override
            public void forgetAll() {
                c.forgetAll();
            }
        });
        return c;
    }

    /** Adds what {@code topic}'s changes must also reach on this replica. */
    public void register(String topic, Forgetter forgetter) {
        topics.computeIfAbsent(topic, t -> new CopyOnWriteArrayList<>()).add(forgetter);
    }

    /**
     * {@code tenantId}'s entries of {@code topic} changed: forgotten here now and when the current transaction ends
     * (committed or not), and on every other replica at its commit. Without a transaction the event gets one.
     */
    public void changed(String topic, String tenantId) {
        forgetHere(topic, tenantId);
        String payload = payload(topic, tenantId);
        if (transactions.getTransactionStatus() != Status.STATUS_ACTIVE) {
            QuarkusTransaction.requiringNew().run(() -> events.publish(KIND, payload));
            return;
        }
        events.publish(KIND, payload);
        transactions.registerInterposedSynchronization(new Synchronization() {
            @Override
            public void beforeCompletion() {}

            @Override
            public void afterCompletion(int status) {
                forgetHere(topic, tenantId);
            }
        });
    }

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public void onRemote(String payload) {
        JsonNode n;
        try {
            n = JSON.readTree(payload);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        forgetHere(n.path("topic").asText(), n.path("tenant").asText(null)); // no tenant: the whole topic
    }

    @Override
    public void onLinkLost() {
        topics.values().forEach(list -> list.forEach(Forgetter::forgetAll));
    }

    /**
     * Forgets {@code tenantId}'s entries of {@code topic} on this replica only: for a change every replica already
     * hears of by another event (a revocation's listeners run on each replica).
     */
    public void forgetHere(String topic, String tenantId) {
        if (tenantId == null) {
            forgetAllOf(topic);
            return;
        }
        List<Forgetter> list = topics.get(topic);
        if (list != null) {
            list.forEach(f -> f.forgetTenant(tenantId));
        }
    }

    private void forgetAllOf(String topic) {
        List<Forgetter> list = topics.get(topic);
        if (list != null) {
            list.forEach(Forgetter::forgetAll);
        }
    }

    static String payload(String topic, String tenantId) {
        ObjectNode n = JSON.createObjectNode().put("topic", topic);
        if (tenantId != null) {
            n.put("tenant", tenantId);
        }
        return n.toString();
    }
}
