package io.m2mtrust.keysource;

import io.m2mtrust.common.SecretBytes;

import java.time.Instant;
import java.util.List;

/**
 * A usable key, or why not (for answers and the dry-run; never key material in {@link #toString}). {@code keyLength}
 * is the length of the key that would be used, known without opening it; {@code status} is the HTTP status of a
 * refusal: 404 unknown to the caller, 403 held for another usage or outside the tenant policy, 400 not a key
 * identifier. {@code peers} are the identities the key is shared with besides the caller (ESPrim's impersonation
 * check). {@code key} is null in a dry-run.
 */
public record KeyResolution(
        String kid,
        SecretBytes key,
        int suid,
        Instant expiresAt,
        String problem,
        List<String> peers,
        int keyLength,
        int status) {

    public KeyResolution {
        peers = peers == null ? List.of() : List.copyOf(peers);
    }

    /** A key the caller may use: opened ({@code key} set) or, in a dry-run, only its length. */
    public static KeyResolution usable(
            String kid, SecretBytes key, int suid, Instant expiresAt, int keyLength, List<String> peers) {
        return new KeyResolution(kid, key, suid, expiresAt, null, peers, key != null ? key.length() : keyLength, 200);
    }

    /** Not the caller's key, expired or absent: indistinguishable on purpose. */
    public static KeyResolution unknown(String kid, String problem) {
        return new KeyResolution(kid, null, 0, null, problem, List.of(), 0, 404);
    }

    /** A key the caller holds, refused for this usage or by the tenant policy (TS-0004 SUIDs; interop profile: 403). */
    public static KeyResolution forbidden(String kid, String problem) {
        return new KeyResolution(kid, null, 0, null, problem, List.of(), 0, 403);
    }

    /** The refusal of a key whose SUID the tenant policy does not allow. */
    public static KeyResolution outsidePolicy(String kid, int suid) {
        return forbidden(kid, "SUID " + suid + " is not allowed by the tenant policy");
    }

    /** The refusal of a key held for another usage. */
    public static KeyResolution wrongUsage(String kid, String family, int held, int wanted, KeyUsage usage) {
        return forbidden(
                kid, "the key is " + family + " for SUID " + held + ", not " + wanted + " (" + usage.word() + ")");
    }

    public static KeyResolution malformed(String kid, String problem) {
        return new KeyResolution(kid, null, 0, null, problem, List.of(), 0, 400);
    }

    public boolean usable() {
        return problem == null;
    }

    @Override
    public String toString() {
        return "KeyResolution[" + kid + ", suid " + suid + (problem == null ? "" : ", " + status + " " + problem) + "]";
    }
}
