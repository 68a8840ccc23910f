package io.m2mtrust.hsm;

/**
 * The token answered, but a cached object handle was no longer valid (the module was re-initialised
 * under it, e.g. after an outage recovery): the handles of the generation are dropped and the operation
 * may be retried once with a fresh lookup.
 */
public class HsmStaleHandleException extends HsmCryptoException {
    public HsmStaleHandleException(String message, Throwable cause) {
        super(message, cause);
    }
}
