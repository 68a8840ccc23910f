package io.m2mtrust.keysource;

import java.util.List;
import java.util.Optional;

/**
 * One family of symmetric end-to-end keys, owned by the feature that stores them (registered MAF/MEF keys,
 * {@code fetchCredentials} keys, ESCertKE keys, pre-provisioned keys). Like Keycloak's kid-centric key providers,
 * a source is asked by key identifier; it answers empty when the identifier is not of its family, so that
 * {@link KeySources} can ask the next one. Callers run inside a transaction.
 */
public interface SymmetricKeySource {

    /** The family's name, as the policy simulator shows where a candidate key comes from. */
    Family family();

    /** Key families, in the order the policy simulator prefers a candidate shared by two identities. */
    enum Family {
        ESCERTKE,
        PREPROVISIONED,
        REGISTERED,
        FETCHED
    }

    /**
     * Ids of this family's keys that both {@code a} and {@code b} hold (newest first, at most a few hundred); for the
     * policy simulator. A family whose keys are derived on demand answers none.
     */
    default List<String> idsSharedBy(String tenantId, String a, String b) {
        return List.of();
    }

    /** Whether {@code kid} names a key of this family (whoever holds it); no key is opened. */
    boolean holds(String tenantId, String kid);

    /** Lower asks first: sources whose identifiers are recognised by their shape come before catch-alls. */
    int order();

    /**
     * The key {@code kid} for {@code caller} and {@code usage}: empty when {@code kid} is not of this family;
     * otherwise usable or refused with its status. With {@code open=false} (dry-run) nothing is opened and only
     * the key's length is said.
     */
    Optional<KeyResolution> resolve(String tenantId, String caller, String kid, KeyUsage usage, boolean open);
}
