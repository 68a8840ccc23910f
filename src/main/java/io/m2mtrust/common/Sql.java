package io.m2mtrust.common;

/** Small helpers for database outcomes that are answers, not failures. */
public final class Sql {

    private Sql() {}

    /** Whether a PostgreSQL unique constraint refused the write (SQLState 23505): a concurrent twin won. */
    public static boolean isUniqueViolation(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.sql.SQLException s && "23505".equals(s.getSQLState())) {
                return true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }
}
