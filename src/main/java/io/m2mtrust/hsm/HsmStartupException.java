package io.m2mtrust.hsm;

/** The token could not be opened at start: wrong library path, slot or PIN. The message is one clear line. */
public class HsmStartupException extends RuntimeException {
    public HsmStartupException(String message, Throwable cause) {
        super(message, cause);
    }
}
