package io.m2mtrust.maf;

import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.mef.CredentialFetchService;
import io.m2mtrust.mef.EnrolmentStore;
import io.m2mtrust.registration.MafKms;
import io.m2mtrust.tenant.DeviceFqdns;
import io.m2mtrust.tenant.TenantStore;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Instant;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Who a MAF peer is (TS-0003 §8.8.2.2–3). A client whose Km was remotely provisioned first connects
 * with its KeID as psk_identity: the MAF fetches Km from the MEF (SUID 21) and, at registration, assigns
 * a KmID ({@code assignedSymmKeyId}); later sessions use that KmID. The MAF Client ID is the enrolee's
 * identity either way (its KpmID or certificate identity), so targets are named the same at MEF and MAF.
 */
@ApplicationScoped
public class MafClients {

    /** A KeID or a KmID: 32 lowercase hex digits "@" an FQDN (interop profile). */
    static final Pattern KEY_ID = Pattern.compile("([0-9a-f]{32})@([a-z0-9.-]{1,253})");

    /** The Km of a MAF session and the client it belongs to. */
    public record KmHolder(String clientId, SecretBytes km, Instant expiresAt, String keId) {}

    private final CredentialFetchService fetches;
    private final MafKms kms;
    private final EnrolmentStore enrolments;
    private final DeviceFqdns fqdns;
    private final TenantStore tenants;

    MafClients(
            CredentialFetchService fetches,
            MafKms kms,
            EnrolmentStore enrolments,
            DeviceFqdns fqdns,
            TenantStore tenants) {
        this.tenants = tenants;
        this.fetches = fetches;
        this.kms = kms;
        this.enrolments = enrolments;
        this.fqdns = fqdns;
    }

    /**
     * An identity as this MAF keys it: a KmID's MAF_RELATIVE_KmID is not case sensitive (TS-0003 §10.6), and neither
     * is an FQDN; the MAF assigns them in lower case, so a peer's upper-case spelling names the same Km.
     */
    public static String canonical(String identity) {
        return identity.toLowerCase(Locale.ROOT);
    }

    /** Km for a psk_identity on the MAF: a KmID this MAF assigned, or a KeID of this tenant's MEF. */
    public Optional<KmHolder> km(String tenantId, String rawIdentity) {
        String identity = canonical(rawIdentity);
        var m = KEY_ID.matcher(identity);
        if (!m.matches()) {
            return Optional.empty();
        }
        if (m.group(2).equals(fqdns.maf(tenantId))) {
            return assigned(tenantId, identity);
        }
        if (m.group(2).equals(fqdns.mef(tenantId))) {
            return fromMef(tenantId, identity);
        }
        return Optional.empty(); // another tenant's or an unknown function's identifier
    }

    /**
     * The Km a KmID names, while it is live and so is the enrolment it was derived from: a Km derived from a Ke that was
     * replaced (a re-enrolment) or revoked (a deny, a revoke-all) ends with it (TS-0003 §10.7; issue 22), checked at
     * every handshake.
     */
    private Optional<KmHolder> assigned(String tenantId, String kmId) {
        return QuarkusTransaction.requiringNew().call(() -> {
            Optional<MafKms.OpenedKm> opened = kms.openLive(tenantId, kmId);
            if (opened.isEmpty()) {
                return Optional.<KmHolder>empty();
            }
            MafKms.OpenedKm k = opened.get();
            if (k.keId() != null && enrolments.liveEnroleeOf(tenantId, k.keId()).isEmpty()) {
                k.km().close();
                return Optional.<KmHolder>empty();
            }
            return Optional.of(new KmHolder(k.clientId(), k.km(), k.kmExpiresAt(), k.keId()));
        });
    }

    /** Who the MAF Client behind a psk_identity is, without opening any key (per request). */
    public Optional<String> clientIdOf(String tenantId, String rawIdentity) {
        String identity = canonical(rawIdentity);
        var m = KEY_ID.matcher(identity);
        if (!m.matches()) {
            return Optional.empty();
        }
        boolean kmId = m.group(2).equals(fqdns.maf(tenantId));
        boolean keId = m.group(2).equals(fqdns.mef(tenantId));
        if (!kmId && !keId) {
            return Optional.empty();
        }
        if (!tenants.isActive(tenantId)) {
            return Optional.empty(); // a suspended or deleted tenant's sessions end at their next request
        }
        return kmId
                ? kms.liveClientOfCached(tenantId, identity)
                : QuarkusTransaction.requiringNew().call(() -> enrolments.liveEnroleeOf(tenantId, identity));
    }

    /** Whether {@code identity} is a KeID of this tenant's MEF (a first registration with a remotely provisioned Km). */
    public boolean isKeId(String tenantId, String identity) {
        var m = KEY_ID.matcher(canonical(identity));
        return m.matches() && m.group(2).equals(fqdns.mef(tenantId));
    }

    /** The Km fetched from the MEF for a KeID (audited there), for the registration to seal. */
    public Optional<KmHolder> fromMef(String tenantId, String keId) {
        CredentialFetchService.Outcome o = fetches.fetchForOwnMaf(tenantId, fqdns.maf(tenantId), keId);
        if (o instanceof CredentialFetchService.Fetched f) {
            return Optional.of(new KmHolder(f.enroleeId(), f.credential(), f.lifetime(), keId));
        }
        return Optional.empty();
    }
}
