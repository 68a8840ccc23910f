package io.m2mtrust.hsm;

/** What a per-tenant HSM key is for; each purpose has one key type and a short label code. */
public enum KeyPurpose {
    /** AES-256 key-encryption key: seals every key the database stores (AES-GCM). */
    KEK("kek"),
    /** HMAC-SHA256 generic secret: derivations under a master key run inside the HSM. */
    DERIVE("derive"),
    /** EC P-256: signs the audit chain head (and later CRLs, certificates). */
    SIGN("sign"),
    /** HMAC-SHA256 key of one enrolment group: each device's Kpm is derived from it inside the HSM. */
    GROUP("group");

    private final String code;

    KeyPurpose(String code) {
        this.code = code;
    }

    public String code() {
        return code;
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
