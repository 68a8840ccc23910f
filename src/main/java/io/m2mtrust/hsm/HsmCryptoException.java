package io.m2mtrust.hsm;

/** An HSM operation was refused for a reason of its input (bad tag, wrong key type), not an outage. */
public class HsmCryptoException extends RuntimeException {
    public HsmCryptoException(String message, Throwable cause) {
        super(message, cause);
    }
}
