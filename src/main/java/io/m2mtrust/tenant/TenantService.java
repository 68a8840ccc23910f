package io.m2mtrust.tenant;

import io.m2mtrust.audit.AuditLog;
import io.m2mtrust.common.ApiProblem;
import io.m2mtrust.hsm.HsmKeyLabel;
import io.m2mtrust.keys.TenantKeyService;
import io.m2mtrust.policy.PolicyService;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import jakarta.persistence.LockModeType;
import org.jboss.logging.Logger;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;

/**
 * Creates, changes and deletes tenants. Creation touches the HSM and the database: the keys are
 * generated first, and destroyed again if the database part fails, so a failed creation leaves
 * neither a row nor an HSM object. Deletion commits the tombstone first, then crypto-shreds; the
 * key reconciler finishes shredding if the HSM fails in between.
 */
@ApplicationScoped
public class TenantService {

    private static final Logger LOG = Logger.getLogger(TenantService.class);

    private final EntityManager em;
    private final TenantKeyService keys;
    private final PolicyService policies;
    private final AuditLog audit;

    TenantService(EntityManager em, TenantKeyService keys, PolicyService policies, AuditLog audit) {
        this.em = em;
        this.keys = keys;
        this.policies = policies;
        this.audit = audit;
    }

    /**
     * Creation in three steps, so that concurrent requests for one id cannot both reach the HSM and no
     * failure leaves a half-made tenant: (1) a CREATING row claims the id (the primary key decides
     * the race; a claim older than {@link #STALE_CLAIM} from a crashed creation is taken over); (2) the
     * keys are generated in the HSM; (3) one transaction writes policy, key versions and audit and
     * makes the tenant ACTIVE. A failure in (2) or (3) destroys the new keys and drops the claim.
     */
    public Tenant create(TenantDtos.CreateTenant req, String actor) {
        String id = TenantIds.require(req.id());
        claim(id, req.name().strip());
        List<HsmKeyLabel> made = List.of();
        try {
            made = keys.generateInitialKeys(id);
            List<HsmKeyLabel> labels = made;
            return QuarkusTransaction.requiringNew().call(() -> {
                Tenant t = em.find(Tenant.class, id, LockModeType.PESSIMISTIC_WRITE);
                Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
                t.status = Tenant.Status.ACTIVE;
                t.createdAt = now;
                t.updatedAt = now;
                policies.createDefault(id);
                keys.recordInitialKeys(id, labels, actor);
                audit.append(id, actor, "tenant.create", "tenant/" + id, AuditLog.Outcome.SUCCESS, "name=" + t.name);
                em.flush();
                return t;
            });
        } catch (RuntimeException e) {
            if (!made.isEmpty()) {
                try {
                    keys.shred(id);
                } catch (RuntimeException shredFailure) {
                    LOG.errorf("tenant %s: creation failed and its HSM keys %s could not be destroyed now", id, made);
                }
            }
            try {
                QuarkusTransaction.requiringNew().run(() ->
                        em.createQuery("delete from Tenant where id = ?1 and status = ?2")
                                .setParameter(1, id).setParameter(2, Tenant.Status.CREATING).executeUpdate());
            } catch (RuntimeException cleanupFailure) {
                LOG.errorf("tenant %s: creation failed and its claim could not be dropped; it expires in %s", id, STALE_CLAIM);
            }
            throw e;
        }
    }

    static final java.time.Duration STALE_CLAIM = java.time.Duration.ofMinutes(10);

