package io.m2mtrust.hsm;

/** A sealed blob did not authenticate: wrong key version, wrong associated data, or tampered bytes. */
public class SealedBlobRejectedException extends RuntimeException {
    public SealedBlobRejectedException(String message) {
        super(message);
    }
}
