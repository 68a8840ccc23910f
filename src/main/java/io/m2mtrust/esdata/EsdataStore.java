package io.m2mtrust.esdata;

import io.m2mtrust.common.SubjectType;
import io.m2mtrust.hsm.AsymmetricKeyType;
import io.m2mtrust.keys.RetiredHsmKeys;
import io.quarkus.panache.common.Page;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The queries over ESData's tables: end-points (asymmetric keys in the HSM with their certificates) and
 * pre-provisioned symmetric keys. Callers run inside a transaction.
 */
@ApplicationScoped
class EsdataStore implements RetiredHsmKeys {

    List<Endpoint> endpoints(String tenantId) {
        return Endpoint.list("tenantId = ?1 order by id", tenantId);
    }

    /** Whether an active end-point already holds a certificate for {@code subjectId}. */
    boolean identityInUse(String tenantId, String subjectId) {
        return Endpoint.count(
                        "tenantId = ?1 and subjectId = ?2 and status = ?3", tenantId, subjectId, Endpoint.Status.ACTIVE)
                > 0;
    }

    /** The newest active end-point of {@code keyType} whose certificate names {@code subjectId} as {@code type}. */
    Optional<Endpoint> newestActive(String tenantId, SubjectType type, String subjectId, AsymmetricKeyType keyType) {
        return Endpoint.find(
                        "tenantId = ?1 and subjectType = ?2 and subjectId = ?3 and status = ?4 and keyType = ?5 "
                                + "order by createdAt desc",
                        tenantId,
                        type,
                        subjectId,
                        Endpoint.Status.ACTIVE,
                        keyType)
                .firstResultOptional();
    }

    /** The tenant's pre-provisioned keys in key-id order, at most {@code max}. */
    List<PreprovisionedKey> preprovisionedKeys(String tenantId, int max) {
        return PreprovisionedKey.find("tenantId = ?1 order by keyId", tenantId)
                .page(Page.ofSize(max))
                .list();
    }

    /** Revokes a pre-provisioned key (its id is never reused); false when it is unknown or already revoked. */
    boolean revokePreprovisionedKey(String tenantId, String keyId) {
        PreprovisionedKey k = PreprovisionedKey.findById(new PreprovisionedKey.Key(tenantId, keyId));
        if (k == null || k.revokedAt != null) {
            return false;
        }
        k.revokedAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
        return true;
    }

    /** The keys of deleted end-points. */
    @Override
    public Set<String> retiredLabels() {
        return Endpoint.<Endpoint>list("status", Endpoint.Status.DELETED).stream()
                .map(e -> e.hsmLabel)
                .collect(Collectors.toUnmodifiableSet());
    }
}
