package io.m2mtrust.cluster;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;

/** The SQL of the cluster events (ADR 0023): plain JDBC, on the caller's connection. */
final class ClusterEventStore {

    static final String CHANNEL = "m2m_cluster";
    static final String ACK_CHANNEL = "m2m_cluster_ack";

    /** {@code pg_notify} takes at most 8000 bytes; a larger payload is read back by its sequence number. */
    static final int MAX_INLINE_BYTES = 7000;

    private ClusterEventStore() {}

    /**
     * Records the event and queues its notification in the caller's transaction (sent at commit, dropped with a
     * rollback). Returns the event's sequence number.
     */
    static long insertAndNotify(Connection c, String origin, String kind, String payload) throws SQLException {
        boolean inline = payload.getBytes(StandardCharsets.UTF_8).length <= MAX_INLINE_BYTES;
        String sql = "with e as (insert into cluster_event (origin, kind, payload) values (?, ?, ?) returning seq) "
                + "select e.seq, pg_notify('" + CHANNEL + "', json_build_object('s', e.seq, 'o', ?::text, 'k', ?::text"
                + (inline ? ", 'p', ?::text" : "") + ")::text) from e";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, origin);
            ps.setString(2, kind);
            ps.setString(3, payload);
            ps.setString(4, origin);
            ps.setString(5, kind);
            if (inline) {
                ps.setString(6, payload);
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** The payload of event {@code seq}, when its notification did not carry it. */
    static Optional<String> payload(Connection c, long seq) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select payload from cluster_event where seq = ?")) {
            ps.setLong(1, seq);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
            }
        }
    }

    /** The newest sequence number (0 when none): the cluster's version counter. */
    static long newest(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select coalesce(max(seq), 0) from cluster_event");
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Session-level advisory lock of the job leader: held while the connection lives. */
    static boolean tryLeaderLock(Connection c, long key) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select pg_try_advisory_lock(?)")) {
            ps.setLong(1, key);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    /** Records this replica's heartbeat (and its row at the first one). */
    static void heartbeat(Connection c, String replicaId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("insert into cluster_member (replica_id, heartbeat_at) "
                + "values (?, now()) on conflict (replica_id) do update set heartbeat_at = now()")) {
            ps.setString(1, replicaId);
            ps.executeUpdate();
        }
    }

    /** The other replicas whose heartbeat is younger than {@code seconds}. */
    static java.util.Set<String> livePeers(Connection c, String replicaId, long seconds) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select replica_id from cluster_member "
                + "where replica_id <> ? and heartbeat_at > now() - make_interval(secs => ?)")) {
            ps.setString(1, replicaId);
            ps.setDouble(2, seconds);
            java.util.Set<String> out = new java.util.HashSet<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
            return out;
        }
    }

    /** Tells the publisher of event {@code seq} that this replica applied it. */
    static void acknowledge(Connection c, String replicaId, long seq) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select pg_notify('" + ACK_CHANNEL + "', ?)")) {
            ps.setString(1, seq + " " + replicaId);
            ps.executeQuery().close();
        }
    }

    /** Removes the row of a replica that stops (its peers stop waiting for it at once). */
    static void leave(Connection c, String replicaId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("delete from cluster_member where replica_id = ?")) {
            ps.setString(1, replicaId);
            ps.executeUpdate();
        }
    }

    /** Deletes events older than {@code seconds}; returns how many. */
    static int prune(Connection c, long seconds) throws SQLException {
        try (PreparedStatement ps =
                c.prepareStatement("delete from cluster_event where created_at < now() - make_interval(secs => ?)")) {
            ps.setDouble(1, seconds);
            return ps.executeUpdate();
        }
    }
}
