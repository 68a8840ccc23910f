package io.m2mtrust.tls;

import io.m2mtrust.common.ApiProblem;
import io.m2mtrust.hsm.HsmCrypto;
import io.m2mtrust.policy.PolicyService;
import io.m2mtrust.quota.TenantQuotas;
import io.m2mtrust.tenant.DeviceFqdns;
import io.m2mtrust.tenant.TenantStore;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import org.jboss.logging.Logger;

import java.security.SecureRandom;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The device-facing TLS 1.2 listener (ADR 0006): Vert.x accepts TCP, Bouncy Castle does TLS (PSK,
 * exporters), the function's handler answers HTTP/1.1 inside the session.
 */
@ApplicationScoped
public class DeviceTlsListener {

    private static final Logger LOG = Logger.getLogger(DeviceTlsListener.class);

    private final Vertx vertx;
    private final DeviceTlsConfig config;
    private final DeviceFqdns fqdns;
    private final TenantStore tenants;
    private final PolicyService policies;
    private final Map<DeviceFqdns.Function, PskResolver> pskResolvers = new EnumMap<>(DeviceFqdns.Function.class);
    private final Map<DeviceFqdns.Function, DeviceRequestHandler> handlers = new EnumMap<>(DeviceFqdns.Function.class);
    private final CertificateAuthentication certificates;
    private final AtomicInteger open = new AtomicInteger();
    private final io.micrometer.core.instrument.Counter pauses;
    private final HsmCrypto hsm;
    private final SecureRandom random = new SecureRandom();
    private final TenantQuotas quotas;
    private ExecutorService workers;
    private NetServer server;
    private volatile int port = -1;

    DeviceTlsListener(
            Vertx vertx,
            DeviceTlsConfig config,
            DeviceFqdns fqdns,
            TenantStore tenants,
            PolicyService policies,
            Instance<PskResolver> resolvers,
            Instance<DeviceRequestHandler> requestHandlers,
            Instance<CertificateAuthentication> certificates,
            HsmCrypto hsm,
            TenantQuotas quotas,
            io.micrometer.core.instrument.MeterRegistry registry) {
        this.pauses = io.micrometer.core.instrument.Counter.builder("m2m.device_tls.pauses")
                .description("times a device connection was paused because it sent faster than it was served")
                .register(registry);
        io.micrometer.core.instrument.Gauge.builder("m2m.device_tls.connections", open, AtomicInteger::get)
                .description("open device TLS connections")
                .register(registry);
        this.certificates = certificates.isResolvable() ? certificates.get() : null;
        this.hsm = hsm;
        this.vertx = vertx;
        this.config = config;
        this.fqdns = fqdns;
        this.tenants = tenants;
        this.policies = policies;
        resolvers.forEach(r -> pskResolvers.put(r.function(), r));
        // every function behind its tenant's quota (issue 21)
        requestHandlers.forEach(h -> handlers.put(h.function(), new GuardedHandler(h, quotas)));
        this.quotas = quotas;
    }

    void start(@Observes StartupEvent ev) {
        if (!config.enabled()) {
            return;
        }
        workers = DeviceWorkers.bounded("device-tls-", config.workerThreads());
        server = vertx.createNetServer(new NetServerOptions()
                .setHost(config.host())
                .setPort(config.port())
                .setTcpNoDelay(true));
        server.connectHandler(this::accept);
        server = server.listen().toCompletionStage().toCompletableFuture().join();
        port = server.actualPort();
        LOG.infof(
                "device TLS listener (TLS 1.2, PSK%s) on %s:%d for %s",
                certificates == null ? "" : " and ECDHE_ECDSA", config.host(), port, handlers.keySet());
    }

    /**
     * The graceful stop (SIGTERM; readiness is already DOWN): new connections are refused, open ones finish the
     * request they are in (answered with {@code Connection: close}) or are closed between requests, for at most
     * {@code m2m.device-tls.drain-timeout}; then the listener closes what is left.
     */
    void stop(@Observes ShutdownEvent ev) {
        draining = true;
        if (server != null) {
            connections.forEach(DeviceConnection::drain);
            long end = System.nanoTime() + config.drainTimeout().toNanos();
            long nextDrain = System.nanoTime() + DRAIN_AGAIN_NANOS;
            while (open.get() > 0 && System.nanoTime() < end) {
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
                if (System.nanoTime() - nextDrain >= 0) {
                    // connections that finished their handshake since and sent nothing (busy ones close themselves
                    // after their answer)
                    connections.forEach(DeviceConnection::drain);
                    nextDrain = System.nanoTime() + DRAIN_AGAIN_NANOS;
                }
            }
            if (open.get() > 0) {
                LOG.warnf("device listener: %d connection(s) still open after the drain; closing them", open.get());
            } else {
                LOG.infof("device listener drained");
            }
            server.close();
        }
        if (workers != null) {
            workers.shutdownNow();
        }
    }

    private static final long DRAIN_AGAIN_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

    /** True from SIGTERM on: answers close their connections, new connections are refused. */
    private volatile boolean draining;

    private final java.util.Set<DeviceConnection> connections = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** The bound port (useful when configured as 0). */
    public int port() {
        return port;
    }

    private void accept(NetSocket socket) {
        if (draining) {
            socket.close(); // stopping: the balancer sends the device to another replica
            return;
        }
        if (open.incrementAndGet() > config.maxConnections()) {
            open.decrementAndGet();
            LOG.warnf(
                    "device listener at its connection limit (%d): refusing %s",
                    config.maxConnections(), socket.remoteAddress());
            socket.close();
            return;
        }
        DeviceTlsServer tlsServer = new DeviceTlsServer(
                TlsCryptos.create(random),
                fqdns,
                this::activeTenantSuites,
                pskResolvers::get,
                certificates,
                hsm,
                quotas);
        DeviceConnection[] self = new DeviceConnection[1];
        DeviceConnection c = new DeviceConnection(
                socket,
                tlsServer,
                workers,
                config,
                handlers::get,
                () -> {
                    open.decrementAndGet();
                    connections.remove(self[0]);
                },
                pauses::increment,
                () -> draining);
        self[0] = c;
        connections.add(c);
        try {
            c.start();
            vertx.setTimer(config.handshakeTimeout().toMillis(), id -> c.handshakeDeadline());
        } catch (Exception e) {
            LOG.warnf("could not start TLS for %s: %s", socket.remoteAddress(), e.getMessage());
            open.decrementAndGet(); // start() fails before it installs the close handler
            connections.remove(c);
            socket.close();
        }
    }

    /** At SNI: the suites of an ACTIVE tenant's policy, both from caches that a change on this replica drops. */
    private Optional<List<String>> activeTenantSuites(String tenantId) {
        if (!tenants.isActive(tenantId)) {
            return Optional.empty();
        }
        try {
            return Optional.of(Arrays.asList(policies.current(tenantId).tlsCipherSuites));
        } catch (ApiProblem noPolicy) {
            return Optional.empty();
        }
    }
}
