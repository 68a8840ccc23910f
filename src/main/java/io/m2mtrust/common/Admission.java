package io.m2mtrust.common;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.vertx.http.runtime.filters.Filters;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Admission control for the HTTP side: each lane (the admin API, the oneM2M proxy) admits at most a configured number
 * of requests in flight; one more is answered at once with 503 and {@code Retry-After} instead of waiting in a queue
 * without bound (the worker pool's queue and the CSE client's wait queue are otherwise unbounded). A refusal costs no
 * database, HSM or CSE work, so under twice the peak load the admitted requests keep their latency. Health and metrics
 * ({@code /q/...}) and the console's static files are never refused: probes must answer under load.
 *
 * <p>Within the proxy lane each tenant has a share ({@code proxy-max-in-flight-per-tenant}): a tenant whose CSE is slow
 * or flapping holds at most its share of slots and worker threads, never the whole lane (issue 21).
 *
 * <p>The device listener has its own bound (a bounded worker pool that sheds connections, {@code DeviceTlsListener}).
 * ADR 0020 explains the choice of limits over queues.
 */
@ApplicationScoped
public class Admission {

    @ConfigMapping(prefix = "m2m.admission")
    public interface Limits {
        /** Admin API requests ({@code /api/...}) in flight at once; beyond it 503 + Retry-After (problem+json). */
        @WithDefault("128")
        int apiMaxInFlight();

        /** oneM2M proxy requests ({@code /onem2m/...}) in flight at once; beyond it 503 + Retry-After, oneM2M 5000. */
        @WithDefault("256")
        int proxyMaxInFlight();

        /**
         * oneM2M proxy requests of one tenant in flight at once (a share of the proxy lane): a tenant whose CSE is slow
         * or gone fills its own share, not the lane, so the other tenants' requests are still admitted.
         */
        @WithDefault("64")
        int proxyMaxInFlightPerTenant();

        /** Seconds a refused client is told to wait ({@code Retry-After}). */
        @WithDefault("1")
        int retryAfterSeconds();
    }

    /** A bounded count of requests in flight. */
    public static final class Lane {
        private final String name;
        private final int limit;
        private final AtomicInteger inFlight = new AtomicInteger();
        private final Counter refused;

        Lane(String name, int limit, MeterRegistry meters) {
            this.name = name;
            this.limit = limit;
            this.refused = Counter.builder("m2m.admission.refused")
                    .tag("lane", name)
                    .description("requests answered 503 because the lane was full")
                    .register(meters);
            Gauge.builder("m2m.admission.in_flight", inFlight, AtomicInteger::get)
                    .tag("lane", name)
                    .register(meters);
        }

        /** Takes a slot, or refuses (and counts the refusal) when {@code limit} requests are in flight. */
        public boolean tryEnter() {
            if (inFlight.incrementAndGet() > limit) {
                inFlight.decrementAndGet();
                refused.increment();
                return false;
            }
            return true;
        }

        public void leave() {
            inFlight.decrementAndGet();
        }

        public int inFlight() {
            return inFlight.get();
        }

        public int limit() {
            return limit;
        }

        @Override
        public String toString() {
            return "Lane[" + name + ", " + inFlight.get() + "/" + limit + "]";
        }
    }

    /** Runs before RESTEasy's routes and before authentication: a refusal is the cheapest answer the service has. */
    static final int PRIORITY = 1000;

    /**
     * Each tenant's share of the proxy lane: requests in flight per tenant id as it appears in the path. An entry
     * lives only while its tenant has a request in flight, so the map never holds more entries than the lane admits,
     * whatever names a client puts in paths (an unknown tenant is refused later, with 4004).
     */
    public static final class TenantShares {
        private final int limit;
        private final ConcurrentHashMap<String, Integer> inFlight = new ConcurrentHashMap<>();
        private final Counter refused;

        TenantShares(int limit, MeterRegistry meters) {
            this.limit = limit;
            this.refused = Counter.builder("m2m.admission.refused")
                    .tag("lane", "proxy-tenant-share")
                    .description("requests answered 503 because the lane was full")
                    .register(meters);
            Gauge.builder("m2m.admission.tenants_in_flight", inFlight, ConcurrentHashMap::size)
                    .description("tenants with a proxy request in flight")
                    .register(meters);
        }

