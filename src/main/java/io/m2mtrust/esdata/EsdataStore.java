package io.m2mtrust.esdata;

import io.m2mtrust.common.SubjectType;
import io.m2mtrust.hsm.AsymmetricKeyType;
import io.m2mtrust.keys.RetiredHsmKeys;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The queries over ESData's tables: end-points (asymmetric keys in the HSM with their certificates) and
 * pre-provisioned symmetric keys. Callers run inside a transaction.
 */
@ApplicationScoped
class EsdataStore implements RetiredHsmKeys {

    private final EntityManager em;

    EsdataStore(EntityManager em) {
        this.em = em;
    }

    List<Endpoint> endpoints(String tenantId) {
        return em.createQuery("from Endpoint where tenantId = ?1 order by id", Endpoint.class)
                .setParameter(1, tenantId)
                .getResultList();
    }

    /** Whether an active end-point already holds a certificate for {@code subjectId}. */
    boolean identityInUse(String tenantId, String subjectId) {
        return !em.createQuery("from Endpoint where tenantId = ?1 and subjectId = ?2 and status = ?3", Endpoint.class)
                .setParameter(1, tenantId)
                .setParameter(2, subjectId)
                .setParameter(3, Endpoint.Status.ACTIVE)
                .setMaxResults(1)
                .getResultList()
                .isEmpty();
    }

    /** The newest active end-point of {@code keyType} whose certificate names {@code subjectId} as {@code type}. */
    Optional<Endpoint> newestActive(String tenantId, SubjectType type, String subjectId, AsymmetricKeyType keyType) {
        return em.createQuery(
                        "from Endpoint where tenantId = ?1 and subjectType = ?2 and subjectId = ?3"
                                + " and status = ?4 and keyType = ?5 order by createdAt desc",
                        Endpoint.class)
                .setParameter(1, tenantId)
                .setParameter(2, type)
                .setParameter(3, subjectId)
                .setParameter(4, Endpoint.Status.ACTIVE)
                .setParameter(5, keyType)
                .setMaxResults(1)
                .getResultStream()
                .findFirst();
    }

    /** The tenant's pre-provisioned keys in key-id order, at most {@code max}. */
    List<PreprovisionedKey> preprovisionedKeys(String tenantId, int max) {
        return em.createQuery("from PreprovisionedKey where tenantId = ?1 order by keyId", PreprovisionedKey.class)
                .setParameter(1, tenantId)
                .setMaxResults(max)
                .getResultList();
    }

    /** The keys of deleted end-points. */
    @Override
    public Set<String> retiredLabels() {
        return Set.copyOf(em.createQuery("select e.hsmLabel from Endpoint e where e.status = ?1", String.class)
                .setParameter(1, Endpoint.Status.DELETED)
                .getResultList());
    }

    /** Revokes a pre-provisioned key (its id is never reused); false when it is unknown or already revoked. */
    boolean revokePreprovisionedKey(String tenantId, String keyId) {
        PreprovisionedKey k = em.find(PreprovisionedKey.class, new PreprovisionedKey.Key(tenantId, keyId));
        if (k == null || k.revokedAt != null) {
            return false;
        }
        k.revokedAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
        return true;
    }
}
