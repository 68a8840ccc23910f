package io.m2mtrust.audit;

import io.m2mtrust.hsm.HsmCrypto;
import io.m2mtrust.hsm.HsmKeyLabel;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
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
 * Signs chain heads in the HSM in groups (ADR 0019): appends that commit while a signature is being made are all
 * covered by the next one, one ECDSA signature and one row per chain per group instead of one per event, made outside
 * the chain's lock. An append's caller waits (bounded) for the signature that covers its event before it answers.
 *
 * <p>Committed heads arrive in commit order per chain (the head row lock serialises them), so the newest head of a
 * group is a committed link and signing it covers every earlier one. A head that cannot be signed (HSM outage) stays
 * unsigned until the next signature of its chain; the chain is retried every {@link #RETRY_EVERY_SECONDS} s and counted
 * in {@code m2m.audit.unsigned_chains}. Its events are durable and chained all the same.
 */
@ApplicationScoped
public class AuditHeadSigner {

    private static final Logger LOG = Logger.getLogger(AuditHeadSigner.class);

    /** Heads waiting for a signature; beyond it an append waits no longer (its event is committed all the same). */
    static final int QUEUE_CAPACITY = 10_000;

    static final int RETRY_EVERY_SECONDS = 5;

    /** How long an answer waits for the signature over its event's head. */
    static final long WAIT_MILLIS = 2_000;

    private record Head(String chain, long seq, byte[] hash, CompletableFuture<Void> signed) {}

    private final AuditStore store;
    private final HsmCrypto crypto;
    private final AuditSigningKeys keys;
    private final BlockingQueue<Head> queue = new ArrayBlockingQueue<>(QUEUE_CAPACITY);
    // written by the signer thread only
    private final Map<String, Long> signedThrough = new HashMap<>();
    private final Set<String> unsigned = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final Counter signatures;
    private final DistributionSummary groupSizes;
    private volatile boolean running = true;
    private Thread thread;

    AuditHeadSigner(AuditStore store, HsmCrypto crypto, AuditSigningKeys keys, MeterRegistry registry) {
        this.store = store;
        this.crypto = crypto;
        this.keys = keys;
        this.signatures = Counter.builder("m2m.audit.head_signatures")
                .description("audit chain heads signed in the HSM")
                .register(registry);
        this.groupSizes = DistributionSummary.builder("m2m.audit.heads_per_signature")
                .description("committed heads one signature covered")
                .register(registry);
        Gauge.builder("m2m.audit.unsigned_chains", unsigned, Set::size)
                .description("chains whose newest head could not be signed yet")
                .register(registry);
    }

    @PostConstruct
    void start() {
        thread = new Thread(this::run, "audit-head-signer");
        thread.setDaemon(true);
        thread.start();
    }

    @PreDestroy
    void stop() {
        running = false;
        thread.interrupt();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Called after the commit of a transaction whose newest link of {@code chain} is {@code seq}: waits until a
     * signature covers it (or {@link #WAIT_MILLIS} passed, or it could not be made: then it is logged and retried).
     */
    void awaitSigned(String chain, long seq, byte[] hash) {
        CompletableFuture<Void> signed = new CompletableFuture<>();
        if (!running || !queue.offer(new Head(chain, seq, hash, signed))) {
            unsigned.add(chain);
            LOG.warnf(
                    "audit head %s#%d left for the next signature (signer %s)",
                    chain, seq, running ? "busy" : "stopped");
            return;
        }
        try {
            signed.get(WAIT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            LOG.warnf(
                    "audit head %s#%d is chained but not signed yet: %s",
                    chain, seq, e.getCause().getMessage());
        } catch (TimeoutException e) {
            LOG.warnf("audit head %s#%d is chained; its signature is late", chain, seq);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        List<Head> group = new ArrayList<>();
        while (running || !queue.isEmpty()) {
            try {
                Head first = queue.poll(RETRY_EVERY_SECONDS, TimeUnit.SECONDS);
                if (first == null) {
                    retryUnsigned();
                    continue;
                }
                group.add(first);
            } catch (InterruptedException e) {
                if (running) {
                    continue;
                }
            }
            queue.drainTo(group, 1_000);
            signGroup(group);
            group.clear();
        }
        signGroup(new ArrayList<>(queue));
    }

    private void signGroup(List<Head> group) {
        if (group.isEmpty()) {
            return;
        }
        Map<String, Head> newest = new HashMap<>();
        for (Head h : group) {
            newest.merge(h.chain(), h, (a, b) -> a.seq() >= b.seq() ? a : b);
        }
        List<AuditHeadSignature> rows = new ArrayList<>();
        Map<String, RuntimeException> failed = new HashMap<>();
        try {
            // the signing key is looked up in the database (a tenant's primary SIGN version): inside the transaction
            QuarkusTransaction.requiringNew().run(() -> {
                for (Head h : newest.values()) {
                    if (h.seq() <= signedThrough.getOrDefault(h.chain(), 0L)) {
                        continue;
                    }
                    try {
                        AuditHeadSignature s = sign(h.chain(), h.seq(), h.hash());
                        store.insert(s);
                        rows.add(s);
                    } catch (RuntimeException e) {
                        failed.put(h.chain(), e);
                    }
                }
            });
            for (AuditHeadSignature s : rows) {
                signedThrough.put(s.chain, s.seq);
                unsigned.remove(s.chain);
            }
            signatures.increment(rows.size());
        } catch (RuntimeException e) {
            rows.forEach(s -> failed.put(s.chain, e));
        }
        for (Head h : group) {
            RuntimeException e = failed.get(h.chain());
            if (e == null) {
                h.signed().complete(null);
            } else {
                unsigned.add(h.chain());
                h.signed().completeExceptionally(e);
            }
        }
        groupSizes.record(group.size());
    }

    /** Signs the current head of every chain whose last signature failed. */
    private void retryUnsigned() {
        for (String chain : new LinkedHashSet<>(unsigned)) {
            try {
                QuarkusTransaction.requiringNew()
                        .run(() -> store.head(chain).ifPresent(h -> {
                            if (h.seq() > store.signedSeq(chain)) {
                                store.insert(sign(chain, h.seq(), h.hash()));
                            }
                            signedThrough.put(chain, h.seq());
                        }));
                unsigned.remove(chain);
                LOG.infof("audit chain %s: its head is signed again", chain);
            } catch (RuntimeException e) {
                LOG.debugf("audit chain %s still unsigned: %s", chain, e.getMessage());
            }
        }
    }

    private AuditHeadSignature sign(String chain, long seq, byte[] hash) {
        HsmKeyLabel key = keys.signingKeyOf(chain);
        AuditHeadSignature s = new AuditHeadSignature();
        s.chain = chain;
        s.seq = seq;
        s.hash = hash;
        s.keyLabel = key.value();
        s.signature = crypto.signEcdsaP256(key, AuditChainHash.headStatement(chain, seq, hash));
        s.signedAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
        return s;
    }
}
