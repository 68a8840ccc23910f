package io.m2mtrust.mef;

import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.enrolment.EnrolmentGroupService;
import io.m2mtrust.enrolment.KpmDerivation;
import io.m2mtrust.enrolment.KpmId;
import io.m2mtrust.keys.KeySealer;
import io.m2mtrust.tenant.DeviceFqdns;
import io.m2mtrust.tls.PskResolver;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.Optional;

/**
 * PSK of the PPSK RSPF (TS-0003 §8.3.2.1, psk_identity = KpmID): the KpmID must name this tenant's
 * MEF, a live group, an epoch that still enrols, and an allowed device; then Kpm is derived in the HSM.
 */
@ApplicationScoped
public class MefPskResolver implements PskResolver {

    private final EnrolmentGroupService groups;
    private final KpmDerivation kpm;
    private final DeviceFqdns fqdns;
    private final jakarta.persistence.EntityManager em;
    private final KeySealer sealer;

    MefPskResolver(
            EnrolmentGroupService groups,
            KpmDerivation kpm,
            DeviceFqdns fqdns,
            jakarta.persistence.EntityManager em,
            KeySealer sealer) {
        this.groups = groups;
        this.kpm = kpm;
        this.fqdns = fqdns;
        this.em = em;
        this.sealer = sealer;
    }

    @Override
    public DeviceFqdns.Function function() {
        return DeviceFqdns.Function.MEF;
    }

    @Override
    public Optional<SecretBytes> resolve(String tenantId, String identity) {
        if (!identity.contains("~")) {
            return imported(tenantId, identity);
        }
        Optional<KpmId> parsed = KpmId.parse(identity).filter(id -> id.mefFqdn().equals(fqdns.mef(tenantId)));
        if (parsed.isEmpty()) {
            return Optional.empty();
        }
        KpmId id = parsed.get();
        boolean allowed = QuarkusTransaction.requiringNew()
                .call(() -> groups.enrolsWith(tenantId, id.groupId(), id.epoch())
                        && groups.mayEnrol(tenantId, id.groupId(), id.deviceId()));
        return allowed ? Optional.of(kpm.derive(tenantId, id)) : Optional.empty();
    }

    /** An individually pre-provisioned Kpm, unsealed in the HSM. */
    private Optional<SecretBytes> imported(String tenantId, String identity) {
        return QuarkusTransaction.requiringNew().call(() -> {
            ImportedKpm k = em.find(ImportedKpm.class, new ImportedKpm.Key(tenantId, identity));
            return k == null
                    ? Optional.<SecretBytes>empty()
                    : Optional.of(sealer.open(
                            new KeySealer.SealContext(tenantId, identity, ImportedKpmResource.SEAL_PURPOSE),
                            k.sealedKpm));
        });
    }
}
