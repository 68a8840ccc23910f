package io.m2mtrust.common;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;

import javax.security.auth.Destroyable;
import java.io.IOException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.function.Function;

/**
 * Key material held in host memory (exporter outputs, derived keys, unsealed keys).
 *
 * <p>It cannot be printed ({@link #toString()} names only the length), serialized by accident
 * (JSON writes {@code "[redacted]"}), or compared in variable time. The bytes are reachable only
 * through {@link #reveal(Function)} or {@link #copy()}, so a grep for those finds every place a key
 * leaves this type. {@link #close()} zeroises the copy held here.
 */
@JsonSerialize(using = SecretBytes.RedactingSerializer.class)
public final class SecretBytes implements Destroyable, AutoCloseable {

    private final byte[] value;
    private volatile boolean destroyed;

    private SecretBytes(byte[] value) {
        this.value = value;
    }

    /** Takes a copy of {@code bytes}; the caller should zeroise its own array. */
    public static SecretBytes copyOf(byte[] bytes) {
        if (bytes == null || bytes.length == 0) {
            throw new IllegalArgumentException("secret must not be empty");
        }
        return new SecretBytes(bytes.clone());
    }

    /** Takes ownership of {@code bytes} without copying (the caller must not keep a reference). */
    public static SecretBytes adopt(byte[] bytes) {
        if (bytes == null || bytes.length == 0) {
            throw new IllegalArgumentException("secret must not be empty");
        }
        return new SecretBytes(bytes);
    }

    public int length() {
        return value.length;
    }

    /** Runs {@code use} on the bytes themselves; the function must not keep the array. */
    public <T> T reveal(Function<byte[], T> use) {
        ensureAlive();
        return use.apply(value);
    }

    /** A copy of the bytes, which the caller must zeroise. */
    public byte[] copy() {
        ensureAlive();
        return value.clone();
    }

    /** Constant-time comparison. */
    public boolean equalsSecret(SecretBytes other) {
        ensureAlive();
        return other != null && MessageDigest.isEqual(value, other.value);
    }

    @Override
    public void destroy() {
        Arrays.fill(value, (byte) 0);
        destroyed = true;
    }

    @Override
    public boolean isDestroyed() {
        return destroyed;
    }

    @Override
    public void close() {
        destroy();
    }

    private void ensureAlive() {
        if (destroyed) {
            throw new IllegalStateException("secret was destroyed");
        }
    }

    @Override
    public String toString() {
        return "SecretBytes[redacted, " + value.length + " bytes]";
    }

    /** Identity only: two secrets are never "equal" in collections by content. */
    @Override
    public boolean equals(Object o) {
        return this == o;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(this);
    }

    public static final class RedactingSerializer extends JsonSerializer<SecretBytes> {
        @Override
        public void serialize(SecretBytes value, JsonGenerator gen, SerializerProvider serializers) throws IOException {
            gen.writeString("[redacted]");
        }
    }
}
