package io.m2mtrust.hsm;

/** The token cannot be used right now (device error, token missing, not logged in). Maps to 503. */
public class HsmUnavailableException extends RuntimeException {

    /** Seconds a client is told to wait ({@code Retry-After}): about one health probe (every 5 s, ADR 0002). */
    public static final int RETRY_AFTER_SECONDS = 5;

    public HsmUnavailableException(String message) {
        super(message);
    }

    public HsmUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
