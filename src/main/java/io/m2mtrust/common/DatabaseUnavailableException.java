package io.m2mtrust.common;

/**
 * The database could not be reached while doing {@code what}: thrown where a library (Bouncy Castle's TLS, for one)
 * would otherwise turn the driver's error into its own kind of failure. {@link DatabaseOutage} recognises it, so every
 * front answers 503 with Retry-After (ADR 0027).
 */
public class DatabaseUnavailableException extends RuntimeException {

    public DatabaseUnavailableException(String what, Throwable cause) {
        super("the database is not reachable " + what, cause);
    }
}
