package io.m2mtrust.hsm;

/** What a per-tenant HSM key is for; each purpose has one key type and a short label code. */
public enum KeyPurpose {
    /** AES-256 key-encryption key: seals every key the database stores (AES-GCM). */
    KEK("kek"),
    /** HMAC-SHA256 generic secret: derivations under a master key run inside the HSM. */
    DERIVE("derive"),
    /** EC P-256: signs the audit chain head. */
    SIGN("sign"),
    /** HMAC-SHA256 key of one enrolment group: each device's Kpm is derived from it inside the HSM. */
    GROUP("group"),
    /** EC P-256 key of the tenant CA: issues device / CSE / AE certificates (EST) and signs CRLs. */
    CA("ca"),
    /** EC P-256 key of the tenant's MEF/MAF FQDN certificate (ECDHE_ECDSA on the device listener). */
    TLS("tls"),
    /** EC P-256 certificate key of an end-point the service acts for (ESData signatures), named by the end-point. */
    ENDPOINT("endpoint");

    private final String code;

    KeyPurpose(String code) {
        this.code = code;
    }

    public String code() {
        return code;
    }

    /** Keys that carry a name in their label (one object per group or end-point). */
    public boolean isNamed() {
        return this == GROUP || this == ENDPOINT;
    }

    /** EC P-256 key pairs (private key in the HSM, public key stored beside it). */
    public boolean isEcKeyPair() {
        return this == SIGN || this == CA || this == TLS || this == ENDPOINT;
    }

    public static KeyPurpose fromCode(String code) {
        for (KeyPurpose p : values()) {
            if (p.code.equals(code)) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown key purpose: " + code);
    }
}