    private void claim(String id, String name) {
        try {
            QuarkusTransaction.requiringNew().run(() -> {
                Tenant existing = em.find(Tenant.class, id, LockModeType.PESSIMISTIC_WRITE);
                Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
                if (existing != null) {
                    if (existing.status != Tenant.Status.CREATING || existing.updatedAt.isAfter(now.minus(STALE_CLAIM))) {
                        throw ApiProblem.conflict("tenant " + id + " exists, existed or is being created; tenant ids are never reused");
                    }
                    LOG.warnf("tenant %s: taking over a creation claim abandoned at %s", id, existing.updatedAt);
                    existing.name = name;
                    existing.updatedAt = now;
                    return;
                }
                Tenant t = new Tenant();
                t.id = id;
                t.name = name;
                t.status = Tenant.Status.CREATING;
                t.createdAt = now;
                t.updatedAt = now;
                em.persist(t);
                em.flush();
            });
        } catch (ApiProblem p) {
            throw p;
        } catch (RuntimeException e) {
            if (io.m2mtrust.common.Sql.isUniqueViolation(e)) {
                throw ApiProblem.conflict("tenant " + id + " exists, existed or is being created; tenant ids are never reused");
            }
            throw e;
        }
    }

    /** The tenant, whatever its status; 404 if it never existed. */
    public Tenant get(String id) {
        Tenant t = Tenant.findById(TenantIds.require(id));
        if (t == null || t.status == Tenant.Status.CREATING) {
            throw ApiProblem.notFound("tenant " + id);
        }
        return t;
    }

    /** A tenant whose keys and policy still exist; 410 for a deleted (crypto-shredded) tenant. */
    public Tenant requireLive(String id) {
        Tenant t = get(id);
        if (t.status == Tenant.Status.DELETED) {
            throw ApiProblem.gone("tenant " + id + " was deleted and its keys destroyed");
        }
        return t;
    }

    public List<Tenant> list(String onlyIdOrNull) {
        if (onlyIdOrNull != null) {
            Tenant t = Tenant.findById(onlyIdOrNull);
            return t == null || t.status == Tenant.Status.CREATING ? List.of() : List.of(t);
        }
        return Tenant.list("status <> ?1 order by id", Tenant.Status.CREATING);
    }

    public Tenant update(String id, TenantDtos.UpdateTenant req, String ifMatch, String actor) {
        requireLive(id);
        return audit.auditRefusals(id, actor, "tenant.update", "tenant/" + id, () -> updateChecked(id, req, ifMatch, actor));
    }

    private Tenant updateChecked(String id, TenantDtos.UpdateTenant req, String ifMatch, String actor) {
        return QuarkusTransaction.requiringNew().call(() -> {
            Tenant t = requireLive(id);
            em.lock(t, LockModeType.OPTIMISTIC);
            io.m2mtrust.common.ETags.requireMatch(ifMatch, t.version);
            if (req.status() != Tenant.Status.ACTIVE && req.status() != Tenant.Status.SUSPENDED) {
                throw ApiProblem.badRequest("validation", "status must be ACTIVE or SUSPENDED; use DELETE to delete a tenant");
            }
            String change = (t.status != req.status() ? "status " + t.status + "->" + req.status() + " " : "")
                    + (!t.name.equals(req.name().strip()) ? "name changed" : "");
            t.name = req.name().strip();
            t.status = req.status();
            t.updatedAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
            em.flush();
            audit.append(id, actor, "tenant.update", "tenant/" + id, AuditLog.Outcome.SUCCESS, change.isBlank() ? "no change" : change.strip());
            return t;
        });
    }

    /** Tombstones the tenant, then destroys its HSM keys. Returns the number of HSM objects destroyed. */
    public int delete(String id, String actor) {
        QuarkusTransaction.requiringNew().run(() -> {
            Tenant t = requireLive(id);
            em.lock(t, LockModeType.PESSIMISTIC_WRITE);
            audit.append(id, actor, "tenant.delete", "tenant/" + id, AuditLog.Outcome.SUCCESS,
                    "tenant deleted; HSM keys crypto-shredded");
            Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
            t.status = Tenant.Status.DELETED;
            t.deletedAt = now;
            t.updatedAt = now;
            keys.markAllDestroyed(id, actor);
        });
        try {
            return keys.shred(id);
        } catch (RuntimeException e) {
            LOG.errorf("tenant %s deleted but its HSM keys could not be destroyed now (%s); the reconciler retries", id, e.getMessage());
            return -1;
        }
    }
}
