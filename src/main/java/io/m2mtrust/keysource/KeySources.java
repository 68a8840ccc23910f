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

    /**
     * Ids of keys both identities hold, family by family in {@link SymmetricKeySource.Family} order: what the policy
     * simulator considers between an originator and a target.
     */
    public List<String> idsSharedBy(String tenantId, String a, String b) {
        return sources.stream()
                .sorted(Comparator.comparing(SymmetricKeySource::family))
                .flatMap(s -> s.idsSharedBy(tenantId, a, b).stream())
                .toList();
    }

    /** The family of the first source (in resolution order) that holds {@code kid}. */
    public Optional<SymmetricKeySource.Family> familyOf(String tenantId, String kid) {
        return sources.stream()
                .filter(s -> s.holds(tenantId, kid))
                .map(SymmetricKeySource::family)
                .findFirst();
    }

    /** The malformed answer a source gives for an identifier of its family that is not well formed. */
    public static KeyResolution notAKeyId(String kid) {
        return KeyResolution.malformed(kid, NOT_A_KEY_ID);
    }
}
