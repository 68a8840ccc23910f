package io.m2mtrust.mef;

import io.m2mtrust.audit.AuditLog;
import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.keys.KeySealer;
import io.m2mtrust.policy.PolicyService;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;

import java.time.Instant;
import java.util.Arrays;
import java.util.Set;

/**
 * {@code fetchCredentials/<KeID>/<SUID>} (TS-0003 §8.3.2.1 f): an authenticated Enrolment Target gets
 * the §10.3.7 usage-constrained key of an enrolee's live Ke — always that key, whatever the SUID
 * (docs/interop-profile.md) — if the target is registered, the SUID is one it may fetch and the
 * tenant policy allows it. The key's lifetime is the Ke's (§10.7).
 */
@ApplicationScoped
public class CredentialFetchService {

    /** SUIDs of RSPF-provisioned keys (m2m:suid 2x): shared with a MAF, SAEF, ESPrim, ESData. */
    static final Set<Integer> FETCHABLE_SUIDS = Set.of(21, 22, 23, 24, 25);

    public sealed interface Outcome permits Fetched, Refused {}

    public record Fetched(SecretBytes credential, String enroleeId, Instant lifetime) implements Outcome {}

    /** {@code status} is the HTTP status that carries {@code Status=False, ErrorString}. */
    public record Refused(int status, String errorString) implements Outcome {}

    private final EntityManager em;
    private final KeySealer sealer;
    private final PolicyService policies;
    private final AuditLog audit;

    CredentialFetchService(EntityManager em, KeySealer sealer, PolicyService policies, AuditLog audit) {
        this.em = em;
        this.sealer = sealer;
        this.policies = policies;
        this.audit = audit;
    }

    public Outcome fetch(String tenantId, String targetIdentity, String keId, int suid) {
        // allow-lists before any key lookup
        if (!FETCHABLE_SUIDS.contains(suid)) {
            return refuse(
                    tenantId,
                    targetIdentity,
                    keId,
                    suid,
                    400,
                    "SUID " + suid + " is not an RSPF-provisioned key usage (21-25)");
        }
        return QuarkusTransaction.requiringNew().call(() -> {
            Outcome o = derive(tenantId, targetIdentity, keId, suid, true);
            if (o instanceof Refused r) {
                return refuse(tenantId, targetIdentity, keId, suid, r.status(), r.errorString());
            }
            Fetched f = (Fetched) o;
            audit.append(
                    tenantId,
                    "target " + targetIdentity,
                    "credentials.fetch",
                    keId + "/" + suid,
                    AuditLog.Outcome.SUCCESS,
                    "usage-constrained key for the target, valid until " + f.lifetime());
            return f;
        });
    }

    /**
     * The key {@code fetchCredentials/<KeID>/<SUID>} would give {@code targetIdentity}, with the same checks,
     * for per-message use (ESData with SUID 24/25 keys: counted, not chained in the audit log). With
     * {@code open=false} only checks (dry-run; {@link Fetched#credential()} is null). Runs in the caller's
     * transaction.
     */
    public Outcome derive(String tenantId, String targetIdentity, String keId, int suid, boolean open) {
        if (!FETCHABLE_SUIDS.contains(suid)) {
            return new Refused(400, "SUID " + suid + " is not an RSPF-provisioned key usage (21-25)");
        }
        EnrolmentTarget target = em.find(EnrolmentTarget.class, new EnrolmentTarget.Key(tenantId, targetIdentity));
        if (target == null) {
            return new Refused(403, "not a registered Enrolment Target");
        }
        if (!Arrays.asList(target.allowedSuids).contains(suid)
                || !Arrays.asList(policies.current(tenantId).allowedSuids).contains(suid)) {
            return new Refused(403, "SUID " + suid + " is not allowed for this target");
        }
        Enrolment e = em.find(Enrolment.class, new Enrolment.Key(tenantId, keId));
        if (e == null || e.status != Enrolment.Status.ACTIVE) {
            return new Refused(404, "no live enrolment with that KeID");
        }
        if (!e.expiresAt.isAfter(Instant.now())) {
            return new Refused(410, "the enrolment has expired");
        }
        if (!open) {
            return new Fetched(null, e.enroleeId, e.expiresAt);
        }
        try (SecretBytes ke =
                sealer.open(new KeySealer.SealContext(tenantId, keId, EnrolmentService.SEAL_PURPOSE), e.sealedKe)) {
            return new Fetched(EnrolmentKdf.usageConstrained(ke, suid, target.targetFqdn), e.enroleeId, e.expiresAt);
        }
    }

    /**
     * The tenant's own MAF as Enrolment Target (TS-0003 §8.8.2.3: a client that registers with its KeID):
     * the §10.3.7 key with SUID 21 and the MAF's FQDN as Enrolment-Target-ID, if the tenant policy allows
     * SUID 21. In-process, so the MAF needs no Enrolment Target row; audited like any fetch.
     */
    public Outcome fetchForOwnMaf(String tenantId, String mafFqdn, String keId) {
        return QuarkusTransaction.requiringNew().call(() -> {
            if (!Arrays.asList(policies.current(tenantId).allowedSuids).contains(MAF_SUID)) {
                return refuse(
                        tenantId,
                        mafFqdn,
                        keId,
                        MAF_SUID,
                        403,
                        "the tenant policy does not allow SUID 21 (Km shared with the MAF)");
            }
            Enrolment e = em.find(Enrolment.class, new Enrolment.Key(tenantId, keId));
            if (e == null || e.status != Enrolment.Status.ACTIVE) {
                return refuse(tenantId, mafFqdn, keId, MAF_SUID, 404, "no live enrolment with that KeID");
            }
            if (!e.expiresAt.isAfter(Instant.now())) {
                return refuse(tenantId, mafFqdn, keId, MAF_SUID, 410, "the enrolment has expired");
            }
            SecretBytes k;
            try (SecretBytes ke =
                    sealer.open(new KeySealer.SealContext(tenantId, keId, EnrolmentService.SEAL_PURPOSE), e.sealedKe)) {
                k = EnrolmentKdf.usageConstrained(ke, MAF_SUID, mafFqdn);
            }
            audit.append(
                    tenantId,
                    "target " + mafFqdn,
                    "credentials.fetch",
                    keId + "/" + MAF_SUID,
                    AuditLog.Outcome.SUCCESS,
                    "Km for the tenant's MAF, valid until " + e.expiresAt);
            return new Fetched(k, e.enroleeId, e.expiresAt);
        });
    }

    /** SUID of a key provisioned via an RSPF and shared with a MAF (TS-0004). */
    public static final int MAF_SUID = 21;

    private Refused refuse(String tenantId, String target, String keId, int suid, int status, String why) {
        try {
            audit.appendIndependently(
                    tenantId, "target " + target, "credentials.fetch", keId + "/" + suid, AuditLog.Outcome.DENIED, why);
        } catch (RuntimeException ignored) {
            // the refusal stands even if it cannot be chained (HSM down): it is logged by the caller
        }
        return new Refused(status, why);
    }
}
