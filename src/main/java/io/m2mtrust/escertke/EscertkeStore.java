package io.m2mtrust.escertke;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;

/** Queries over {@link EscertkeKey} rows for revocations and lineage; answers carry no key material. */
@ApplicationScoped
public class EscertkeStore {

    /** An established key as others see it: its id, both sides and its lifetime. */
    public record EstablishedKeySummary(
            String keyId,
            String role,
            String localIdentity,
            String localSubject,
            String peerIdentity,
            String peerSubject,
            Instant expiresAt,
            Instant revokedAt) {}

    private final EntityManager em;

    EscertkeStore(EntityManager em) {
        this.em = em;
    }

    /** Revokes the live keys with one of {@code identities} as either side's identity (or, with subjects, subject). */
    int revokeBoundTo(String tenantId, List<String> identities, boolean subjectsToo) {
        if (identities.isEmpty()) {
            return 0;
        }
        return em.createQuery("update EscertkeKey set revokedAt = ?1 where tenantId = ?2 and revokedAt is null and "
                        + "(peerIdentity in ?3 or localIdentity in ?3"
                        + (subjectsToo ? " or peerSubject in ?3 or localSubject in ?3)" : ")"))
                .setParameter(1, Instant.now().truncatedTo(ChronoUnit.MICROS))
                .setParameter(2, tenantId)
                .setParameter(3, identities)
                .executeUpdate();
    }

    /** Keys with one of {@code identities} on either side, newest first (at most {@code max}). */
    public List<EstablishedKeySummary> summariesBoundTo(String tenantId, List<String> identities, int max) {
        return boundTo(tenantId, identities, max).stream()
                .map(EscertkeStore::summary)
                .toList();
    }

    private static EstablishedKeySummary summary(EscertkeKey k) {
        return new EstablishedKeySummary(
                k.keyId,
                k.role.name(),
                k.localIdentity,
                k.localSubject,
                k.peerIdentity,
                k.peerSubject,
                k.expiresAt,
                k.revokedAt);
    }

    List<EscertkeKey> boundTo(String tenantId, List<String> identities, int max) {
        if (identities.isEmpty()) {
            return List.of();
        }
        return em.createQuery(
                        "from EscertkeKey where tenantId = ?1 and (peerIdentity in ?2 or peerSubject in ?2 or "
                                + "localIdentity in ?2 or localSubject in ?2) order by createdAt desc",
                        EscertkeKey.class)
                .setParameter(1, tenantId)
                .setParameter(2, identities)
                .setMaxResults(max)
                .getResultList();
    }

    /** Keys with {@code identity} as either side's identity (not subject), newest first, at most {@code max}. */
    public List<EstablishedKeySummary> summariesOfIdentity(String tenantId, String identity, int max) {
        return em.createQuery(
                        "from EscertkeKey where tenantId = ?1 and (peerIdentity = ?2 or localIdentity = ?2) order by createdAt desc",
                        EscertkeKey.class)
                .setParameter(1, tenantId)
                .setParameter(2, identity)
                .setMaxResults(max)
                .getResultStream()
                .map(EscertkeStore::summary)
                .toList();
    }

    /** Extra trust anchors of ESCertKE peers (besides the tenant CA), in id order. */
    List<TrustAnchor> trustAnchors(String tenantId) {
        return em.createQuery("from TrustAnchor where tenantId = ?1 order by id", TrustAnchor.class)
                .setParameter(1, tenantId)
                .getResultList();
    }

    /** The tenant's established keys, newest first, at most {@code max}. */
    List<EscertkeKey> newest(String tenantId, int max) {
        return em.createQuery("from EscertkeKey where tenantId = ?1 order by createdAt desc", EscertkeKey.class)
                .setParameter(1, tenantId)
                .setMaxResults(max)
                .getResultList();
    }

    /** The newest unrevoked, unexpired key between {@code localIdentity} and {@code peerIdentity}. */
    Optional<EscertkeKey> current(String tenantId, String localIdentity, String peerIdentity, Instant now) {
        return em.createQuery(
                        "from EscertkeKey where tenantId = ?1 and localIdentity = ?2 and peerIdentity = ?3"
                                + " and revokedAt is null and expiresAt > ?4 order by createdAt desc",
                        EscertkeKey.class)
                .setParameter(1, tenantId)
                .setParameter(2, localIdentity)
                .setParameter(3, peerIdentity)
                .setParameter(4, now)
                .setMaxResults(1)
                .getResultStream()
                .findFirst();
    }

    /** Deletes a trust anchor; whether it existed. */
    boolean deleteTrustAnchor(String tenantId, String id) {
        TrustAnchor a = em.find(TrustAnchor.class, new TrustAnchor.Key(tenantId, id));
        if (a == null) {
            return false;
        }
        em.remove(a);
        return true;
    }

    /** Revokes an established key; false when it is unknown or already revoked. */
    boolean revokeKey(String tenantId, String keyId) {
        EscertkeKey k = em.find(EscertkeKey.class, new EscertkeKey.Key(tenantId, keyId));
        if (k == null || k.revokedAt != null) {
            return false;
        }
        k.revokedAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
        return true;
    }
}
