package io.m2mtrust.registration;

import io.m2mtrust.tenant.DeviceFqdns;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import jakarta.persistence.LockModeType;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Queries over client and key registrations for revocations and lineage. Deleting a client registration deletes
 * its Km and its key registrations with it (foreign keys, {@code ON DELETE CASCADE}).
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

    RegistrationStore(EntityManager em, DeviceFqdns fqdns) {
        this.em = em;
        this.fqdns = fqdns;
    }

    /** Registrations made under the enrolment {@code keId} (either registrar). */
    public List<RegistrationSummary> underEnrolment(String tenantId, String keId) {
        return em.createQuery("from ClientRegistration where tenantId = ?1 and keId = ?2", ClientRegistration.class)
                .setParameter(1, tenantId)
                .setParameter(2, keId)
                .getResultStream()
                .map(this::summary)
                .toList();
    }

    /** Registrations whose client identity is one of {@code clientIds}. */
    public List<RegistrationSummary> ofClients(String tenantId, List<String> clientIds) {
        if (clientIds.isEmpty()) {
            return List.of();
        }
        return em.createQuery(
                        "from ClientRegistration where tenantId = ?1 and clientId in ?2", ClientRegistration.class)
                .setParameter(1, tenantId)
                .setParameter(2, clientIds)
                .getResultStream()
                .map(this::summary)
                .toList();
    }

    /**
     * The next MEF Client Command number of a live MEF client registration (TS-0003 §8.3.9: cmdIDs unique within
     * the registration), locking the registration's row for the caller's transaction; 404 when not live.
     */
    public int takeMefCommandNumber(String tenantId, String regId) {
        ClientRegistration r = em.find(
                ClientRegistration.class, new ClientRegistration.Key(tenantId, regId), LockModeType.PESSIMISTIC_WRITE);
        if (r == null || r.registrar != Registrar.MEF || r.expired(Instant.now())) {
            throw new RegistrationProcedures.Problem(404, "no live MEF client registration");
        }
        return r.nextCmdNo++;
    }

    /** The keys registered by the client registration {@code sourceRegId}, newest first. */
    List<RegisteredKeySummary> keysOf(String tenantId, String sourceRegId) {
        return em.createQuery(
                        "from KeyRegistration where tenantId = ?1 and sourceRegId = ?2 order by createdAt desc",
                        KeyRegistration.class)
                .setParameter(1, tenantId)
                .setParameter(2, sourceRegId)
                .getResultStream()
                .map(this::summary)
                .toList();
    }

    /** Keys registered by {@code sourceClientId} (with either registrar), newest first, at most {@code max}. */
    public List<RegisteredKeySummary> registeredBy(String tenantId, String sourceClientId, int max) {
        return em.createQuery(
                        "from KeyRegistration where tenantId = ?1 and sourceClientId = ?2 order by createdAt desc",
                        KeyRegistration.class)
                .setParameter(1, tenantId)
                .setParameter(2, sourceClientId)
                .setMaxResults(max)
                .getResultStream()
                .map(this::summary)
                .toList();
    }

    private RegisteredKeySummary summary(KeyRegistration k) {
        return new RegisteredKeySummary(
                k.registrar.name(),
                k.relativeKeyId + "@" + k.registrar.fqdn(fqdns, k.tenantId),
                k.suid,
                List.of(k.targetIds),
                k.expiresAt);
    }

    private RegistrationSummary summary(ClientRegistration r) {
        return new RegistrationSummary(
                r.registrar.name(),
                r.regId,
                r.clientId,
                r.kmId,
                r.kmExpiresAt,
                r.expiresAt,
                keysOf(r.tenantId, r.regId));
    }

    int deleteOfClients(String tenantId, List<String> clientIds) {
        if (clientIds.isEmpty()) {
            return 0;
        }
        return em.createQuery("delete from ClientRegistration where tenantId = ?1 and clientId in ?2")
                .setParameter(1, tenantId)
                .setParameter(2, clientIds)
                .executeUpdate();
    }

    int deleteUnderEnrolments(String tenantId, List<String> keIds) {
        if (keIds.isEmpty()) {
            return 0;
        }
        return em.createQuery("delete from ClientRegistration where tenantId = ?1 and keId in ?2")
                .setParameter(1, tenantId)
                .setParameter(2, keIds)
                .executeUpdate();
    }

    /** The client registration {@code regId} with {@code registrar}, as the admin API shows it. */
    public Optional<RegistrationResource.RegistrationView> client(String tenantId, Registrar registrar, String regId) {
        ClientRegistration c = em.find(ClientRegistration.class, new ClientRegistration.Key(tenantId, regId));
        return c == null || c.registrar != registrar
                ? Optional.empty()
                : Optional.of(RegistrationResource.RegistrationView.of(c));
    }

    /** Key registrations of the registrar (of one client registration when {@code regIdOrNull} is set), newest first. */
    public List<RegistrationResource.KeyView> keyViews(String tenant, Registrar r, String regIdOrNull) {
        String fqdn = r.fqdn(fqdns, tenant);
        return em.createQuery(
                        "from KeyRegistration where tenantId = ?1 and registrar = ?2 and (?3 is null or sourceRegId = ?3) "
                                + "order by createdAt desc",
                        KeyRegistration.class)
                .setParameter(1, tenant)
                .setParameter(2, r)
                .setParameter(3, regIdOrNull)
                .setMaxResults(1000)
                .getResultStream()
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

    /** The registration of {@code clientId} with {@code registrar}, if any (at most one: a new one replaces it). */
    Optional<ClientRegistration> registrationOf(String tenantId, Registrar registrar, String clientId) {
        return em.createQuery(
                        "from ClientRegistration where tenantId = ?1 and registrar = ?2 and clientId = ?3",
                        ClientRegistration.class)
                .setParameter(1, tenantId)
                .setParameter(2, registrar)
                .setParameter(3, clientId)
                .getResultStream()
                .findFirst();
    }

    /** The MAF registration that was assigned {@code kmId}, whether or not it is still live. */
    Optional<ClientRegistration> mafRegistrationByKmId(String tenantId, String kmId) {
        return em.createQuery(
                        "from ClientRegistration where tenantId = ?1 and registrar = ?2 and kmId = ?3",
                        ClientRegistration.class)
                .setParameter(1, tenantId)
                .setParameter(2, Registrar.MAF)
                .setParameter(3, kmId)
                .getResultStream()
                .findFirst();
    }

    /** Client registrations with {@code registrar}, newest first, at most 1000. */
    List<ClientRegistration> registrations(String tenantId, Registrar registrar) {
        return em.createQuery(
                        "from ClientRegistration where tenantId = ?1 and registrar = ?2 order by createdAt desc",
                        ClientRegistration.class)
                .setParameter(1, tenantId)
                .setParameter(2, registrar)
                .setMaxResults(1000)
                .getResultList();
    }

    ClientRegistration find(String tenantId, String regId) {
        return em.find(ClientRegistration.class, new ClientRegistration.Key(tenantId, regId));
    }

    /** Deletes the registrations of {@code clientId} and, when {@code keIdOrNull} is set, those made under it. */
    int deleteRegistrationsOf(String tenantId, Registrar registrar, String clientId, String keIdOrNull) {
        int n = em.createQuery(
                        "delete from ClientRegistration where tenantId = ?1 and registrar = ?2 and clientId = ?3")
                .setParameter(1, tenantId)
                .setParameter(2, registrar)
                .setParameter(3, clientId)
                .executeUpdate();
        if (keIdOrNull != null) {
            n += em.createQuery("delete from ClientRegistration where tenantId = ?1 and registrar = ?2 and keId = ?3")
                    .setParameter(1, tenantId)
                    .setParameter(2, registrar)
                    .setParameter(3, keIdOrNull)
                    .executeUpdate();
        }
        return n;
    }

    int deleteRegistration(String tenantId, Registrar registrar, String regId) {
        return em.createQuery("delete from ClientRegistration where tenantId = ?1 and regId = ?2 and registrar = ?3")
                .setParameter(1, tenantId)
                .setParameter(2, regId)
                .setParameter(3, registrar)
                .executeUpdate();
    }

    int deleteKeyRegistration(String tenantId, Registrar registrar, String relativeKeyId) {
        return em.createQuery(
                        "delete from KeyRegistration where tenantId = ?1 and registrar = ?2 and relativeKeyId = ?3")
                .setParameter(1, tenantId)
                .setParameter(2, registrar)
                .setParameter(3, relativeKeyId)
                .executeUpdate();
    }

    /** Keys registered by {@code a} or by {@code b}, newest first, at most 500. */
    List<KeyRegistration> registeredByEither(String tenantId, String a, String b) {
        return em.createQuery(
                        "from KeyRegistration where tenantId = ?1 and (sourceClientId = ?2 or sourceClientId = ?3) "
                                + "order by createdAt desc",
                        KeyRegistration.class)
                .setParameter(1, tenantId)
                .setParameter(2, a)
                .setParameter(3, b)
                .setMaxResults(500)
                .getResultList();
    }

    /** A tenant's count of expired rows deleted: {@code [key registrations, client registrations]}. */
    Map<String, int[]> deleteExpired(Instant now) {
        @SuppressWarnings("unchecked")
        List<Object[]> keys = em.createNativeQuery(
                        "delete from key_registration where expires_at <= ?1 returning tenant_id, relative_key_id")
                .setParameter(1, now)
                .getResultList();
        @SuppressWarnings("unchecked")
        List<Object[]> regs = em.createNativeQuery(
                        "delete from client_registration where expires_at <= ?1 returning tenant_id, reg_id")
                .setParameter(1, now)
                .getResultList();
        Map<String, int[]> perTenant = new LinkedHashMap<>();
        keys.forEach(r -> perTenant.computeIfAbsent((String) r[0], t -> new int[2])[0]++);
        regs.forEach(r -> perTenant.computeIfAbsent((String) r[0], t -> new int[2])[1]++);
        return perTenant;
    }
}
