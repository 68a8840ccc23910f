package io.m2mtrust.quota;

import io.m2mtrust.common.ApiProblem;
import io.m2mtrust.common.QuotaExceededException;
import io.m2mtrust.hsm.HsmCrypto;
import io.m2mtrust.hsm.HsmKeyLabel;
import io.m2mtrust.policy.PolicyService;
import io.m2mtrust.policy.TenantPolicy;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Per-tenant quotas enforced across replicas (issue 21, ADR 0026). Each tenant has a token bucket per device-facing
 * function and service front ({@link QuotaBucket}) at its policy's request rate and burst, and one for HSM operations
 * under its keys at the policy's HSM rate and burst. The buckets live in PostgreSQL; a replica <em>leases</em> a few
 * tokens at a time (about 50 ms of the rate) in one statement and spends them locally, so a request costs a decrement
 * and a lease costs one round trip per few dozen requests. Tokens come only from the shared bucket, so the cluster
 * together never admits more than the rate and burst allow; what a lease still holds after a second goes back with
 * the replica's next lease (or its next lease after a policy change).
 *
 * <p>An empty bucket is remembered until it holds a token again: refusals cost no database, HSM or thread time, so a
 * tenant offering ten times its quota spends little of what other tenants need. When the database cannot be reached,
 * each replica enforces the quota alone with a local bucket (the cluster may then admit up to its replica count times
 * the quota) and counts it in {@code m2m.quota.store_unavailable}.
 */
@ApplicationScoped
public class TenantQuotas {

    private static final Logger LOG = Logger.getLogger(TenantQuotas.class);

    /** Unspent leased tokens go back to the shared bucket after this. */
    static final long LEASE_TTL_NANOS = 1_000_000_000L;
    /** A lease is this share of a second's rate (at least one token, at most the burst). */
    static final double LEASE_SHARE = 0.05;

    private final QuotaStore store;
    private final PolicyService policies;
    private final HsmCrypto hsm;
    private final MeterRegistry registry;
    private final Map<String, Lease> leases = new ConcurrentHashMap<>();
    private final Map<String, Counter> refusedCounters = new ConcurrentHashMap<>();
    private final Counter storeUnavailable;
    private final AtomicLong lastStoreWarning = new AtomicLong();

    TenantQuotas(QuotaStore store, PolicyService policies, HsmCrypto hsm, MeterRegistry registry) {
        this.store = store;
        this.policies = policies;
        this.hsm = hsm;
        this.registry = registry;
        this.storeUnavailable = Counter.builder("m2m.quota.store_unavailable")
                .description("quota leases made locally because the shared buckets could not be reached")
                .register(registry);
    }

    /** Every HSM operation under a tenant's key takes a token of the tenant's HSM bucket first. */
    void installHsmGate(@Observes StartupEvent ev) {
        hsm.gate(this::beforeHsmOperation);
    }

    void beforeHsmOperation(HsmKeyLabel key) {
        if (!HsmKeyLabel.PLATFORM.equals(key.owner())) {
            admit(key.owner(), QuotaBucket.HSM);
        }
    }

    /**
     * Takes one token of the tenant's {@code bucket}; {@link QuotaExceededException} with the seconds until one is back
     * when it is empty. A tenant without a policy (none, or being created) is not limited here: the paths refuse
     * unknown tenants themselves.
     */
    public void admit(String tenantId, QuotaBucket bucket) {
        Limits limits = limits(tenantId, bucket);
        if (limits == null) {
            return;
        }
        long retryAfter = lease(tenantId, bucket).take(limits);
        if (retryAfter > 0) {
            refused(tenantId, bucket).increment();
            throw new QuotaExceededException(tenantId, bucket.id(), retryAfter);
        }
    }

    /**
     * {@link #admit} without waiting for anything (the event loop): 0 when a token was taken from this replica's lease,
     * the seconds to wait when the bucket is known empty, or -1 when the policy or a new lease must be fetched first
     * (then call {@link #admit} on a worker thread).
     */
    public long tryAdmitLocally(String tenantId, QuotaBucket bucket) {
        Optional<TenantPolicy> p = policies.cached(tenantId);
        if (p.isEmpty()) {
            return -1;
        }
        Limits limits = limits(p.get(), bucket);
        Lease l = leases.get(key(tenantId, bucket));
        long r = l == null ? -1 : l.takeFromLease(limits);
        if (r > 0) {
            refused(tenantId, bucket).increment();
        }
        return r;
    }

    /**
     * Whether the tenant's {@code bucket} is known to be empty right now, without taking a token or asking the database
     * (handshakes: a tenant over its quota opens no new sessions either). Returns the seconds to wait, or 0.
     */
    public long knownEmptyFor(String tenantId, QuotaBucket bucket) {
        Lease l = leases.get(key(tenantId, bucket));
        return l == null ? 0 : l.knownEmptyFor();
    }

    /** What the console shows of one bucket: its limits, this replica's refusals, the shared level (if any yet). */
    public record BucketView(String bucket, int perSecond, int burst, double refusedHere, Double level) {}

    public java.util.List<BucketView> view(String tenantId) {
        java.util.List<BucketView> out = new java.util.ArrayList<>();
        for (QuotaBucket b : QuotaBucket.values()) {
            Limits l = limits(tenantId, b);
            if (l == null) {
                continue;
            }
            Counter c = refusedCounters.get(key(tenantId, b));
            Double level;
            try {
                level = store.level(tenantId, b, l.rate(), l.burst()).orElse(null);
            } catch (RuntimeException e) {
                level = null;
            }
            out.add(new BucketView(b.id(), l.rate(), l.burst(), c == null ? 0 : c.count(), level));
        }
        return out;
    }

