package io.m2mtrust.registration;

import io.m2mtrust.cluster.ReplicaCaches;
import io.m2mtrust.tenant.DeviceFqdns;
import io.quarkus.panache.common.Page;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import jakarta.persistence.LockModeType;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The queries over client and key registrations (its public methods answer revocations and the lineage, never
 * with key values). Deleting a client registration deletes its Km and its key registrations with it (foreign keys,
 * {@code ON DELETE CASCADE}).
 */
@ApplicationScoped
public class RegistrationStore {

    /** A key registered by a client, as the lineage shows it (never its value). */
    public record RegisteredKeySummary(
            String registrar, String keyIdentifier, int suid, List<String> targets, Instant expiresAt) {}

    /** A client registration with the MEF or MAF and its registered keys. */
    public record RegistrationSummary(
            String registrar,
            String regId,
            String clientId,
            String kmId,
            Instant kmExpiresAt,
            Instant expiresAt,
            List<RegisteredKeySummary> keys) {}

    private final EntityManager em;
    private final DeviceFqdns fqdns;
    private final ReplicaCaches caches;

    RegistrationStore(EntityManager em, DeviceFqdns fqdns, ReplicaCaches caches) {
        this.caches = caches;
        this.em = em;
        this.fqdns = fqdns;
    }

    /** Registrations made under the enrolment {@code keId} (either registrar). */
    public List<RegistrationSummary> underEnrolment(String tenantId, String keId) {
        return summaries(ClientRegistration.list("tenantId = ?1 and keId = ?2", tenantId, keId));
    }

    /** Registrations whose client identity is one of {@code clientIds}. */
    public List<RegistrationSummary> ofClients(String tenantId, List<String> clientIds) {
        return clientIds.isEmpty()
                ? List.of()
                : summaries(ClientRegistration.list("tenantId = ?1 and clientId in ?2", tenantId, clientIds));
    }

    /**
     * The next MEF Client Command number of a live MEF client registration (TS-0003 §8.3.9: cmdIDs unique within
     * the registration), locking the registration's row for the caller's transaction; 404 when not live.
     */
    public int takeMefCommandNumber(String tenantId, String regId) {
        ClientRegistration r = ClientRegistration.findById(
                new ClientRegistration.Key(tenantId, regId), LockModeType.PESSIMISTIC_WRITE);
        if (r == null || r.registrar != Registrar.MEF || r.expired(Instant.now())) {
            throw new RegistrationProcedures.Problem(404, "no live MEF client registration");
        }
        return r.nextCmdNo++;
    }

    /** Keys registered by {@code sourceClientId} (with either registrar), newest first, at most {@code max}. */
    public List<RegisteredKeySummary> registeredBy(String tenantId, String sourceClientId, int max) {
        List<KeyRegistration> keys = KeyRegistration.find(
                        "tenantId = ?1 and sourceClientId = ?2 order by createdAt desc", tenantId, sourceClientId)
                .page(Page.ofSize(max))
                .list();
        return keys.stream().map(this::summary).toList();
    }

    /** The client registration {@code regId} with {@code registrar}, as the admin API shows it. */
    public Optional<RegistrationResource.RegistrationView> client(String tenantId, Registrar registrar, String regId) {
        return Optional.ofNullable(find(tenantId, regId))
                .filter(c -> c.registrar == registrar)
                .map(RegistrationResource.RegistrationView::of);
    }

    /** Key registrations of the registrar (of one client registration when {@code regIdOrNull} is set), newest first. */
    public List<RegistrationResource.KeyView> keyViews(String tenant, Registrar r, String regIdOrNull) {
        String fqdn = r.fqdn(fqdns, tenant);
        List<KeyRegistration> keys = KeyRegistration.find(
                        "tenantId = ?1 and registrar = ?2 and (?3 is null or sourceRegId = ?3) order by createdAt desc",
                        tenant,
                        r,
                        regIdOrNull)
                .page(Page.ofSize(1000))
                .list();
        return keys.stream()
                .map(k -> new RegistrationResource.KeyView(
                        k.relativeKeyId,
                        k.relativeKeyId + "@" + fqdn,
                        k.sourceClientId,
                        k.suid,
                        List.of(k.targetIds),
                        List.of(k.labels),
                        k.adminFqdn,
                        k.keySource,
                        k.expiresAt,
                        k.createdAt))
                .toList();
    }

    // ---------------------------------------------------------------- for this package

    ClientRegistration find(String tenantId, String regId) {
        return ClientRegistration.findById(new ClientRegistration.Key(tenantId, regId));
    }

    /** The registration of {@code clientId} with {@code registrar}, if any (at most one: a new one replaces it). */
    Optional<ClientRegistration> registrationOf(String tenantId, Registrar registrar, String clientId) {
        return ClientRegistration.find(
                        "tenantId = ?1 and registrar = ?2 and clientId = ?3", tenantId, registrar, clientId)
                .firstResultOptional();
    }

    /** The cluster topic of a tenant's client registrations (ADR 0023). */
    static final String TOPIC = "registrations";

    /**
     * Called by every write of a tenant's client registrations, in its transaction: what any replica cached of them
     * ({@link MafKms}) goes, here at once and elsewhere at the commit, so a revocation, deregistration, replacement or
     * update refuses the very next request on every replica.
     */
    void registrationsChanging(String tenantId) {
        caches.changed(TOPIC, tenantId);
    }

