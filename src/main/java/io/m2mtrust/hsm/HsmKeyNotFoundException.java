package io.m2mtrust.hsm;

/** No object with that label exists in the token (never created, or destroyed by crypto-shredding). */
public class HsmKeyNotFoundException extends RuntimeException {
    private final HsmKeyLabel label;

    public HsmKeyNotFoundException(HsmKeyLabel label) {
        super("no HSM key " + label.value());
        this.label = label;
    }

    public HsmKeyLabel label() {
        return label;
    }
}
