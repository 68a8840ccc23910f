package io.m2mtrust.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.runtime.Startup;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * This replica's link to the others (ADR 0023): one PostgreSQL connection of its own that {@code LISTEN}s for the
 * events other replicas commit, dispatches them to the {@link ClusterEventHandler}s, and holds the session advisory
 * lock that makes one replica the job leader. While the link is down the replica fails closed: every handler drops
 * its caches at once, caches are bypassed until the link is back, readiness is DOWN, and this replica runs no
 * cluster-once job.
 */
@Startup
@ApplicationScoped
public class ClusterLink {

    private static final Logger LOG = Logger.getLogger(ClusterLink.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The advisory lock key of the job leader ("m2m-jobs" in ASCII). */
    static final long JOB_LEADER_LOCK = 0x6d326d2d6a6f6273L;

    private final Instance<ClusterEventHandler> handlers;
    private final String url;
    private final String user;
    private final Optional<String> password;
    private final Duration heartbeat;
    private final String replicaId;
    private final Counter received;
    private final Counter losses;

    private volatile boolean running = true;
    private volatile boolean up;
    private volatile boolean leader;
    private volatile String downReason = "not connected yet";
    /** Moves whenever the link is lost or comes back: a cache load that spans a move is not kept. */
    private final AtomicLong epoch = new AtomicLong();

    private volatile long newestSeen;
    private boolean everUp;

    /** Other replicas with a fresh heartbeat, as of this replica's last heartbeat: the ones a publisher waits for. */
    private volatile Set<String> livePeers = Set.of();
    /** Which replicas acknowledged which recent events (bounded); guarded by itself. */
    private final LinkedHashMap<Long, Set<String>> acks = new LinkedHashMap<>();

    private final Duration ackTimeout;
    private final Timer propagation;
    private final Counter unacknowledged;
    private Connection connection; // the link thread's only
    private Thread thread;

    ClusterLink(
            Instance<ClusterEventHandler> handlers,
            MeterRegistry registry,
            @ConfigProperty(name = "quarkus.datasource.jdbc.url") String url,
            @ConfigProperty(name = "quarkus.datasource.username") String user,
            @ConfigProperty(name = "quarkus.datasource.password") Optional<String> password,
            @ConfigProperty(name = "m2m.cluster.heartbeat", defaultValue = "1s") Duration heartbeat,
            @ConfigProperty(name = "m2m.cluster.replica-id") Optional<String> replicaId,
            @ConfigProperty(name = "m2m.cluster.ack-timeout", defaultValue = "1s") Duration ackTimeout) {
        this.handlers = handlers;
        this.ackTimeout = ackTimeout;
        this.propagation = Timer.builder("m2m.cluster.propagation")
                .description("from this replica's commit of a change until every live replica applied it")
                .publishPercentiles(0.5, 0.99)
                .register(registry);
        this.unacknowledged = Counter.builder("m2m.cluster.unacknowledged")
                .description("changes some live replica did not acknowledge within the ack timeout")
                .register(registry);
        this.url = url;
        this.user = user;
        this.password = password;
        this.heartbeat = heartbeat;
        this.replicaId = replicaId.filter(s -> !s.isBlank()).orElseGet(ClusterLink::defaultReplicaId);
        this.received = Counter.builder("m2m.cluster.events_received")
                .description("events other replicas committed that this replica applied")
                .register(registry);
        this.losses = Counter.builder("m2m.cluster.link_losses")
                .description("times this replica lost its link to the cluster and dropped its caches")
                .register(registry);
        Gauge.builder("m2m.cluster.link_up", this, l -> l.up ? 1 : 0)
                .description("1 while this replica hears the other replicas' changes")
                .register(registry);
        Gauge.builder("m2m.cluster.job_leader", this, l -> l.leader ? 1 : 0)
                .description("1 on the replica that runs the cluster-once jobs")
                .register(registry);
    }

    private static String defaultReplicaId() {
        String host = Optional.ofNullable(System.getenv("HOSTNAME")).orElse("replica");
        String id = host + "-" + UUID.randomUUID().toString().substring(0, 8);
        return id.length() > 64 ? id.substring(id.length() - 64) : id;
    }

    @PostConstruct
    void start() {
        thread = new Thread(this::run, "cluster-link");
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
        Connection c = connection;
        if (c != null && up) {
            try {
                ClusterEventStore.leave(c, replicaId);
                ClusterEventStore.acknowledge(c, replicaId, -1); // peers stop waiting for this replica now
            } catch (SQLException e) {
                LOG.debugf("could not leave the cluster cleanly: %s", e.getMessage());
            }
        }
        closeQuietly(); // also releases the job-leader lock at once
    }

    /**
     * After this replica committed event {@code seq}: waits until every other live replica has applied it, for at
     * most the ack timeout (a replica that does not answer in that time is logged and counted, and fails closed on its
     * own if it lost its link). Returns at once while this replica's own link is down.
     */
    void awaitApplied(long seq) {
        if (!up) {
            return;
        }
        long start = System.nanoTime();
        long end = start + ackTimeout.toNanos();
        synchronized (acks) {
            while (true) {
                Set<String> peers = livePeers;
                Set<String> got = acks.getOrDefault(seq, Set.of());
                if (got.containsAll(peers)) {
                    long took = System.nanoTime() - start;
                    propagation.record(took, TimeUnit.NANOSECONDS);
                    LOG.debugf(
                            "cluster event %d applied by %s in %d µs",
                            Long.valueOf(seq), peers, Long.valueOf(took / 1000));
                    return;
                }
                long left = end - System.nanoTime();
                if (left <= 0) {
                    Set<String> missing = new TreeSet<>(peers);
                    missing.removeAll(got);
                    unacknowledged.increment();
                    LOG.warnf("cluster event %d not acknowledged within %s by %s", seq, ackTimeout, missing);
                    return;
                }
                try {
                    acks.wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private void acknowledged(String payload) {
        int space = payload.indexOf(' ');
        if (space < 0) {
            return;
        }
        long seq;
        try {
            seq = Long.parseLong(payload.substring(0, space));
        } catch (NumberFormatException e) {
            return;
        }
        String replica = payload.substring(space + 1);
        synchronized (acks) {
            if (seq < 0) { // a replica left: nobody waits for it any more
                Set<String> peers = new HashSet<>(livePeers);
                peers.remove(replica);
                livePeers = Set.copyOf(peers);
            } else {
                acks.computeIfAbsent(seq, k -> new HashSet<>()).add(replica);
                while (acks.size() > 4096) {
                    acks.remove(acks.keySet().iterator().next());
                }
            }
            acks.notifyAll();
        }
    }

    /** This replica's name in the events it publishes (the pod name plus a random suffix by default). */
    public String replicaId() {
        return replicaId;
    }

    /** Whether this replica hears the others now; caches may answer only then. */
    public boolean cachesTrusted() {
        return up;
    }

    /** Changes whenever the link is lost or comes back (see {@link ReplicaCache}). */
    long epoch() {
        return epoch.get();
    }

    /** Whether this replica holds the job-leader lock (and its link is up). */
    public boolean jobLeader() {
        return up && leader;
    }

    public Optional<String> downReason() {
        return up ? Optional.empty() : Optional.of(downReason);
    }

    /** The newest event number this replica has seen (its own or another's). */
    public long newestSeen() {
        return newestSeen;
    }

    // ---------------------------------------------------------------- the link thread

    private void run() {
        long backoff = 100;
        long nextBeat = 0;
        while (running) {
            try {
                if (connection == null) {
                    connect();
                    backoff = 100;
                    nextBeat = System.nanoTime() + heartbeat.toNanos();
                }
                PGConnection pg = connection.unwrap(PGConnection.class);
                PGNotification[] ns = pg.getNotifications((int) Math.max(1, heartbeat.toMillis()));
                if (ns != null) {
                    for (PGNotification n : ns) {
                        if (ClusterEventStore.ACK_CHANNEL.equals(n.getName())) {
                            acknowledged(n.getParameter());
                        } else {
                            apply(n.getParameter());
                        }
                    }
                }
                if (System.nanoTime() - nextBeat >= 0) {
                    beat(); // a query: a dead server or a cut socket shows here within the socket timeout
                    nextBeat = System.nanoTime() + heartbeat.toNanos();
                }
            } catch (SQLException | RuntimeException e) {
                if (!running) {
                    break;
                }
                lost(e);
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    break;
                }
                backoff = Math.min(backoff * 2, 2_000);
            }
        }
    }

    /**
     * A connection of this replica's own, outside the pool and never enlisted in a transaction (its session-level
     * advisory locks and {@code LISTEN} belong to it alone), named {@code purpose} in {@code pg_stat_activity}.
     */
    Connection openConnection(String purpose) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        password.ifPresent(pw -> p.setProperty("password", pw));
        p.setProperty("ApplicationName", "m2m-trust " + purpose + " " + replicaId);
        p.setProperty("connectTimeout", "5");
        p.setProperty("socketTimeout", "10");
        p.setProperty("tcpKeepAlive", "true");
        Connection c = DriverManager.getConnection(url, p);
        c.setAutoCommit(true);
        return c;
    }

    private void connect() throws SQLException {
        Connection c = openConnection("cluster link");
        try {
            try (Statement s = c.createStatement()) {
                s.execute("LISTEN " + ClusterEventStore.CHANNEL);
                s.execute("LISTEN " + ClusterEventStore.ACK_CHANNEL);
            }
            ClusterEventStore.heartbeat(c, replicaId);
            livePeers = Set.copyOf(ClusterEventStore.livePeers(c, replicaId, LIVE_SECONDS));
            // listening before the version is read: nothing committed after this point is missed
            newestSeen = Math.max(newestSeen, ClusterEventStore.newest(c));
            leader = ClusterEventStore.tryLeaderLock(c, JOB_LEADER_LOCK);
        } catch (SQLException e) {
            c.close();
            throw e;
        }
        connection = c;
        epoch.incrementAndGet();
        boolean wasDown = everUp;
        everUp = true;
        up = true;
        downReason = null;
        if (wasDown) {
            LOG.infof("cluster link is back (replica %s, job leader: %s)", replicaId, leader);
        } else {
            LOG.debugf("cluster link up (replica %s, job leader: %s)", replicaId, leader);
        }
    }

    /** A replica whose heartbeat is older than this is not waited for (it is gone, or it failed closed). */
    static final long LIVE_SECONDS = 5;

    private void beat() throws SQLException {
        ClusterEventStore.heartbeat(connection, replicaId);
        livePeers = Set.copyOf(ClusterEventStore.livePeers(connection, replicaId, LIVE_SECONDS));
        if (!leader) {
            leader = ClusterEventStore.tryLeaderLock(connection, JOB_LEADER_LOCK);
            if (leader) {
                LOG.infof("replica %s is now the job leader", replicaId);
            }
        }
    }

    private void apply(String notification) throws SQLException {
        JsonNode n;
        try {
            n = JSON.readTree(notification);
        } catch (java.io.IOException e) {
            LOG.warnf("ignored a malformed cluster notification (%d chars)", notification.length());
            return;
        }
        long seq = n.path("s").asLong();
        newestSeen = Math.max(newestSeen, seq);
        if (replicaId.equals(n.path("o").asText())) {
            return; // this replica dropped its own caches when it committed
        }
        String kind = n.path("k").asText();
        String payload = n.hasNonNull("p")
                ? n.get("p").asText()
                : ClusterEventStore.payload(connection, seq).orElse(null);
        if (payload == null) {
            LOG.warnf("cluster event %d (%s) was pruned before it was read: dropping every cache", seq, kind);
            forEachHandler(ClusterEventHandler::onLinkLost);
            return;
        }
        received.increment();
        long started = System.nanoTime();
        boolean known = false;
        for (ClusterEventHandler h : handlers) {
            if (h.kind().equals(kind)) {
                known = true;
                try {
                    h.onRemote(payload);
                } catch (RuntimeException e) {
                    // a handler that cannot apply an event must not serve what it may have made stale
                    LOG.errorf(
                            "%s could not apply cluster event %d: %s",
                            h.getClass().getSimpleName(), seq, e);
                    h.onLinkLost();
                }
            }
        }
        ClusterEventStore.acknowledge(connection, replicaId, seq); // its publisher may be waiting
        if (!known) {
            LOG.debugf("no handler for cluster event %d of kind %s", seq, kind);
        } else {
            LOG.debugf(
                    "applied cluster event %d (%s) from %s in %d µs",
                    seq, kind, n.path("o").asText(), (System.nanoTime() - started) / 1000);
        }
    }

    private void lost(Exception e) {
        boolean wasUp = up;
        up = false;
        leader = false;
        downReason = "cluster link to PostgreSQL lost: " + e.getClass().getSimpleName()
                + Optional.ofNullable(e.getMessage()).map(m -> ": " + m).orElse("");
        epoch.incrementAndGet();
        closeQuietly();
        forEachHandler(ClusterEventHandler::onLinkLost);
        if (wasUp) {
            losses.increment();
            LOG.warnf("%s; caches dropped and bypassed until it is back", downReason);
        }
    }

    private void forEachHandler(Consumer<ClusterEventHandler> action) {
        for (ClusterEventHandler h : handlers) {
            try {
                action.accept(h);
            } catch (RuntimeException ex) {
                LOG.errorf("%s failed to drop its caches: %s", h.getClass().getSimpleName(), ex);
            }
        }
    }

    private void closeQuietly() {
        Connection c = connection;
        connection = null;
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // already broken
            }
        }
    }
}
