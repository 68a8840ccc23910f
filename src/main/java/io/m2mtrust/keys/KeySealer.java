package io.m2mtrust.keys;

import io.m2mtrust.common.ApiProblem;
import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.hsm.HsmCrypto;
import io.m2mtrust.hsm.HsmKeyLabel;
import io.m2mtrust.hsm.KeyPurpose;
import io.m2mtrust.hsm.SealedBlobRejectedException;
import jakarta.enterprise.context.ApplicationScoped;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;

/**
 * Seals key material for storage in the database with AES-256-GCM under the tenant's KEK, inside
 * the HSM. The associated data binds tenant, key id, purpose and KEK version, so a blob copied to
 * another row, tenant or purpose does not open.
 *
 * <p>Blob layout: {@code 0x01 || kekVersion (u32) || iv (12) || ciphertext || tag (16)}.
 */
@ApplicationScoped
public class KeySealer {

    static final byte FORMAT_V1 = 0x01;
    private static final int HEADER = 1 + 4 + HsmCrypto.GCM_IV_BYTES;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final HsmCrypto crypto;
    private final KeyVersionRepository versions;

    KeySealer(HsmCrypto crypto, KeyVersionRepository versions) {
        this.crypto = crypto;
        this.versions = versions;
    }

    /** What a sealed blob is bound to; all three must match when it is opened. */
    public record SealContext(String tenantId, String keyId, String purpose) {
        public SealContext {
            if (tenantId == null || keyId == null || purpose == null) {
                throw new IllegalArgumentException("seal context needs tenant, key id and purpose");
            }
        }
    }

    public byte[] seal(SealContext ctx, SecretBytes key) {
        HsmKeyLabel kek = versions.primary(ctx.tenantId(), KeyPurpose.KEK)
                .orElseThrow(() -> ApiProblem.gone("tenant " + ctx.tenantId() + " has no key-encryption key"));
        byte[] iv = new byte[HsmCrypto.GCM_IV_BYTES];
        RANDOM.nextBytes(iv);
        byte[] ct = key.reveal(k -> crypto.sealAesGcm(kek, iv, k, aad(ctx, kek.version())));
        return ByteBuffer.allocate(HEADER + ct.length)
                .put(FORMAT_V1)
                .putInt(kek.version())
                .put(iv)
                .put(ct)
                .array();
    }

    /**
     * How many key bytes a blob holds, from its layout alone (AES-GCM adds no padding): lets a dry-run choose
     * algorithms by key size without opening the key. 0 for a blob of an unknown format.
     */
    public static int sealedKeyLength(byte[] blob) {
        return blob == null || blob.length < HEADER + 16 || blob[0] != FORMAT_V1 ? 0 : blob.length - HEADER - 16;
    }

    /** Opens a blob; any mismatch (tampering, other context, retired KEK) is {@link SealedBlobRejectedException}. */
    public SecretBytes open(SealContext ctx, byte[] blob) {
        if (blob == null || blob.length < HEADER + 16 || blob[0] != FORMAT_V1) {
            throw new SealedBlobRejectedException("not a sealed blob of a known format");
        }
        ByteBuffer b = ByteBuffer.wrap(blob);
        b.get();
        int version = b.getInt();
        byte[] iv = new byte[HsmCrypto.GCM_IV_BYTES];
        b.get(iv);
        byte[] ct = Arrays.copyOfRange(blob, HEADER, blob.length);
        HsmKeyLabel kek = versions.openable(ctx.tenantId(), KeyPurpose.KEK, version)
                .orElseThrow(
                        () -> new SealedBlobRejectedException("the KEK version of this blob is retired or unknown"));
        return crypto.openAesGcm(kek, iv, ct, aad(ctx, version));
    }

    static byte[] aad(SealContext ctx, int kekVersion) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String part : new String[] {
            "m2m-trust/seal/v1", ctx.tenantId(), ctx.keyId(), ctx.purpose(), Integer.toString(kekVersion)
        }) {
            byte[] p = part.getBytes(StandardCharsets.UTF_8);
            out.write(p.length >>> 8);
            out.write(p.length);
            out.write(p, 0, p.length);
        }
        return out.toByteArray();
    }
}
