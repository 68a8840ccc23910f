package io.m2mtrust.esdata;

import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.enrolment.DeviceFqdns;
import io.m2mtrust.keys.KeySealer;
import io.m2mtrust.mef.CredentialFetchService;
import io.m2mtrust.policy.PolicyService;
import io.m2mtrust.registration.KeyRegistration;
import io.m2mtrust.registration.Registrar;
import io.m2mtrust.registration.RegistrationProcedures;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;

import java.time.Instant;
import java.util.Arrays;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Symmetric ESData keys of a tenant end-point, by key identifier ({@code RelativeKeyID@MAF-FQDN} or
 * {@code @MEF-FQDN}): a registered key the caller is the source or a target of, not expired, registered
 * for the usage asked (SUID 34/24 encryption, 35/25 MAC — a key registered for another SUID is refused).
 * The Key Value is opened in the HSM only for the operation and, per the interop profile, its first half
 * is the JOSE key. Callers run inside a transaction.
 */
@ApplicationScoped
public class EsDataKeys {

    /** SUIDs per usage (TS-0004 m2m:suid): pre-provisioned 1x, RSPF/MEF 2x, MAF 3x. */
    public enum Usage {
        ENCRYPT(34, 24, 14, 44),
        MAC(35, 25, 15, 45),
        /** pairwiseESPrimKey (TS-0003 §8.4.2 A): MAF 33, RSPF 23, pre-provisioned 13, ESCertKE (certificate) 43. */
        ESPRIM(33, 23, 13, 43);

        final int mafSuid;
        final int mefSuid;
        final int preSuid;
        final int certSuid;

        Usage(int mafSuid, int mefSuid, int preSuid, int certSuid) {
            this.mafSuid = mafSuid;
            this.mefSuid = mefSuid;
            this.preSuid = preSuid;
            this.certSuid = certSuid;
        }
    }

    /**
     * A usable key, or why not (for answers and the dry-run; never key material). {@code keyLength} is the length of
     * the JOSE key that would be used, known without opening it; {@code status} is the HTTP status of a refusal:
     * 404 unknown to the caller, 403 held for another usage or outside the tenant policy, 400 not a key identifier.
     */
    public record Resolution(
            String kid,
            SecretBytes key,
            int suid,
            Instant expiresAt,
            String problem,
            java.util.List<String> peers,
            int keyLength,
            int status) {

        static Resolution usable(String kid, SecretBytes key, int suid, Instant expiresAt, int keyLength) {
            return new Resolution(
                    kid, key, suid, expiresAt, null, java.util.List.of(), key != null ? key.length() : keyLength, 200);
        }

        /** Not the caller's key, expired or absent: indistinguishable on purpose. */
        public static Resolution unknown(String kid, String problem) {
            return new Resolution(kid, null, 0, null, problem, java.util.List.of(), 0, 404);
        }

        /** A key the caller holds, refused for this usage or by the tenant policy (TS-0004 SUIDs; interop profile: 403). */
        static Resolution forbidden(String kid, String problem) {
            return new Resolution(kid, null, 0, null, problem, java.util.List.of(), 0, 403);
        }

        static Resolution malformed(String kid, String problem) {
            return new Resolution(kid, null, 0, null, problem, java.util.List.of(), 0, 400);
        }

        /** The same key with the identities it is shared with besides the caller (for ESPrim's impersonation check). */
        Resolution withPeers(java.util.List<String> peers) {
            return new Resolution(kid, key, suid, expiresAt, problem, java.util.List.copyOf(peers), keyLength, status);
        }

        public boolean usable() {
            return problem == null;
        }

        @Override
        public String toString() {
            return "Resolution[" + kid + ", suid " + suid + (problem == null ? "" : ", " + status + " " + problem)
                    + "]";
        }
    }

