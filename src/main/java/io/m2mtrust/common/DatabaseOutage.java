package io.m2mtrust.common;

import org.hibernate.exception.JDBCConnectionException;

import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTransientConnectionException;

/**
 * Whether a failure means the database cannot be reached now (stopped, restarting, connection lost, pool unable to
 * connect) rather than a bug or a refused statement. Such a failure is answered 503 with {@code Retry-After} on every
 * front (API, device listeners, proxy), like an HSM outage: the transaction was rolled back or never began, and the
 * client may repeat the request (issue 21's fault tests stop PostgreSQL under load).
 */
public final class DatabaseOutage {

    /** Seconds a client is told to wait: about what a PostgreSQL restart or a fail-over takes. */
    public static final int RETRY_AFTER_SECONDS = 5;

    private DatabaseOutage() {}

    /**
     * Looks through causes and suppressed exceptions (a failed commit reports the driver's error as suppressed by the
     * transaction manager's RollbackException), at most 32 levels deep.
     */
    public static boolean causedBy(Throwable t) {
        return causedBy(t, 0);
    }

    private static boolean causedBy(Throwable t, int depth) {
        if (t == null || depth > 32) {
            return false;
        }
        if (t instanceof DatabaseUnavailableException
                || t instanceof SQLTransientConnectionException
                || t instanceof SQLNonTransientConnectionException
                || t instanceof JDBCConnectionException
                || (t instanceof SQLException s && unavailableState(s.getSQLState(), s.getMessage()))) {
            return true;
        }
        for (Throwable suppressed : t.getSuppressed()) {
            if (causedBy(suppressed, depth + 1)) {
                return true;
            }
        }
        return t.getCause() != t && causedBy(t.getCause(), depth + 1);
    }

    /**
     * SQLSTATE class 08 (connection exception), 57P01–57P03 (admin or crash shutdown, cannot connect now); the pool's
     * acquisition timeout carries no state, only its message.
     */
    static boolean unavailableState(String state, String message) {
        if (state != null) {
            return state.startsWith("08") || state.equals("57P01") || state.equals("57P02") || state.equals("57P03");
        }
        return message != null && message.startsWith("Acquisition timeout");
    }
}
