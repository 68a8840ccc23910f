package io.m2mtrust.esprim;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The replay fingerprints of received ESPrim objects, written in groups: every request that opened an object hands its
 * fingerprints (key id + IV, originator + request id) to one writer thread and waits; the writer takes what has
 * queued up meanwhile and records it in one statement ({@code insert … on conflict do nothing returning}) in one
 * transaction. A request is answered only after its fingerprints are committed (so a replay is refused also after a
 * restart, {@code EsprimRestartIT}); a claim whose fingerprint was seen before — in the table, or earlier in the same
 * group (a replay inside the group's window) — is a replay. The group forms while the previous one is written: no
 * linger, one round trip for many requests under load. A full queue or a failed write fails the request (never an
 * answer without its fingerprints).
 */
@ApplicationScoped
class ReplayLedger {

    private static final Logger LOG = Logger.getLogger(ReplayLedger.class);

    /** Claims waiting for the writer; beyond it a request fails at once rather than queue without bound. */
    static final int QUEUE_CAPACITY = 4_096;

    /** Claims per statement: 2 fingerprints × 4 parameters each stays far below PostgreSQL's parameter limit. */
    static final int MAX_GROUP = 512;

    /** How long a request waits for its group's commit before it fails. */
    static final long WAIT_SECONDS = 10;

    record Fingerprint(String tenantId, String entityId, String value, Instant until) {}

    private record Claim(List<Fingerprint> fingerprints, CompletableFuture<Boolean> fresh) {}

    private final RandStore store;
    private final BlockingQueue<Claim> queue = new ArrayBlockingQueue<>(QUEUE_CAPACITY);
    private final DistributionSummary groupSizes;
    private volatile boolean running = true;
    private Thread writer;

    ReplayLedger(RandStore store, MeterRegistry meters) {
        this.store = store;
        this.groupSizes = DistributionSummary.builder("m2m.esprim.replay_claims_per_write")
                .description("ESPrim objects whose replay fingerprints one statement recorded")
                .register(meters);
    }

    @PostConstruct
    void start() {
        writer = new Thread(this::run, "esprim-replay-ledger");
        writer.setDaemon(true);
        writer.start();
    }

    @PreDestroy
    void stop() {
        running = false;
        writer.interrupt();
        try {
            writer.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Claim c; (c = queue.poll()) != null; ) {
            c.fresh().completeExceptionally(new IllegalStateException("the replay ledger stopped"));
        }
    }

    /**
     * Records {@code fingerprints} durably; true when none of them was seen before, false for a replay. Blocks the
     * caller (a worker thread) until the group holding the claim is committed.
     */
    boolean claim(List<Fingerprint> fingerprints) {
        Claim c = new Claim(List.copyOf(fingerprints), new CompletableFuture<>());
        if (!running || !queue.offer(c)) {
            throw new IllegalStateException("the replay ledger is " + (running ? "overloaded" : "stopped"));
        }
        try {
            return c.fresh().get(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while recording replay fingerprints", e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("replay fingerprints not recorded within " + WAIT_SECONDS + " s");
        }
    }

    private void run() {
        List<Claim> group = new ArrayList<>();
        while (running) {
            try {
                Claim first = queue.poll(1, TimeUnit.SECONDS);
                if (first == null) {
                    continue;
                }
                group.add(first);
                queue.drainTo(group, MAX_GROUP - 1);
                write(group);
            } catch (InterruptedException e) {
                // stopping: the claims left are failed by stop()
            } catch (RuntimeException e) {
                LOG.errorf("replay ledger: %s", e.toString());
                group.forEach(c -> c.fresh().completeExceptionally(e));
            }
            group.clear();
        }
    }

    private void write(List<Claim> group) {
        // a fingerprint claimed twice in one group: the first claim owns it, the later one is a replay
        Map<Fingerprint, Fingerprint> rows = new LinkedHashMap<>(); // by primary key, the first claim's row
        List<Claim> admitted = new ArrayList<>();
        for (Claim c : group) {
            boolean replay = false;
            for (Fingerprint f : c.fingerprints()) {
                replay |= rows.containsKey(key(f));
            }
            if (replay) {
                c.fresh().complete(false);
                continue;
            }
            c.fingerprints().forEach(f -> rows.put(key(f), f));
            admitted.add(c);
        }
        if (admitted.isEmpty()) {
            return;
        }
        Set<Fingerprint> inserted;
        try {
            inserted = QuarkusTransaction.requiringNew()
                    .call(() -> store.rememberNewFingerprints(List.copyOf(rows.values())));
        } catch (RuntimeException e) {
            admitted.forEach(c -> c.fresh().completeExceptionally(e));
            return;
        }
        for (Claim c : admitted) {
            c.fresh().complete(c.fingerprints().stream().allMatch(f -> inserted.contains(key(f))));
        }
        groupSizes.record(group.size());
    }

    /** The row's identity (its primary key): the expiry is not part of it. */
    private static Fingerprint key(Fingerprint f) {
        return new Fingerprint(f.tenantId(), f.entityId(), f.value(), null);
    }
}
