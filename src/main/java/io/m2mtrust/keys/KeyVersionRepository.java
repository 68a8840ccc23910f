package io.m2mtrust.keys;

import io.m2mtrust.audit.AuditSigningKeys;
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
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Reads key versions, with a short in-memory cache of each tenant's primary version so hot paths
 * (seal, derive, audit signing) do not query the database per call. The cache is dropped on every
 * local rotation; another replica sees a rotation within {@link #PRIMARY_CACHE_TTL} (older versions
 * keep opening, so a slightly stale primary is safe).
 */
@ApplicationScoped
public class KeyVersionRepository
        implements PanacheRepositoryBase<TenantKeyVersion, TenantKeyVersion.Key>, AuditSigningKeys, RetiredHsmKeys {

    static final Duration PRIMARY_CACHE_TTL = Duration.ofSeconds(30);

    private record Cached(HsmKeyLabel label, long loadedAt) {}

    private final Map<String, Cached> primaries = new ConcurrentHashMap<>();
    private final Map<String, Cached> openable = new ConcurrentHashMap<>();

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
        String k = tenantId + "|" + purpose;
        Cached c = primaries.get(k);
        long now = System.nanoTime();
        if (c != null && now - c.loadedAt() < PRIMARY_CACHE_TTL.toNanos()) {
            return Optional.of(c.label());
        }
        Optional<HsmKeyLabel> label = primaryRow(tenantId, purpose).map(TenantKeyVersion::label);
        label.ifPresentOrElse(l -> primaries.put(k, new Cached(l, now)), () -> primaries.remove(k));
        return label;
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
        String k = tenantId + "|" + purpose + "|" + version;
        Cached c = openable.get(k);
        long now = System.nanoTime();
        if (c != null && now - c.loadedAt() < PRIMARY_CACHE_TTL.toNanos()) {
            return Optional.of(c.label());
        }
        Optional<HsmKeyLabel> label = version(tenantId, purpose, version)
                .filter(TenantKeyVersion::usableForOpen)
                .map(TenantKeyVersion::label);
        label.ifPresentOrElse(l -> openable.put(k, new Cached(l, now)), () -> openable.remove(k));
        return label;
    }

    /** Drops what this replica cached of the tenant's key versions (after a rotation, retirement or destruction). */
    public void forgetCached(String tenantId) {
        primaries.keySet().removeIf(k -> k.startsWith(tenantId + "|"));
        openable.keySet().removeIf(k -> k.startsWith(tenantId + "|"));
    }
}
