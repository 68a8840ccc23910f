package io.m2mtrust.cluster;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * What one replica remembers of rows every replica may change (ADR 0023). Keys are a tenant id or start with
 * {@code tenantId + "|"}, so a change is forgotten per tenant: on this replica at once and when its transaction ends,
 * on the others when it commits ({@link ReplicaCaches#changed}). It answers only while this replica hears the others
 * ({@link ClusterLink#cachesTrusted}); and a value loaded while a change was being forgotten is returned to its caller
 * but not kept, so a reader that raced a revocation cannot leave the old row behind it.
 */
public final class ReplicaCache<V> {

    private record Entry<V>(V value, long loadedAt) {}

    private final String topic;
    private final long ttlNanos;
    private final int maxEntries;
    private final ClusterLink link;
    private final ConcurrentHashMap<String, Entry<V>> entries = new ConcurrentHashMap<>();
    private final AtomicLong generation = new AtomicLong();

    ReplicaCache(String topic, Duration ttl, int maxEntries, ClusterLink link) {
        this.topic = topic;
        this.ttlNanos = ttl.isZero() || ttl.isNegative() ? Long.MAX_VALUE : ttl.toNanos();
        this.maxEntries = maxEntries;
        this.link = link;
    }

    public String topic() {
        return topic;
    }

    /** The cached value, or {@code load}'s (kept unless null). */
    public V get(String key, Supplier<V> load) {
        return get(key, v -> true, load, v -> true);
    }

    /**
     * The cached value while {@code usable} accepts it, or {@code load}'s; the loaded value is kept when {@code keep}
     * accepts it (e.g. "absence is not remembered") and is not null. A stale or unusable entry that the load does not
     * replace is dropped.
     */
    public V get(String key, Predicate<V> usable, Supplier<V> load, Predicate<V> keep) {
        long now = System.nanoTime();
        Entry<V> stale = null;
        if (link.cachesTrusted()) {
            stale = entries.get(key);
            if (stale != null && now - stale.loadedAt() < ttlNanos && usable.test(stale.value())) {
                return stale.value();
            }
        }
        long gen = generation.get();
        long epoch = link.epoch();
        V v = load.get();
        boolean kept = v != null && keep.test(v);
        if (!kept && stale != null) {
            entries.remove(key, stale);
        }
        if (kept && link.cachesTrusted() && link.epoch() == epoch && generation.get() == gen) {
            if (entries.size() >= maxEntries) {
                entries.clear(); // bounded: a miss only costs the load this cache saves
            }
            Entry<V> put = new Entry<>(v, now);
            entries.put(key, put);
            if (generation.get() != gen || link.epoch() != epoch) {
                entries.remove(key, put); // a change was forgotten meanwhile
            }
        }
        return v;
    }

    /** The cached value if it is fresh and caches may answer now, else null; never loads (for the event loop). */
    public V peek(String key) {
        if (!link.cachesTrusted()) {
            return null;
        }
        Entry<V> e = entries.get(key);
        return e != null && System.nanoTime() - e.loadedAt() < ttlNanos ? e.value() : null;
    }

    public int size() {
        return entries.size();
    }

    void forgetTenant(String tenantId) {
        generation.incrementAndGet();
        String prefix = tenantId + "|";
        entries.keySet().removeIf(k -> k.equals(tenantId) || k.startsWith(prefix));
    }

    void forgetAll() {
        generation.incrementAndGet();
        entries.clear();
    }
}