    private static final Pattern KEY_ID = Pattern.compile("([0-9a-f]{32})@([a-z0-9.-]{1,253})");
    private static final Pattern ANY_KEY_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}@[a-z0-9.-]{1,253}");
    /** {@code fetchCredentials} keys: {@code <KeID>/<SUID>} (interop profile), the KeID being {@code RelativeKeID@MEF-FQDN}. */
    private static final Pattern FETCHED_KEY_ID = Pattern.compile("([0-9a-f]{32}@[a-z0-9.-]{1,253})/([0-9]{2})");

    private final EntityManager em;
    private final KeySealer sealer;
    private final DeviceFqdns fqdns;
    private final CredentialFetchService fetches;
    private final PolicyService policies;

    EsDataKeys(
            EntityManager em,
            KeySealer sealer,
            DeviceFqdns fqdns,
            CredentialFetchService fetches,
            PolicyService policies) {
        this.em = em;
        this.sealer = sealer;
        this.fqdns = fqdns;
        this.fetches = fetches;
        this.policies = policies;
    }

    /**
     * Resolves {@code kid} for {@code caller}; with {@code open=false} only checks (dry-run). Three sources:
     * keys registered with the tenant's MAF or MEF ({@code hex@maf-fqdn}, {@code hex@mef-fqdn}; the first half
     * of the Key Value), {@code fetchCredentials} keys ({@code <KeID>/24} or {@code /25}: the §10.3.7 key the
     * caller, a registered Enrolment Target, would fetch; used whole) and pre-provisioned keys
     * ({@code id@another-fqdn}, SUID 14/15, imported by an admin; used whole).
     */
    public Resolution resolve(String tenantId, String caller, String kid, Usage usage, boolean open) {
        if (kid == null || kid.length() > 330) {
            return Resolution.malformed(kid, "not a key identifier (RelativeKeyID@FQDN)");
        }
        Matcher fetched = FETCHED_KEY_ID.matcher(kid);
        if (fetched.matches()) {
            return resolveFetched(
                    tenantId, caller, kid, fetched.group(1), Integer.parseInt(fetched.group(2)), usage, open);
        }
        Matcher m = KEY_ID.matcher(kid);
        String fqdn = kid.substring(kid.indexOf('@') + 1);
        boolean registered = fqdn.equals(fqdns.maf(tenantId)) || fqdn.equals(fqdns.mef(tenantId));
        if (!registered && m.matches()) {
            io.m2mtrust.escertke.EscertkeKey established = em.find(
                    io.m2mtrust.escertke.EscertkeKey.class, new io.m2mtrust.escertke.EscertkeKey.Key(tenantId, kid));
            if (established != null) {
                return resolveEstablished(tenantId, caller, established, usage, open);
            }
        }
        if (!registered) {
            return ANY_KEY_ID.matcher(kid).matches()
                    ? resolvePreprovisioned(tenantId, caller, kid, usage, open)
                    : Resolution.malformed(kid, "not a key identifier (RelativeKeyID@FQDN)");
        }
        if (!m.matches()) {
            return Resolution.malformed(kid, "not a key identifier (RelativeKeyID@FQDN)");
        }
        Registrar registrar = m.group(2).equals(fqdns.maf(tenantId)) ? Registrar.MAF : Registrar.MEF;
        KeyRegistration k = em.find(KeyRegistration.class, new KeyRegistration.Key(tenantId, registrar, m.group(1)));
        if (k == null || !k.expiresAt.isAfter(Instant.now())) {
            return Resolution.unknown(kid, "unknown or expired key");
        }
        if (!k.sourceClientId.equals(caller) && !Arrays.asList(k.targetIds).contains(caller)) {
            return Resolution.unknown(kid, "unknown key"); // not this end-point's: indistinguishable from absent
        }
        int wanted = registrar == Registrar.MAF ? usage.mafSuid : usage.mefSuid;
        if (k.suid != wanted) {
            return Resolution.forbidden(
                    kid,
                    "the key is registered for SUID " + k.suid + ", not " + wanted + " ("
                            + usage.name().toLowerCase() + ")");
        }
        if (!policyAllows(tenantId, k.suid)) {
            return Resolution.forbidden(kid, "SUID " + k.suid + " is not allowed by the tenant policy");
        }
        if (!open) {
            // a protocol that needs one key takes the first half of a distributed key (interop profile)
            return Resolution.usable(kid, null, k.suid, k.expiresAt, KeySealer.sealedKeyLength(k.sealedKey) / 2)
                    .withPeers(registrationPeers(k, caller));
        }
        try (SecretBytes value = sealer.open(RegistrationProcedures.sealContext(tenantId, kid, k.suid), k.sealedKey)) {
            SecretBytes half = value.reveal(b -> SecretBytes.copyOf(Arrays.copyOf(b, b.length / 2)));
            return Resolution.usable(kid, half, k.suid, k.expiresAt, 0).withPeers(registrationPeers(k, caller));
        }
    }

    private Resolution resolveFetched(
            String tenantId, String caller, String kid, String keId, int suid, Usage usage, boolean open) {
        if (suid != usage.mefSuid) {
            return Resolution.forbidden(
                    kid,
                    "a fetchCredentials key for SUID " + suid + " is not an ESData "
                            + usage.name().toLowerCase() + " key (SUID " + usage.mefSuid + ")");
        }
        CredentialFetchService.Outcome o = fetches.derive(tenantId, caller, keId, suid, open);
        if (o instanceof CredentialFetchService.Refused r) {
            // not a target, or no live enrolment: indistinguishable from an unknown key; SUID rules are said
            return r.status() == 403 && r.errorString().contains("SUID")
                    ? Resolution.forbidden(kid, r.errorString())
                    : Resolution.unknown(kid, "unknown or expired key");
        }
        CredentialFetchService.Fetched f = (CredentialFetchService.Fetched) o;
        // the §10.3.7 key is one HMAC-SHA256 output: 32 bytes, used whole
        return Resolution.usable(kid, f.credential(), suid, f.lifetime(), 32)
                .withPeers(java.util.List.of(f.enroleeId()));
    }

    private Resolution resolvePreprovisioned(String tenantId, String caller, String kid, Usage usage, boolean open) {
        PreprovisionedKey k = em.find(PreprovisionedKey.class, new PreprovisionedKey.Key(tenantId, kid));
        if (k == null
                || k.revokedAt != null
                || !k.expiresAt.isAfter(Instant.now())
                || !Arrays.asList(k.holders).contains(caller)) {
            return Resolution.unknown(kid, "unknown or expired key");
        }
        if (k.suid != usage.preSuid) {
            return Resolution.forbidden(
                    kid,
                    "the key is pre-provisioned for SUID " + k.suid + ", not " + usage.preSuid + " ("
                            + usage.name().toLowerCase() + ")");
        }
        if (!policyAllows(tenantId, k.suid)) {
            return Resolution.forbidden(kid, "SUID " + k.suid + " is not allowed by the tenant policy");
        }
        if (!open) {
            return Resolution.usable(kid, null, k.suid, k.expiresAt, k.keyLength)
                    .withPeers(java.util.Arrays.stream(k.holders)
                            .filter(h -> !h.equals(caller))
                            .toList());
        }
        return Resolution.usable(
                        kid,
                        sealer.open(PreprovisionedKeyResource.seal(tenantId, kid), k.sealedKey),
                        k.suid,
                        k.expiresAt,
                        0)
                .withPeers(java.util.Arrays.stream(k.holders)
                        .filter(h -> !h.equals(caller))
                        .toList());
    }

    /**
     * An ESCertKE key ({@code hex(pairwiseE2EKeyID)@<initiator's FQDN>}): between the two identities the handshake
     * authenticated, used whole (32 bytes); SUID 43 for ESPrim, 44/45 for ESData.
     */
    private Resolution resolveEstablished(
            String tenantId, String caller, io.m2mtrust.escertke.EscertkeKey k, Usage usage, boolean open) {
        // the caller is one side, named by its From (ESPrim) or its certificate's subjectAltName (an ESData end-point)
        boolean local = k.isLocal(caller);
        if (!k.usable(Instant.now()) || !(local || k.isPeer(caller))) {
            return Resolution.unknown(k.keyId, "unknown or expired key");
        }
        if (!policyAllows(tenantId, usage.certSuid)) {
            return Resolution.forbidden(k.keyId, "SUID " + usage.certSuid + " is not allowed by the tenant policy");
        }
        java.util.List<String> peers = local
                ? java.util.List.of(k.peerIdentity, k.peerSubject)
                : java.util.List.of(k.localIdentity, k.localSubject);
        if (!open) {
            return Resolution.usable(k.keyId, null, usage.certSuid, k.expiresAt, KeySealer.sealedKeyLength(k.sealedKey))
                    .withPeers(peers);
        }
        return Resolution.usable(
                        k.keyId,
                        sealer.open(new KeySealer.SealContext(tenantId, k.keyId, "escertke"), k.sealedKey),
                        usage.certSuid,
                        k.expiresAt,
                        0)
                .withPeers(peers);
    }

    /** The registration's other parties: the source when the caller is a target, the targets when the caller is the source. */
    private static java.util.List<String> registrationPeers(KeyRegistration k, String caller) {
        return k.sourceClientId.equals(caller) ? java.util.List.of(k.targetIds) : java.util.List.of(k.sourceClientId);
    }

    private boolean policyAllows(String tenantId, int suid) {
        return Arrays.asList(policies.get(tenantId).allowedSuids).contains(suid);
    }

    /**
     * Opens keys for an unprotect: a key unknown to the caller is empty (the envelope may name other recipients'
     * keys); a key the caller holds for another usage, or that the policy refuses, is a 403 refusal naming why —
     * never "unknown" (interop profile, errors). Callers run inside a transaction.
     */
    public JoseEnvelopes.KeyLookup opener(String tenantId, String caller, Usage usage) {
        return kid -> {
            Resolution r = resolve(tenantId, caller, kid, usage, true);
            if (r.usable()) {
                return Optional.of(r.key());
            }
            if (r.status() == 403) {
                throw new JoseEnvelopes.Refused(JoseEnvelopes.Refused.Reason.POLICY, kid + ": " + r.problem());
            }
            return Optional.empty();
        };
    }
}
