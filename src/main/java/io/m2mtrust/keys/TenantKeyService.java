package io.m2mtrust.keys;

import io.m2mtrust.audit.AuditLog;
import io.m2mtrust.cluster.NotJobLeader;
import io.m2mtrust.common.ApiProblem;
import io.m2mtrust.hsm.HsmKeyLabel;
import io.m2mtrust.hsm.KeyPurpose;
import io.m2mtrust.hsm.Pkcs11Token;
import io.m2mtrust.tenant.Tenant;
import io.m2mtrust.tenant.TenantStore;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import jakarta.transaction.Transactional;
import org.jboss.logging.Logger;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Life cycle of per-tenant HSM keys: initial generation, rotation (a new primary version; older ones
 * still open and verify), retirement (the object is destroyed) and crypto-shredding of a deleted
 * tenant. The HSM objects per tenant are a small constant times the number of live versions.
 */
@ApplicationScoped
public class TenantKeyService {

    private static final Logger LOG = Logger.getLogger(TenantKeyService.class);

    /** The purposes every tenant gets at creation. */
    public static final List<KeyPurpose> TENANT_PURPOSES = List.of(KeyPurpose.KEK, KeyPurpose.DERIVE, KeyPurpose.SIGN);

    /**
     * Purposes made on first use ({@link #ensurePrimary}): a tenant that never issues certificates or
     * serves certificate TLS holds no CA or TLS key objects.
     */
    public static final List<KeyPurpose> ON_DEMAND_PURPOSES = List.of(KeyPurpose.CA, KeyPurpose.TLS);

    private final Pkcs11Token token;
    private final Pkcs11Token.CertificateMaker certificates;
    private final KeyVersionRepository versions;
    private final AuditLog audit;
    private final TenantStore tenantRows;
    private final Instance<RetiredHsmKeys> retired;

    TenantKeyService(
            Pkcs11Token token,
            Pkcs11Token.CertificateMaker certificates,
            KeyVersionRepository versions,
            AuditLog audit,
            TenantStore tenantRows,
            Instance<RetiredHsmKeys> retired) {
        this.retired = retired;
        this.tenantRows = tenantRows;
        this.token = token;
        this.certificates = certificates;
        this.versions = versions;
        this.audit = audit;
    }

    /**
     * Generates version 1 of every tenant key inside the token, outside any transaction. On failure
     * the objects already made are destroyed before the exception propagates. A stale object with the
     * same label (a crash between HSM and database) is replaced, since no tenant row refers to it.
     */
    public List<HsmKeyLabel> generateInitialKeys(String tenantId) {
        List<HsmKeyLabel> made = new ArrayList<>();
        try {
            for (KeyPurpose p : TENANT_PURPOSES) {
                HsmKeyLabel label = HsmKeyLabel.of(tenantId, p, 1);
                token.generateReplacingOrphan(label, certificates);
                made.add(label);
            }
            return made;
        } catch (RuntimeException e) {
            destroyQuietly(made);
            throw e;
        }
    }

    /** Records the generated versions and audits each key creation (in the caller's transaction). */
    @Transactional(Transactional.TxType.MANDATORY)
    public void recordInitialKeys(String tenantId, List<HsmKeyLabel> labels, String actor) {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
        for (HsmKeyLabel l : labels) {
            TenantKeyVersion v = new TenantKeyVersion();
            v.tenantId = tenantId;
            v.purpose = l.purpose();
            v.version = l.version();
            v.state = KeyState.PRIMARY;
            v.hsmLabel = l.value();
            v.publicKey = publicKeyOf(l);
            v.createdAt = now;
            versions.persist(v);
        }
        versions.flush();
        for (HsmKeyLabel l : labels) {
            audit.append(
                    tenantId,
                    actor,
                    "key.create",
                    l.value(),
                    AuditLog.Outcome.SUCCESS,
                    keyTypeOf(l.purpose()) + " generated in the HSM");
        }
    }

    /**
     * Makes version n+1 the primary. The tenant row is locked for the whole operation so concurrent
     * rotations serialise; if the database part fails the new HSM object is destroyed again.
     */
    public TenantKeyVersion rotate(String tenantId, KeyPurpose purpose, String actor) {
        return audit.auditRefusals(
                tenantId,
                actor,
                "key.rotate",
                "m2m/" + tenantId + "/" + purpose.code(),
                () -> QuarkusTransaction.requiringNew().call(() -> rotateLocked(tenantId, purpose, actor)));
    }

    /**
     * The primary version of an on-demand purpose, generating version 1 (or the next version, after every
     * earlier one was retired) when there is none. Concurrent first uses serialise on the tenant row, so
     * exactly one key is made.
     */
    public HsmKeyLabel ensurePrimary(String tenantId, KeyPurpose purpose, String actor) {
        if (!ON_DEMAND_PURPOSES.contains(purpose)) {
            throw new IllegalArgumentException(purpose + " keys are made with the tenant");
        }
        Optional<HsmKeyLabel> cached =
                QuarkusTransaction.joiningExisting().call(() -> versions.primary(tenantId, purpose));
        if (cached.isPresent()) {
            return cached.get();
        }
        return QuarkusTransaction.requiringNew().call(() -> {
            lockTenant(tenantId);
            Tenant t = tenantRows.find(tenantId).orElse(null);
            if (t == null || t.status != Tenant.Status.ACTIVE) {
                throw ApiProblem.conflict("tenant " + tenantId + " is not active: no new " + purpose.code() + " key");
            }
            Optional<TenantKeyVersion> row = versions.primaryRow(tenantId, purpose);
            if (row.isPresent()) {
                return row.get().label();
            }
            return rotateLocked(tenantId, purpose, actor).label();
        });
    }

