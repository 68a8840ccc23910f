package io.m2mtrust.cluster;

import jakarta.enterprise.context.ApplicationScoped;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/**
 * Work that one replica at a time may do, serialised by a PostgreSQL advisory lock on a connection of its own, outside
 * the pool and any transaction (the lock goes with the session if the replica dies). For making objects every replica shares but nothing else locks:
 * the HSM probe and platform keys at a first start of several replicas (two objects with one label would make
 * SunPKCS11's key store unloadable: PITFALLS).
 */
@ApplicationScoped
public class ClusterLocks {

    private final ClusterLink link;

    ClusterLocks(ClusterLink link) {
        this.link = link;
    }

    /** Runs {@code work} while holding the cluster-wide lock named {@code name} (waits for it). */
    public void run(String name, Runnable work) {
        try (Connection c = link.openConnection("cluster lock " + name)) {
            lock(c, "select pg_advisory_lock(hashtextextended(?, 0))", name);
            try {
                work.run();
            } finally {
                lock(c, "select pg_advisory_unlock(hashtextextended(?, 0))", name);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cluster lock " + name + ": " + e.getMessage(), e);
        }
    }

    private static void lock(Connection c, String sql, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, name);
            ps.executeQuery().close();
        }
    }
}