    record Limits(int rate, int burst) {}

    private Limits limits(String tenantId, QuotaBucket bucket) {
        TenantPolicy p;
        try {
            p = policies.current(tenantId);
        } catch (ApiProblem noPolicy) {
            return null;
        } catch (RuntimeException unreadable) {
            // the database is away and the policy not cached: the limits this replica last applied, if any (a path
            // that works from memory and the HSM keeps working, within the quota it had)
            Lease l = leases.get(key(tenantId, bucket));
            return l == null ? null : l.lastLimits();
        }
        return limits(p, bucket);
    }

    private static Limits limits(TenantPolicy p, QuotaBucket bucket) {
        return bucket == QuotaBucket.HSM
                ? new Limits(p.hsmQuotaPerSecond, p.hsmBurst)
                : new Limits(p.requestQuotaPerSecond, p.requestBurst);
    }

    private Lease lease(String tenantId, QuotaBucket bucket) {
        return leases.computeIfAbsent(key(tenantId, bucket), k -> new Lease(tenantId, bucket));
    }

    private Counter refused(String tenantId, QuotaBucket bucket) {
        return refusedCounters.computeIfAbsent(
                key(tenantId, bucket),
                k -> Counter.builder("m2m.quota.refused")
                        .description("requests and HSM operations refused because the tenant was over a quota")
                        .tag("tenant", tenantId)
                        .tag("bucket", bucket.id())
                        .register(registry));
    }

    private static String key(String tenantId, QuotaBucket bucket) {
        return tenantId + "|" + bucket.name();
    }

    /** This replica's share of one shared bucket: the tokens it holds, and what it knows of the bucket being empty. */
    final class Lease {
        private final String tenantId;
        private final QuotaBucket bucket;
        private double tokens;
        private long expiresAt;
        private long emptyUntil;
        private Limits limits;
        /** The local bucket used while the shared one cannot be reached. */
        private double localTokens = -1;

        private long localAt;

        Lease(String tenantId, QuotaBucket bucket) {
            this.tenantId = tenantId;
            this.bucket = bucket;
        }

        synchronized Limits lastLimits() {
            return limits;
        }

        synchronized long knownEmptyFor() {
            long now = System.nanoTime();
            return tokens < 1 && now < emptyUntil ? seconds(emptyUntil - now) : 0;
        }

        /** {@link #take} from what is held only: 0, the seconds to wait, or -1 when only the database can tell. */
        synchronized long takeFromLease(Limits current) {
            if (!current.equals(limits)) {
                return -1;
            }
            long now = System.nanoTime();
            if (tokens >= 1 && now < expiresAt) {
                tokens -= 1;
                return 0;
            }
            return now < emptyUntil ? seconds(emptyUntil - now) : -1;
        }

        /** Takes one token: 0, or the whole seconds until the bucket holds one again. */
        synchronized long take(Limits current) {
            long now = System.nanoTime();
            double giveBack = 0;
            if (!current.equals(limits)) {
                // a policy change: what is held goes back, and the shared bucket is asked afresh at the new rate
                giveBack = tokens;
                tokens = 0;
                emptyUntil = 0;
                limits = current;
            }
            if (tokens >= 1 && now < expiresAt) {
                tokens -= 1;
                return 0;
            }
            if (now < emptyUntil) {
                return seconds(emptyUntil - now);
            }
            giveBack += tokens;
            tokens = 0;
            int want = (int) Math.max(1, Math.min(current.burst(), Math.ceil(current.rate() * LEASE_SHARE)));
            QuotaStore.Grant grant;
            try {
                grant = store.lease(tenantId, bucket, current.rate(), current.burst(), giveBack, want);
            } catch (RuntimeException e) {
                return takeLocally(current, now, e);
            }
            localTokens = -1;
            tokens = grant.granted();
            expiresAt = now + LEASE_TTL_NANOS;
            if (tokens >= 1) {
                tokens -= 1;
                return 0;
            }
            // empty: one token is back after (1 - level) / rate seconds; until then refusals stay here
            long wait = (long) Math.ceil((1 - grant.level()) / current.rate() * 1e9);
            emptyUntil = now + Math.max(wait, 1_000_000L);
            return seconds(emptyUntil - now);
        }

        private long takeLocally(Limits current, long now, RuntimeException cause) {
            storeUnavailable.increment();
            long last = lastStoreWarning.get();
            if (now - last > 10_000_000_000L && lastStoreWarning.compareAndSet(last, now)) {
                LOG.warnf(
                        "quota buckets unreachable (%s): each replica enforces tenant quotas alone until they are back",
                        cause.getMessage());
            }
            if (localTokens < 0) {
                localTokens = current.burst();
                localAt = now;
            }
            localTokens = Math.min(current.burst(), localTokens + (now - localAt) / 1e9 * current.rate());
            localAt = now;
            if (localTokens >= 1) {
                localTokens -= 1;
                return 0;
            }
            return seconds((long) Math.ceil((1 - localTokens) / current.rate() * 1e9));
        }

        private static long seconds(long nanos) {
            return Math.max(1, (long) Math.ceil(nanos / 1e9));
        }
    }
}
