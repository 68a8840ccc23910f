package io.m2mtrust.audit;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The link hash: SHA-256 over the previous hash, the sequence number and every field, each field
 * length-prefixed so no two different events hash the same. Times are hashed at microsecond
 * precision, which is what PostgreSQL stores.
 */
public final class AuditChainHash {

    public static final byte[] GENESIS = new byte[32];

    private AuditChainHash() {}

    public static byte[] of(AuditEvent e) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update("m2m-trust/audit/v1".getBytes(StandardCharsets.US_ASCII));
            md.update(e.prevHash);
            md.update(ByteBuffer.allocate(8).putLong(e.seq).array());
            field(md, e.chain);
            field(md, e.occurredAt.getEpochSecond() + "." + String.format("%06d", e.occurredAt.getNano() / 1000));
            field(md, e.actor);
            field(md, e.action);
            field(md, e.target);
            field(md, e.outcome);
            field(md, e.detail);
            field(md, e.requestId);
            return md.digest();
        } catch (NoSuchAlgorithmException ex) {
            throw new IllegalStateException(ex);
        }
    }

    private static void field(MessageDigest md, String s) {
        if (s == null) {
            md.update(ByteBuffer.allocate(4).putInt(-1).array());
            return;
        }
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        md.update(ByteBuffer.allocate(4).putInt(b.length).array());
        md.update(b);
    }

    /** What the HSM signs for a head: chain, seq and hash. */
    public static byte[] headStatement(String chain, long seq, byte[] hash) {
        byte[] c = chain.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(20 + c.length + 8 + hash.length)
                .put("m2m-trust/audit-head".getBytes(StandardCharsets.US_ASCII))
                .put(c)
                .putLong(seq)
                .put(hash)
                .array();
    }
}