    private TenantKeyVersion rotateLocked(String tenantId, KeyPurpose purpose, String actor) {
        lockTenant(tenantId);
        int next = versions.maxVersion(tenantId, purpose) + 1;
        HsmKeyLabel label = HsmKeyLabel.of(tenantId, purpose, next);
        token.generateReplacingOrphan(label, certificates); // the tenant row lock makes v(n+1) ours
        try {
            versions.primaryRow(tenantId, purpose).ifPresent(old -> old.state = KeyState.ACTIVE);
            versions.flush();
            TenantKeyVersion v = new TenantKeyVersion();
            v.tenantId = tenantId;
            v.purpose = purpose;
            v.version = next;
            v.state = KeyState.PRIMARY;
            v.hsmLabel = label.value();
            v.publicKey = publicKeyOf(label);
            v.createdAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
            versions.persist(v);
            versions.flush();
            versions.forgetCached(tenantId);
            audit.append(
                    tenantId,
                    actor,
                    "key.rotate",
                    label.value(),
                    AuditLog.Outcome.SUCCESS,
                    purpose.code() + " version " + next + " is now primary");
            return v;
        } catch (RuntimeException e) {
            versions.forgetCachedHere(tenantId); // nothing changed: only what this attempt may have cached
            destroyQuietly(List.of(label));
            throw e;
        }
    }

    /**
     * Retires a non-primary version: it stops opening/verifying at once, and its HSM object is
     * destroyed after the database commit (the reconciler finishes the job if the HSM fails then).
     */
    public TenantKeyVersion retire(String tenantId, KeyPurpose purpose, int version, String actor) {
        return audit.auditRefusals(
                tenantId,
                actor,
                "key.retire",
                "m2m/" + tenantId + "/" + purpose.code() + "/v" + version,
                () -> retireChecked(tenantId, purpose, version, actor));
    }

    private TenantKeyVersion retireChecked(String tenantId, KeyPurpose purpose, int version, String actor) {
        TenantKeyVersion v = QuarkusTransaction.requiringNew().call(() -> {
            lockTenant(tenantId);
            TenantKeyVersion row = versions.version(tenantId, purpose, version)
                    .orElseThrow(() -> ApiProblem.notFound("key version " + purpose.code() + "/v" + version));
            if (row.state == KeyState.PRIMARY) {
                throw ApiProblem.conflict("the primary version cannot be retired; rotate first");
            }
            if (row.state != KeyState.ACTIVE) {
                throw ApiProblem.conflict(
                        "version " + version + " is already " + row.state.name().toLowerCase());
            }
            row.state = KeyState.RETIRED;
            row.retiredAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
            audit.append(
                    tenantId,
                    actor,
                    "key.retire",
                    row.hsmLabel,
                    AuditLog.Outcome.SUCCESS,
                    "retired; HSM object destroyed");
            versions.forgetCached(tenantId); // every replica, at this commit
            return row;
        });
        destroyQuietly(List.of(v.label()));
        return v;
    }

    /** Marks every version destroyed (in the caller's transaction); {@link #shred} then removes the objects. */
    @Transactional(Transactional.TxType.MANDATORY)
    public void markAllDestroyed(String tenantId, String actor) {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
        for (TenantKeyVersion v : versions.ofTenant(tenantId)) {
            if (v.state != KeyState.DESTROYED && v.state != KeyState.RETIRED) {
                v.retiredAt = now;
            }
            v.state = KeyState.DESTROYED;
        }
        versions.forgetCached(tenantId);
    }

    /** Crypto-shredding: destroys every HSM object of the tenant. Returns how many were destroyed. */
    public int shred(String tenantId) {
        List<HsmKeyLabel> labels = token.labels(tenantId);
        for (HsmKeyLabel l : labels) {
            token.destroy(l);
        }
        versions.forgetCached(tenantId);
        return labels.size();
    }

    /**
     * Destroys HSM objects that the database says must not exist any more (retired versions, deleted
     * tenants) but survived because the HSM failed at the time. Labels without any row are left alone:
     * they may belong to a creation in progress.
     */
    @Scheduled(
            every = "${m2m.keys.reconcile-interval:60s}",
            delayed = "30s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP,
            skipExecutionIf = NotJobLeader.class)
    @Transactional
    void reconcile() {
        if (!token.isUp()) {
            return;
        }
        // the tenant key versions' own, then each feature's (group key epochs, deleted end-points' keys)
        Set<String> dead = new HashSet<>();
        retired.forEach(r -> dead.addAll(r.retiredLabels()));
        for (HsmKeyLabel l : token.labels(null)) {
            if (dead.contains(l.value())) {
                LOG.warnf("reconciler destroys %s, retired or shredded while the HSM was unavailable", l);
                token.destroy(l);
            }
        }
    }

    private byte[] publicKeyOf(HsmKeyLabel l) {
        return l.purpose().isEcKeyPair() ? token.publicKey(l).getEncoded() : null;
    }

    private void lockTenant(String tenantId) {
        tenantRows.lockForUpdate(tenantId);
    }

    private void destroyQuietly(List<HsmKeyLabel> labels) {
        labels.forEach(token::destroyQuietly);
    }

    static String keyTypeOf(KeyPurpose p) {
        return switch (p) {
            case KEK -> "AES-256 key-encryption key";
            case DERIVE -> "HMAC-SHA256 derivation key";
            case SIGN -> "EC P-256 signing key";
            case GROUP -> "HMAC-SHA256 enrolment group key";
            case CA -> "EC P-256 tenant CA key";
            case TLS -> "EC P-256 service TLS key";
            case ENDPOINT -> "EC P-256 end-point certificate key";
        };
    }
}
