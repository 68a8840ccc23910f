package io.m2mtrust.common;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.persistence.PersistenceException;
import org.hibernate.exception.JDBCConnectionException;
import org.junit.jupiter.api.Test;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.concurrent.CompletionException;

/** Which failures are a database outage (503, retry) and which are not (a bug or a refused statement stays a 500/4xx). */
class DatabaseOutageTest {

    @Test
    void lost_connections_shutdowns_and_pool_timeouts_are_outages_however_deeply_wrapped() {
        assertThat(DatabaseOutage.causedBy(new SQLException("I/O error", "08006")))
                .isTrue();
        assertThat(DatabaseOutage.causedBy(
                        new SQLException("terminating connection due to administrator command", "57P01")))
                .isTrue();
        assertThat(DatabaseOutage.causedBy(new SQLException("the database system is starting up", "57P03")))
                .isTrue();
        assertThat(DatabaseOutage.causedBy(new SQLException("Acquisition timeout while waiting for new connection")))
                .isTrue();
        assertThat(DatabaseOutage.causedBy(new SQLTransientConnectionException("gone")))
                .isTrue();
        Exception rollback = new IllegalStateException("ARJUNA016053: Could not commit transaction.");
        rollback.addSuppressed(new RuntimeException(new SQLException("terminating connection", "57P01")));
        assertThat(DatabaseOutage.causedBy(new RuntimeException(rollback)))
                .as("a commit's driver error, suppressed by the transaction manager")
                .isTrue();
        assertThat(DatabaseOutage.causedBy(new CompletionException(new PersistenceException(
                        new JDBCConnectionException("could not prepare", new SQLException("x", "08001"))))))
                .isTrue();
    }

    @Test
    void statement_errors_and_other_failures_are_not() {
        assertThat(DatabaseOutage.causedBy(new SQLException("duplicate key", "23505")))
                .isFalse();
        assertThat(DatabaseOutage.causedBy(new SQLException("canceling statement due to statement timeout", "57014")))
                .isFalse();
        assertThat(DatabaseOutage.causedBy(new SQLException("no state"))).isFalse();
        assertThat(DatabaseOutage.causedBy(new IllegalStateException("bug"))).isFalse();
        assertThat(DatabaseOutage.causedBy(null)).isFalse();
        Exception loop = new RuntimeException("a cause chain that loops");
        loop.initCause(new RuntimeException("inner", loop));
        assertThat(DatabaseOutage.causedBy(loop)).isFalse(); // bounded walk
    }
}
