package io.m2mtrust.esdata;

import io.m2mtrust.keys.KeySealer;
import io.m2mtrust.keysource.KeyIds;
import io.m2mtrust.keysource.KeyResolution;
import io.m2mtrust.keysource.KeyUsage;
import io.m2mtrust.keysource.SuidPolicy;
import io.m2mtrust.keysource.SymmetricKeySource;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Pre-provisioned keys ({@code id@another-fqdn}, SUID 1x, imported by an admin for named holders; used whole). The
 * catch-all source: asked last, for any {@code name@FQDN}.
 */
@ApplicationScoped
class PreprovisionedKeySource implements SymmetricKeySource {

    private final KeySealer sealer;
    private final SuidPolicy policy;
    private final EsdataStore store;

    PreprovisionedKeySource(KeySealer sealer, SuidPolicy policy, EsdataStore store) {
        this.store = store;
        this.sealer = sealer;
        this.policy = policy;
    }

    @Override
    public Family family() {
        return Family.PREPROVISIONED;
    }

    @Override
    public List<String> idsSharedBy(String tenantId, String a, String b) {
        return store.preprovisionedKeys(tenantId, 500).stream()
                .filter(k -> Arrays.asList(k.holders).contains(a)
                        && Arrays.asList(k.holders).contains(b))
                .map(k -> k.keyId)
                .toList();
    }

    @Override
    public boolean holds(String tenantId, String kid) {
        return KeyIds.ANY_AT_FQDN.matcher(kid).matches();
    }

    @Override
    public int order() {
        return 40;
    }

    @Override
    public Optional<KeyResolution> resolve(String tenantId, String caller, String kid, KeyUsage usage, boolean open) {
        if (!KeyIds.ANY_AT_FQDN.matcher(kid).matches()) {
            return Optional.empty();
        }
        PreprovisionedKey k = PreprovisionedKey.findById(new PreprovisionedKey.Key(tenantId, kid));
        if (k == null
                || k.revokedAt != null
                || !k.expiresAt.isAfter(Instant.now())
                || !Arrays.asList(k.holders).contains(caller)) {
            return Optional.of(KeyResolution.unknown(kid, "unknown or expired key"));
        }
        if (k.suid != usage.preprovisionedSuid()) {
            return Optional.of(
                    KeyResolution.wrongUsage(kid, "pre-provisioned", k.suid, usage.preprovisionedSuid(), usage));
        }
        if (!policy.allows(tenantId, k.suid)) {
            return Optional.of(KeyResolution.outsidePolicy(kid, k.suid));
        }
        List<String> peers =
                Arrays.stream(k.holders).filter(h -> !h.equals(caller)).toList();
        if (!open) {
            return Optional.of(KeyResolution.usable(kid, null, k.suid, k.expiresAt, k.keyLength, peers));
        }
        return Optional.of(KeyResolution.usable(
                kid,
                sealer.open(PreprovisionedKeyResource.seal(tenantId, kid), k.sealedKey),
                k.suid,
                k.expiresAt,
                0,
                peers));
    }
}
