package io.m2mtrust.keys;

import io.m2mtrust.audit.AuditSigningKeys;
import io.m2mtrust.cluster.ReplicaCache;
import io.m2mtrust.cluster.ReplicaCaches;
import io.m2mtrust.hsm.HsmKeyLabel;
import io.m2mtrust.hsm.KeyPurpose;
import io.quarkus.hibernate.orm.panache.PanacheRepositoryBase;
import jakarta.enterprise.context.ApplicationScoped;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Reads key versions, with an in-memory cache of each tenant's primary version so hot paths (seal, derive, audit
 * signing) do not query the database per call. A rotation, retirement or destruction on any replica drops the
 * tenant's entries on every replica (ADR 0023); the TTL is a backstop.
 */
@ApplicationScoped
public class KeyVersionRepository
        implements PanacheRepositoryBase<TenantKeyVersion, TenantKeyVersion.Key>, AuditSigningKeys, RetiredHsmKeys {

    static final Duration PRIMARY_CACHE_TTL = Duration.ofSeconds(60);

    /** The cluster topic of key-version changes (caches derived from key versions register under it too). */
    public static final String TOPIC = "key-versions";

    private final ReplicaCaches caches;
    private final ReplicaCache<HsmKeyLabel> primaries;
    private final ReplicaCache<HsmKeyLabel> openable;

    KeyVersionRepository(ReplicaCaches caches) {
        this.caches = caches;
        this.primaries = caches.cache(TOPIC, PRIMARY_CACHE_TTL, 100_000);
        this.openable = caches.cache(TOPIC, PRIMARY_CACHE_TTL, 100_000);
    }

    /** Every version of the tenant's keys, by purpose and version. */
    public List<KeyVersionInfo> infos(String tenantId) {
        return ofTenant(tenantId).stream().map(KeyVersionInfo::of).toList();
    }

    List<TenantKeyVersion> ofTenant(String tenantId) {
        return list("tenantId = ?1 order by purpose, version", tenantId);
    }

    public Optional<TenantKeyVersion> version(String tenantId, KeyPurpose purpose, int version) {
        return find("tenantId = ?1 and purpose = ?2 and version = ?3", tenantId, purpose, version)
                .firstResultOptional();
    }

    public Optional<TenantKeyVersion> primaryRow(String tenantId, KeyPurpose purpose) {
        return find("tenantId = ?1 and purpose = ?2 and state = ?3", tenantId, purpose, KeyState.PRIMARY)
                .firstResultOptional();
    }

    public int maxVersion(String tenantId, KeyPurpose purpose) {
        Integer v = getEntityManager()
                .createQuery(
                        "select max(k.version) from TenantKeyVersion k where k.tenantId = ?1 and k.purpose = ?2",
                        Integer.class)
                .setParameter(1, tenantId)
                .setParameter(2, purpose)
                .getSingleResult();
        return v == null ? 0 : v;
    }

    @Override
    public Set<String> retiredLabels() {
        return Set.copyOf(getEntityManager()
                .createQuery("select k.hsmLabel from TenantKeyVersion k where k.state in ?1", String.class)
                .setParameter(1, List.of(KeyState.RETIRED, KeyState.DESTROYED))
                .getResultList());
    }

    /** The primary key of a tenant and purpose, cached. Empty when the tenant has none (deleted). */
    public Optional<HsmKeyLabel> primary(String tenantId, KeyPurpose purpose) {
        return Optional.ofNullable(primaries.get(
                tenantId + "|" + purpose,
                () -> primaryRow(tenantId, purpose).map(TenantKeyVersion::label).orElse(null)));
    }

    /** The key that signs a chain's head: the tenant's primary SIGN key, or the platform key. */
    @Override
    public HsmKeyLabel signingKeyOf(String chain) {
        if (HsmKeyLabel.PLATFORM.equals(chain)) {
            return PlatformKeys.PLATFORM_SIGN;
        }
        return primary(chain, KeyPurpose.SIGN)
                .orElseThrow(() -> new IllegalStateException("tenant " + chain + " has no signing key"));
    }

    /** The public key of a SIGN key version, from the database (still there after the HSM object is gone). */
    @Override
    public Optional<PublicKey> signingPublicKey(HsmKeyLabel label) {
        return find("hsmLabel", label.value())
                .firstResultOptional()
                .filter(v -> v.publicKey != null)
                .map(v -> {
                    try {
                        return KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(v.publicKey));
                    } catch (GeneralSecurityException e) {
                        throw new IllegalStateException("stored public key of " + label + " is not an EC key", e);
                    }
                });
    }

    /**
     * The HSM label of a version that may still open what it sealed (primary or active), cached as the primaries are:
     * unsealing a key is then one HSM call and no query. Retiring or destroying a version drops the cache here
     * ({@link #forgetCached}); the HSM object is destroyed right after, so a stale entry elsewhere fails closed.
     */
    public Optional<HsmKeyLabel> openable(String tenantId, KeyPurpose purpose, int version) {
        return Optional.ofNullable(openable.get(
                tenantId + "|" + purpose + "|" + version,
                () -> version(tenantId, purpose, version)
                        .filter(TenantKeyVersion::usableForOpen)
                        .map(TenantKeyVersion::label)
                        .orElse(null)));
    }

    /**
     * The tenant's key versions changed (a rotation, retirement or destruction, in the current transaction): every
     * replica drops what it cached of them.
     */
    public void forgetCached(String tenantId) {
        caches.changed(TOPIC, tenantId);
    }

    /** Drops what this replica cached of the tenant's key versions, without telling the others. */
    public void forgetCachedHere(String tenantId) {
        caches.forgetHere(TOPIC, tenantId);
    }
}