    /** The MAF registration that was assigned {@code kmId}, whether or not it is still live. */
    Optional<ClientRegistration> mafRegistrationByKmId(String tenantId, String kmId) {
        return ClientRegistration.find("tenantId = ?1 and registrar = ?2 and kmId = ?3", tenantId, Registrar.MAF, kmId)
                .firstResultOptional();
    }

    /** Client registrations with {@code registrar}, newest first, at most 1000. */
    List<ClientRegistration> registrations(String tenantId, Registrar registrar) {
        return ClientRegistration.find("tenantId = ?1 and registrar = ?2 order by createdAt desc", tenantId, registrar)
                .page(Page.ofSize(1000))
                .list();
    }

    /** Keys registered by {@code a} or by {@code b}, newest first, at most 500. */
    /** The key registrations of a registrar among {@code relativeKeyIds}, by RelativeKeyID: one query for a batch. */
    Map<String, KeyRegistration> keyRegistrations(String tenantId, Registrar registrar, List<String> relativeKeyIds) {
        if (relativeKeyIds.isEmpty()) {
            return Map.of();
        }
        Map<String, KeyRegistration> out = new java.util.HashMap<>();
        KeyRegistration.<KeyRegistration>list(
                        "tenantId = ?1 and registrar = ?2 and relativeKeyId in ?3", tenantId, registrar, relativeKeyIds)
                .forEach(k -> out.put(k.relativeKeyId, k));
        return out;
    }

    List<KeyRegistration> registeredByEither(String tenantId, String a, String b) {
        return KeyRegistration.find(
                        "tenantId = ?1 and (sourceClientId = ?2 or sourceClientId = ?3) order by createdAt desc",
                        tenantId,
                        a,
                        b)
                .page(Page.ofSize(500))
                .list();
    }

    int deleteOfClients(String tenantId, List<String> clientIds) {
        registrationsChanging(tenantId);
        return clientIds.isEmpty()
                ? 0
                : (int) ClientRegistration.delete("tenantId = ?1 and clientId in ?2", tenantId, clientIds);
    }

    int deleteUnderEnrolments(String tenantId, List<String> keIds) {
        registrationsChanging(tenantId);
        return keIds.isEmpty() ? 0 : (int) ClientRegistration.delete("tenantId = ?1 and keId in ?2", tenantId, keIds);
    }

    /** Deletes the registrations of {@code clientId} and, when {@code keIdOrNull} is set, those made under it. */
    int deleteRegistrationsOf(String tenantId, Registrar registrar, String clientId, String keIdOrNull) {
        registrationsChanging(tenantId);
        long n = ClientRegistration.delete(
                "tenantId = ?1 and registrar = ?2 and clientId = ?3", tenantId, registrar, clientId);
        if (keIdOrNull != null) {
            n += ClientRegistration.delete(
                    "tenantId = ?1 and registrar = ?2 and keId = ?3", tenantId, registrar, keIdOrNull);
        }
        return (int) n;
    }

    int deleteRegistration(String tenantId, Registrar registrar, String regId) {
        registrationsChanging(tenantId);
        return (int) ClientRegistration.delete(
                "tenantId = ?1 and regId = ?2 and registrar = ?3", tenantId, regId, registrar);
    }

    int deleteKeyRegistration(String tenantId, Registrar registrar, String relativeKeyId) {
        return (int) KeyRegistration.delete(
                "tenantId = ?1 and registrar = ?2 and relativeKeyId = ?3", tenantId, registrar, relativeKeyId);
    }

    /** A tenant's count of expired rows deleted: {@code [key registrations, client registrations]}. */
    Map<String, int[]> deleteExpired(Instant now) {
        Map<String, int[]> perTenant = new LinkedHashMap<>();
        deletedTenants("delete from key_registration where expires_at <= ?1 returning tenant_id", now)
                .forEach(t -> perTenant.computeIfAbsent(t, x -> new int[2])[0]++);
        deletedTenants("delete from client_registration where expires_at <= ?1 returning tenant_id", now)
                .forEach(t -> perTenant.computeIfAbsent(t, x -> new int[2])[1]++);
        perTenant.keySet().forEach(this::registrationsChanging);
        return perTenant;
    }

    @SuppressWarnings("unchecked")
    private List<String> deletedTenants(String deleteReturningTenant, Instant now) {
        return em.createNativeQuery(deleteReturningTenant).setParameter(1, now).getResultList();
    }

    private List<RegistrationSummary> summaries(List<ClientRegistration> registrations) {
        return registrations.stream().map(this::summary).toList();
    }

    private RegistrationSummary summary(ClientRegistration r) {
        List<KeyRegistration> keys =
                KeyRegistration.list("tenantId = ?1 and sourceRegId = ?2 order by createdAt desc", r.tenantId, r.regId);
        return new RegistrationSummary(
                r.registrar.name(),
                r.regId,
                r.clientId,
                r.kmId,
                r.kmExpiresAt,
                r.expiresAt,
                keys.stream().map(this::summary).toList());
    }

    private RegisteredKeySummary summary(KeyRegistration k) {
        return new RegisteredKeySummary(
                k.registrar.name(),
                k.relativeKeyId + "@" + k.registrar.fqdn(fqdns, k.tenantId),
                k.suid,
                List.of(k.targetIds),
                k.expiresAt);
    }
}
