package io.m2mtrust.keysource;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;

import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Every symmetric end-to-end key of a tenant, by key identifier: the one place ESPrim, ESData and the policy
 * simulator ask. The sources are the features' {@link SymmetricKeySource} beans, asked in {@link
 * SymmetricKeySource#order()}; an identifier no source recognises is malformed (400). Callers run inside a
 * transaction.
 */
@ApplicationScoped
public class KeySources {

    private static final String NOT_A_KEY_ID = "not a key identifier (RelativeKeyID@FQDN)";

    private final List<SymmetricKeySource> sources;

    KeySources(Instance<SymmetricKeySource> sources) {
        this.sources = sources.stream()
                .sorted(Comparator.comparingInt(SymmetricKeySource::order))
                .toList();
    }

    /** Resolves {@code kid} for {@code caller}; with {@code open=false} only checks (dry-run). */
    public KeyResolution resolve(String tenantId, String caller, String kid, KeyUsage usage, boolean open) {
        if (kid == null || kid.length() > KeyIds.MAX_LENGTH) {
            return KeyResolution.malformed(kid, NOT_A_KEY_ID);
        }
        for (SymmetricKeySource source : sources) {
            Optional<KeyResolution> r = source.resolve(tenantId, caller, kid, usage, open);
            if (r.isPresent()) {
                return r.get();
            }
        }
        return KeyResolution.malformed(kid, NOT_A_KEY_ID);
    }

    /** The malformed answer a source gives for an identifier of its family that is not well formed. */
    public static KeyResolution notAKeyId(String kid) {
        return KeyResolution.malformed(kid, NOT_A_KEY_ID);
    }
}
