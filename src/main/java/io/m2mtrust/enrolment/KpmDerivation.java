package io.m2mtrust.enrolment;

import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.hsm.HsmCrypto;
import jakarta.enterprise.context.ApplicationScoped;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * {@code Kpm = HMAC-SHA256(groupKey[epoch], "m2m-trust Kpm derivation v1" || 0x00 || KpmID)}, computed
 * inside the HSM (docs/interop-profile.md). The group key never leaves the token; the Kpm does, as the
 * PSK handed to the TLS stack or once for factory provisioning.
 */
@ApplicationScoped
public class KpmDerivation {

    static final byte[] LABEL = "m2m-trust Kpm derivation v1".getBytes(StandardCharsets.US_ASCII);

    private final HsmCrypto crypto;

    public KpmDerivation(HsmCrypto crypto) {
        this.crypto = crypto;
    }

    public SecretBytes derive(String tenantId, KpmId id) {
        return crypto.hmacSha256(GroupKey.label(tenantId, id.groupId(), id.epoch()), input(id));
    }

    /** The HMAC input for a KpmID (public for the benchmark's raw baseline). */
    public static byte[] input(KpmId id) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(LABEL);
        out.write(0);
        out.writeBytes(id.kdfBytes());
        return out.toByteArray();
    }
}
