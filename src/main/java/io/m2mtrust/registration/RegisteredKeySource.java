package io.m2mtrust.registration;

import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.keys.KeySealer;
import io.m2mtrust.keysource.KeyIds;
import io.m2mtrust.keysource.KeyResolution;
import io.m2mtrust.keysource.KeySources;
import io.m2mtrust.keysource.KeyUsage;
import io.m2mtrust.keysource.SuidPolicy;
import io.m2mtrust.keysource.SymmetricKeySource;
import io.m2mtrust.tenant.DeviceFqdns;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;

import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;

/**
 * Keys registered with the tenant's MAF or MEF by a source client ({@code hex@maf-fqdn}, {@code hex@mef-fqdn}):
 * the caller must be the source or a target, the key not expired and registered for the usage's SUID (MAF 3x,
 * MEF 2x). Per the interop profile a protocol that needs one key takes the first half of the Key Value.
 */
@ApplicationScoped
class RegisteredKeySource implements SymmetricKeySource {

    private final EntityManager em;
    private final KeySealer sealer;
    private final DeviceFqdns fqdns;
    private final SuidPolicy policy;
    private final RegistrationStore store;

    RegisteredKeySource(
            EntityManager em, KeySealer sealer, DeviceFqdns fqdns, SuidPolicy policy, RegistrationStore store) {
        this.store = store;
        this.em = em;
        this.sealer = sealer;
        this.fqdns = fqdns;
        this.policy = policy;
    }

    @Override
    public Family family() {
        return Family.REGISTERED;
    }

    @Override
    public List<String> idsSharedBy(String tenantId, String a, String b) {
        return store.registeredByEither(tenantId, a, b).stream()
                .filter(k -> Arrays.asList(k.targetIds).contains(k.sourceClientId.equals(a) ? b : a))
                .map(k -> k.relativeKeyId + "@" + k.registrar.fqdn(fqdns, tenantId))
                .toList();
    }

    @Override
    public boolean holds(String tenantId, String kid) {
        String fqdn = KeyIds.fqdnOf(kid);
        return fqdn.equals(fqdns.maf(tenantId)) || fqdn.equals(fqdns.mef(tenantId));
    }

    @Override
    public int order() {
        return 20;
    }

    @Override
    public Optional<KeyResolution> resolve(String tenantId, String caller, String kid, KeyUsage usage, boolean open) {
        String fqdn = KeyIds.fqdnOf(kid);
        Registrar registrar = fqdn.equals(fqdns.maf(tenantId))
                ? Registrar.MAF
                : fqdn.equals(fqdns.mef(tenantId)) ? Registrar.MEF : null;
        if (registrar == null) {
            return Optional.empty();
        }
        Matcher m = KeyIds.RELATIVE_AT_FQDN.matcher(kid);
        if (!m.matches()) {
            return Optional.of(KeySources.notAKeyId(kid));
        }
        return Optional.of(resolve(tenantId, caller, kid, registrar, m.group(1), usage, open));
    }

    private KeyResolution resolve(
            String tenantId,
            String caller,
            String kid,
            Registrar registrar,
            String relative,
            KeyUsage usage,
            boolean open) {
        KeyRegistration k = em.find(KeyRegistration.class, new KeyRegistration.Key(tenantId, registrar, relative));
        if (k == null || !k.expiresAt.isAfter(Instant.now())) {
            return KeyResolution.unknown(kid, "unknown or expired key");
        }
        if (!k.sourceClientId.equals(caller) && !Arrays.asList(k.targetIds).contains(caller)) {
            return KeyResolution.unknown(kid, "unknown key"); // not this end-point's: indistinguishable from absent
        }
        int wanted = registrar == Registrar.MAF ? usage.mafSuid() : usage.mefSuid();
        if (k.suid != wanted) {
            return KeyResolution.wrongUsage(kid, "registered", k.suid, wanted, usage);
        }
        if (!policy.allows(tenantId, k.suid)) {
            return KeyResolution.outsidePolicy(kid, k.suid);
        }
        // the registration's other parties: the source when the caller is a target, the targets when it is the source
        List<String> peers = k.sourceClientId.equals(caller) ? List.of(k.targetIds) : List.of(k.sourceClientId);
        if (!open) {
            return KeyResolution.usable(
                    kid, null, k.suid, k.expiresAt, KeySealer.sealedKeyLength(k.sealedKey) / 2, peers);
        }
        try (SecretBytes value =
                sealer.open(KeyRegistrationProcedures.sealContext(tenantId, kid, k.suid), k.sealedKey)) {
            SecretBytes half = value.reveal(b -> SecretBytes.copyOf(Arrays.copyOf(b, b.length / 2)));
            return KeyResolution.usable(kid, half, k.suid, k.expiresAt, 0, peers);
        }
    }
}