        boolean tryEnter(String tenant) {
            boolean[] admitted = {false};
            inFlight.compute(tenant, (t, n) -> {
                int now = n == null ? 0 : n;
                if (now >= limit) {
                    return n;
                }
                admitted[0] = true;
                return now + 1;
            });
            if (!admitted[0]) {
                refused.increment();
            }
            return admitted[0];
        }

        void leave(String tenant) {
            inFlight.computeIfPresent(tenant, (t, n) -> n <= 1 ? null : n - 1);
        }

        public int inFlight(String tenant) {
            return inFlight.getOrDefault(tenant, 0);
        }

        public int tenants() {
            return inFlight.size();
        }
    }

    private final Lane api;
    private final Lane proxy;
    private final TenantShares proxyShares;
    private final int retryAfter;

    Admission(Limits limits, MeterRegistry meters) {
        this.api = new Lane("api", limits.apiMaxInFlight(), meters);
        this.proxy = new Lane("proxy", limits.proxyMaxInFlight(), meters);
        this.proxyShares = new TenantShares(limits.proxyMaxInFlightPerTenant(), meters);
        this.retryAfter = limits.retryAfterSeconds();
    }

    public TenantShares proxyShares() {
        return proxyShares;
    }

    /**
     * The tenant segment of a proxy path ({@code /onem2m/{tenant}/…}, {@code /onem2m-out/{tenant}/…}), or null when
     * there is none (the route answers those); at most 64 characters count, as a tenant id is never longer.
     */
    static String proxyTenant(String path) {
        int start = path.indexOf('/', 1) + 1;
        int end = path.indexOf('/', start);
        if (start <= 0 || end <= start) {
            return null;
        }
        return path.substring(start, Math.min(end, start + 64));
    }

    public Lane api() {
        return api;
    }

    public Lane proxy() {
        return proxy;
    }

    void register(@Observes Filters filters) {
        filters.register(this::admit, PRIORITY);
    }

    private void admit(RoutingContext rc) {
        String path = rc.normalizedPath();
        boolean oneM2m = path.startsWith("/onem2m/") || path.startsWith("/onem2m-out/");
        Lane lane = oneM2m ? proxy : path.startsWith("/api/") ? api : null;
        if (lane == null) {
            rc.next();
            return;
        }
        if (!lane.tryEnter()) {
            refuse(rc, oneM2m);
            return;
        }
        String tenant = oneM2m ? proxyTenant(path) : null;
        if (tenant != null && !proxyShares.tryEnter(tenant)) {
            lane.leave();
            refuse(rc, true);
            return;
        }
        AtomicBoolean left = new AtomicBoolean();
        // the end handler runs when the response is written or the connection fails: the slot is returned once
        rc.addEndHandler(x -> {
            if (left.compareAndSet(false, true)) {
                lane.leave();
                if (tenant != null) {
                    proxyShares.leave(tenant);
                }
            }
        });
        rc.next();
    }

    private void refuse(RoutingContext rc, boolean oneM2m) {
        var r = rc.response()
                .setStatusCode(503)
                .putHeader("Retry-After", Integer.toString(retryAfter))
                .putHeader("Cache-Control", "no-store");
        if (oneM2m) {
            // the oneM2M binding: an internal error code (TS-0004 has none for overload) on HTTP 503, where HTTP
            // clients and balancers understand Retry-After; the request identifier is echoed as for every answer
            String ri = rc.request().getHeader("X-M2M-RI");
            if (ri != null && ri.length() <= 256) {
                r.putHeader("X-M2M-RI", ri);
            }
            r.putHeader("X-M2M-RSC", Integer.toString(ResponseStatusCode.INTERNAL_SERVER_ERROR.code()))
                    .putHeader("Content-Type", "application/json")
                    .end("{\"m2m:dbg\":\"overloaded: retry after " + retryAfter + " s\"}");
        } else {
            r.putHeader("Content-Type", "application/problem+json")
                    .end("{\"type\":\"urn:m2m-trust:problem:overloaded\",\"title\":\"Service Unavailable\","
                            + "\"status\":503,\"detail\":\"too many requests in flight: retry after " + retryAfter
                            + " s\"}");
        }
    }
}
