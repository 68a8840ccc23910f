package io.m2mtrust.escertke;

import io.quarkus.panache.common.Page;
import jakarta.enterprise.context.ApplicationScoped;

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

    /** Revokes the live keys with one of {@code identities} as either side's identity (or, with subjects, subject). */
    int revokeBoundTo(String tenantId, List<String> identities, boolean subjectsToo) {
        if (identities.isEmpty()) {
            return 0;
        }
        return EscertkeKey.update(
                "revokedAt = ?1 where tenantId = ?2 and revokedAt is null and (peerIdentity in ?3 or localIdentity in ?3"
                        + (subjectsToo ? " or peerSubject in ?3 or localSubject in ?3)" : ")"),
                Instant.now().truncatedTo(ChronoUnit.MICROS),
                tenantId,
                identities);
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
        return EscertkeKey.find(
                        "tenantId = ?1 and (peerIdentity in ?2 or peerSubject in ?2 or localIdentity in ?2 "
                                + "or localSubject in ?2) order by createdAt desc",
                        tenantId,
                        identities)
                .page(Page.ofSize(max))
                .list();
    }

    /** Keys with {@code identity} as either side's identity (not subject), newest first, at most {@code max}. */
    public List<EstablishedKeySummary> summariesOfIdentity(String tenantId, String identity, int max) {
        return EscertkeKey.<EscertkeKey>find(
                        "tenantId = ?1 and (peerIdentity = ?2 or localIdentity = ?2) order by createdAt desc",
                        tenantId,
                        identity)
                .page(Page.ofSize(max))
                .list()
                .stream()
                .map(EscertkeStore::summary)
                .toList();
    }

    /** Extra trust anchors of ESCertKE peers (besides the tenant CA), in id order. */
    List<TrustAnchor> trustAnchors(String tenantId) {
        return TrustAnchor.list("tenantId = ?1 order by id", tenantId);
    }

    /** The tenant's established keys, newest first, at most {@code max}. */
    List<EscertkeKey> newest(String tenantId, int max) {
        return EscertkeKey.find("tenantId = ?1 order by createdAt desc", tenantId)
                .page(Page.ofSize(max))
                .list();
    }

    /** The newest unrevoked, unexpired key between {@code localIdentity} and {@code peerIdentity}. */
    Optional<EscertkeKey> current(String tenantId, String localIdentity, String peerIdentity, Instant now) {
        return EscertkeKey.find(
                        "tenantId = ?1 and localIdentity = ?2 and peerIdentity = ?3 and revokedAt is null "
                                + "and expiresAt > ?4 order by createdAt desc",
                        tenantId,
                        localIdentity,
                        peerIdentity,
                        now)
                .firstResultOptional();
    }

    /** Deletes a trust anchor; whether it existed. */
    boolean deleteTrustAnchor(String tenantId, String id) {
        return TrustAnchor.deleteById(new TrustAnchor.Key(tenantId, id));
    }

    /** Revokes an established key; false when it is unknown or already revoked. */
    boolean revokeKey(String tenantId, String keyId) {
        EscertkeKey k = EscertkeKey.findById(new EscertkeKey.Key(tenantId, keyId));
        if (k == null || k.revokedAt != null) {
            return false;
        }
        k.revokedAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
        return true;
    }
}
