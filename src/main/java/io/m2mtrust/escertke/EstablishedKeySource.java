package io.m2mtrust.escertke;

import io.m2mtrust.keys.KeySealer;
import io.m2mtrust.keysource.KeyIds;
import io.m2mtrust.keysource.KeyResolution;
import io.m2mtrust.keysource.KeyUsage;
import io.m2mtrust.keysource.SuidPolicy;
import io.m2mtrust.keysource.SymmetricKeySource;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Keys established by ESCertKE ({@code hex(pairwiseE2EKeyID)@<initiator's FQDN>}): between the two identities the
 * handshake authenticated, used whole (32 bytes); SUID 43 for ESPrim, 44/45 for ESData. The caller is one side,
 * named by its From (ESPrim) or its certificate's subjectAltName (an ESData end-point).
 */
@ApplicationScoped
class EstablishedKeySource implements SymmetricKeySource {

    private final KeySealer sealer;
    private final SuidPolicy policy;
    private final EscertkeStore store;

    EstablishedKeySource(KeySealer sealer, SuidPolicy policy, EscertkeStore store) {
        this.store = store;
        this.sealer = sealer;
        this.policy = policy;
    }

    /** After the registered keys (whose FQDN is the tenant's own MAF/MEF), before the pre-provisioned catch-all. */
    @Override
    public Family family() {
        return Family.ESCERTKE;
    }

    @Override
    public List<String> idsSharedBy(String tenantId, String a, String b) {
        return store.newest(tenantId, 500).stream()
                .filter(k -> (k.isLocal(a) && k.isPeer(b)) || (k.isLocal(b) && k.isPeer(a)))
                .map(k -> k.keyId)
                .toList();
    }

    @Override
    public boolean holds(String tenantId, String kid) {
        return KeyIds.RELATIVE_AT_FQDN.matcher(kid).matches()
                && EscertkeKey.findById(new EscertkeKey.Key(tenantId, kid)) != null;
    }

    @Override
    public int order() {
        return 30;
    }

    @Override
    public Optional<KeyResolution> resolve(String tenantId, String caller, String kid, KeyUsage usage, boolean open) {
        if (!KeyIds.RELATIVE_AT_FQDN.matcher(kid).matches()) {
            return Optional.empty();
        }
        EscertkeKey k = EscertkeKey.findById(new EscertkeKey.Key(tenantId, kid));
        if (k == null) {
            return Optional.empty();
        }
        boolean local = k.isLocal(caller);
        if (!k.usable(Instant.now()) || !(local || k.isPeer(caller))) {
            return Optional.of(KeyResolution.unknown(k.keyId, "unknown or expired key"));
        }
        int suid = usage.certificateSuid();
        if (!policy.allows(tenantId, suid)) {
            return Optional.of(KeyResolution.outsidePolicy(k.keyId, suid));
        }
        List<String> peers = local ? List.of(k.peerIdentity, k.peerSubject) : List.of(k.localIdentity, k.localSubject);
        if (!open) {
            return Optional.of(KeyResolution.usable(
                    k.keyId, null, suid, k.expiresAt, KeySealer.sealedKeyLength(k.sealedKey), peers));
        }
        return Optional.of(KeyResolution.usable(
                k.keyId,
                sealer.open(EscertkeService.seal(tenantId, k.keyId), k.sealedKey),
                suid,
                k.expiresAt,
                0,
                peers));
    }
}
