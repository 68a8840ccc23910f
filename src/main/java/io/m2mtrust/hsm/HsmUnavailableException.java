package io.m2mtrust.hsm;

/** The token cannot be used right now (device error, token missing, not logged in). Maps to 503. */
public class HsmUnavailableException extends RuntimeException {
    public HsmUnavailableException(String message) {
        super(message);
    }

    public HsmUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
