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
import java.util.concurrent.TimeUnit;

/**
 * Signs chain heads in the HSM in groups (ADR 0019): the heads committed within one {@link #LINGER_MILLIS} window are
 * covered by one ECDSA signature and one row per chain, made outside the chain's lock and off the request's path.
 *
 * <p>Committed heads arrive in commit order per chain (the head row lock serialises them), so the newest head of a
 * group is a committed link and signing it covers every earlier one. A head that cannot be signed (HSM outage, a crash
 * before its group was signed) stays unsigned until the next signature of its chain: such chains are found at start,
 * retried every {@link #RETRY_EVERY_SECONDS} s and counted in {@code m2m.audit.unsigned_chains}. Their events are
 * durable and chained all the same. {@link #flush} lets a verification wait for the heads still in flight.
 */
@ApplicationScoped
public class AuditHeadSigner {

    private static final Logger LOG = Logger.getLogger(AuditHeadSigner.class);

    /** Heads waiting for a signature; beyond it a head is left to the sweep (its event is committed all the same). */
    static final int QUEUE_CAPACITY = 10_000;

    static final int RETRY_EVERY_SECONDS = 5;

    /** How long the signer gathers committed heads before it signs them: the longest a new event is unsigned. */
    static final long LINGER_MILLIS = 20;

    private record Head(String chain, long seq, byte[] hash) {}

    private final AuditStore store;
    private final HsmCrypto crypto;
    private final AuditSigningKeys keys;
    private final BlockingQueue<Head> queue = new ArrayBlockingQueue<>(QUEUE_CAPACITY);
    private final Map<String, Long> committedThrough = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<String, Long> signedThrough = new java.util.concurrent.ConcurrentHashMap<>();
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
                .description("committed heads one signing round covered")
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

    /** Called after the commit of a transaction whose newest link of {@code chain} is {@code seq}; never blocks. */
    void committed(String chain, long seq, byte[] hash) {
        committedThrough.merge(chain, seq, Math::max);
        if (!running || !queue.offer(new Head(chain, seq, hash))) {
            unsigned.add(chain);
            LOG.warnf("audit head %s#%d left to the sweep (signer %s)", chain, seq, running ? "busy" : "stopped");
        }
    }

    /**
     * Waits (at most {@code maxMillis}) until every head of {@code chain} committed on this replica is signed, so a
     * verification right after an action sees its signature. Returns whether it is.
     */
    boolean flush(String chain, long maxMillis) {
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(maxMillis);
        while (signedThrough.getOrDefault(chain, 0L) < committedThrough.getOrDefault(chain, 0L)) {
            if (System.nanoTime() > until || unsigned.contains(chain)) {
                return false;
            }
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    private void run() {
        try {
            unsigned.addAll(QuarkusTransaction.requiringNew().call(store::chainsWithUnsignedHeads));
        } catch (RuntimeException e) {
            LOG.warnf("could not look for unsigned audit heads at start: %s", e.getMessage());
        }
        retryUnsigned();
        List<Head> group = new ArrayList<>();
        while (running || !queue.isEmpty()) {
            try {
                Head first = queue.poll(RETRY_EVERY_SECONDS, TimeUnit.SECONDS);
                if (first == null) {
                    retryUnsigned();
                    continue;
                }
                group.add(first);
                if (running) {
                    Thread.sleep(LINGER_MILLIS); // gather the heads that commit meanwhile: one signature for all
                }
            } catch (InterruptedException e) {
                if (running) {
                    continue;
                }
            }
            queue.drainTo(group);
            signGroup(group);
            group.clear();
        }
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
                signedThrough.merge(s.chain, s.seq, Math::max);
                unsigned.remove(s.chain);
            }
            signatures.increment(rows.size());
        } catch (RuntimeException e) {
            rows.forEach(s -> failed.put(s.chain, e));
        }
        for (Head h : group) {
            RuntimeException e = failed.get(h.chain());
            if (e != null && unsigned.add(h.chain())) {
                LOG.warnf("audit head %s#%d is chained but not signed yet: %s", h.chain(), h.seq(), e.getMessage());
            }
        }
        groupSizes.record(group.size());
    }

    /** Signs a head in the caller's transaction (a chain being closed: no key will be left after its commit). */
    void signNow(String chain, long seq, byte[] hash) {
        store.insert(sign(chain, seq, hash));
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
                            signedThrough.merge(chain, h.seq(), Math::max);
                        }));
                unsigned.remove(chain);
                LOG.infof("audit chain %s: its head is signed again", chain);
            } catch (IllegalStateException noKey) {
                // the chain's owner has no signing key any more (a deleted tenant): nothing can sign it now
                unsigned.remove(chain);
                LOG.warnf("audit chain %s is closed with an unsigned head: %s", chain, noKey.getMessage());
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
        // the service's own bookkeeping: never refused by the tenant's HSM quota (ADR 0026)
        s.signature = crypto.unmetered(() -> crypto.signEcdsaP256(key, AuditChainHash.headStatement(chain, seq, hash)));
        s.signedAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
        return s;
    }
}
