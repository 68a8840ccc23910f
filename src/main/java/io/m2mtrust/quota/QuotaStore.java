package io.m2mtrust.quota;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The shared token buckets in PostgreSQL ({@code quota_bucket}, V15): one statement per lease. Leases run on a few
 * connections of their own (autocommit, short timeouts), never the request's pool or transaction: a request that holds
 * a pooled connection and waits for a lease must not wait for the pool too, and a lease stands whatever the request
 * does next.
 */
@ApplicationScoped
class QuotaStore {

    /** What one exchange with the shared bucket gave: whole tokens granted, and the level left after the grant. */
    record Grant(int granted, double level) {}

    /*
     * The level now = the stored level refilled for the time since it was written (never backwards: another replica's
     * statement may have started later and written first), capped at the burst, plus what the replica gives back.
     * The grant = what was asked, at most the whole tokens of that level. A bucket's first lease finds it full.
     */
    private static final String LEVEL = "least(:burst, b.tokens + :give"
            + " + :rate * greatest(0, extract(epoch from statement_timestamp() - b.refilled_at)))";

    private static final String LEASE = """
            insert into quota_bucket as b (tenant_id, bucket, tokens, refilled_at, granted)
            values (:tenant, :bucket, :burst - least(:want, :burst), statement_timestamp(), least(:want, :burst))
            on conflict (tenant_id, bucket) do update set
                tokens = LEVEL - least(:want, greatest(0, floor(LEVEL))),
                granted = least(:want, greatest(0, floor(LEVEL))),
                refilled_at = greatest(b.refilled_at, statement_timestamp())
            returning granted, tokens
            """.replace("LEVEL", LEVEL);

    private static final String PEEK = """
            select least(:burst, b.tokens + :rate * greatest(0, extract(epoch from statement_timestamp() - b.refilled_at)))
            from quota_bucket b where b.tenant_id = :tenant and b.bucket = :bucket
            """;

    /** Connections kept for leases; more are opened when all are busy and closed when the queue is full. */
    private static final int KEPT = 4;

    private final String url;
    private final String user;
    private final Optional<String> password;
    private final BlockingQueue<Connection> idle = new ArrayBlockingQueue<>(KEPT);

    QuotaStore(
            @ConfigProperty(name = "quarkus.datasource.jdbc.url") String url,
            @ConfigProperty(name = "quarkus.datasource.username") String user,
            @ConfigProperty(name = "quarkus.datasource.password") Optional<String> password) {
        this.url = url;
        this.user = user;
        this.password = password;
    }

    /**
     * Takes up to {@code want} tokens from the tenant's {@code bucket} (refill {@code rate} per second, capacity
     * {@code burst}), after giving back {@code giveBack} unspent ones. Throws when the database cannot answer.
     */
    Grant lease(String tenantId, QuotaBucket bucket, int rate, int burst, double giveBack, int want) {
        Map<String, Object> p = Map.of(
                "tenant",
                tenantId,
                "bucket",
                bucket.name(),
                "burst",
                (double) burst,
                "rate",
                (double) rate,
                "want",
                (double) want,
                "give",
                giveBack);
        return query(LEASE, p, rs -> new Grant(rs.getInt(1), rs.getDouble(2)))
                .orElseThrow(() -> new IllegalStateException("the lease statement returned no row"));
    }

    /** The level in the shared bucket now, without taking anything (the console); empty before its first lease. */
    Optional<Double> level(String tenantId, QuotaBucket bucket, int rate, int burst) {
        Map<String, Object> p =
                Map.of("tenant", tenantId, "bucket", bucket.name(), "burst", (double) burst, "rate", (double) rate);
        return query(PEEK, p, rs -> rs.getDouble(1));
    }

    private interface Row<T> {
        T read(ResultSet rs) throws SQLException;
    }

    private static final Pattern NAME = Pattern.compile(":([a-z]+)");

    private <T> Optional<T> query(String namedSql, Map<String, Object> params, Row<T> row) {
        List<Object> ordered = new ArrayList<>();
        Matcher m = NAME.matcher(namedSql);
        StringBuilder sql = new StringBuilder();
        while (m.find()) {
            Object v = params.get(m.group(1));
            if (v == null) {
                throw new IllegalArgumentException("no parameter " + m.group(1));
            }
            ordered.add(v);
            m.appendReplacement(sql, v instanceof Double ? "cast(? as double precision)" : "?");
        }
        m.appendTail(sql);
        Connection c = null;
        try {
            c = take();
            try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
                for (int i = 0; i < ordered.size(); i++) {
                    ps.setObject(i + 1, ordered.get(i));
                }
                try (ResultSet rs = ps.executeQuery()) {
                    Optional<T> out = rs.next() ? Optional.of(row.read(rs)) : Optional.empty();
                    give(c);
                    c = null;
                    return out;
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("quota buckets: " + e.getMessage(), e);
        } finally {
            if (c != null) {
                closeQuietly(c); // a connection that failed is not reused
            }
        }
    }

    private Connection take() throws SQLException {
        Connection c = idle.poll();
        if (c != null) {
            return c;
        }
        Properties p = new Properties();
        p.setProperty("user", user);
        password.ifPresent(pw -> p.setProperty("password", pw));
        p.setProperty("ApplicationName", "m2m-trust quota leases");
        p.setProperty("connectTimeout", "2");
        p.setProperty("socketTimeout", "2");
        p.setProperty("options", "-c statement_timeout=1000 -c lock_timeout=1000");
        c = DriverManager.getConnection(url, p);
        c.setAutoCommit(true);
        return c;
    }

    private void give(Connection c) {
        if (!idle.offer(c)) {
            closeQuietly(c);
        }
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // closing a broken connection
        }
    }

    @PreDestroy
    void close() {
        for (Connection c; (c = idle.poll()) != null; ) {
            closeQuietly(c);
        }
    }
}
