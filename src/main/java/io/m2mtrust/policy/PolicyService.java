package io.m2mtrust.policy;

import io.m2mtrust.audit.AuditLog;
import io.m2mtrust.cluster.ReplicaCache;
import io.m2mtrust.cluster.ReplicaCaches;
import io.m2mtrust.common.ApiProblem;
import io.m2mtrust.common.ETags;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import jakarta.transaction.Transactional;
import jakarta.validation.ConstraintViolation;
import jakarta.validation.Validator;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** Reads and changes tenant policies; every change is validated, version-checked and audited. */
@ApplicationScoped
public class PolicyService {

    /** The cluster topic of policy changes (ADR 0023). */
    static final String TOPIC = "policy";

    private final EntityManager em;
    private final AuditLog audit;
    private final Validator validator;
    private final ReplicaCaches caches;
    /** A change anywhere in the cluster drops an entry; the TTL is only a backstop. */
    private final ReplicaCache<TenantPolicy> cache;

    /** Quotas a new tenant starts with ({@code m2m.policy.default-request-quota}, {@code …-hsm-quota}; ADR 0026). */
    private final int defaultRequestQuota;

    private final int defaultHsmQuota;

    PolicyService(
            EntityManager em,
            AuditLog audit,
            Validator validator,
            ReplicaCaches caches,
            @ConfigProperty(name = "m2m.policy.default-request-quota", defaultValue = "1000") int defaultRequestQuota,
            @ConfigProperty(name = "m2m.policy.default-hsm-quota", defaultValue = "1000") int defaultHsmQuota) {
        this.defaultRequestQuota = defaultRequestQuota;
        this.defaultHsmQuota = defaultHsmQuota;
        this.em = em;
        this.audit = audit;
        this.validator = validator;
        this.caches = caches;
        this.cache = caches.cache(TOPIC, Duration.ofSeconds(60), 100_000);
    }

    /**
     * The tenant's policy for the request paths, read-only and detached, from a cache: no query per request. A change
     * on any replica drops it (here at once, elsewhere at its commit); 404 when the tenant has none.
     */
    public TenantPolicy current(String tenantId) {
        // a transaction of its own: the row comes back detached, never tied to the caller's persistence context
        return cache.get(tenantId, () -> QuarkusTransaction.requiringNew().call(() -> get(tenantId)));
    }

    /** The tenant's policy if this replica holds it now; never a query (callers on the event loop). */
    public java.util.Optional<TenantPolicy> cached(String tenantId) {
        return java.util.Optional.ofNullable(cache.peek(tenantId));
    }

    /** The tenant's policy changed or went: dropped here now and at the transaction's end, on other replicas at commit. */
    public void forget(String tenantId) {
        caches.changed(TOPIC, tenantId);
    }

    @Transactional(Transactional.TxType.MANDATORY)
    public TenantPolicy createDefault(String tenantId) {
        TenantPolicy p = new TenantPolicy();
        p.tenantId = tenantId;
        PolicyRules.defaults().applyTo(p);
        p.requestQuotaPerSecond = defaultRequestQuota;
        p.requestBurst = 2 * defaultRequestQuota;
        p.hsmQuotaPerSecond = defaultHsmQuota;
        p.hsmBurst = 2 * defaultHsmQuota;
        p.updatedAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
        em.persist(p);
        return p;
    }

    public TenantPolicy get(String tenantId) {
        TenantPolicy p = em.find(TenantPolicy.class, tenantId);
        if (p == null) {
            throw ApiProblem.notFound("policy of tenant " + tenantId);
        }
        return p;
    }

    /** Replaces the policy if {@code ifMatch} names its current version (412 otherwise). */
    public TenantPolicy replace(String tenantId, PolicyDocument doc, String ifMatch, String actor) {
        return audit.auditRefusals(
                tenantId,
                actor,
                "policy.update",
                "tenant/" + tenantId + "/policy",
                () -> replaceChecked(tenantId, doc, ifMatch, actor));
    }

    private TenantPolicy replaceChecked(String tenantId, PolicyDocument doc, String ifMatch, String actor) {
        // validated here rather than at the resource so that every refused change is chained as a FAILURE
        List<java.util.Map<String, String>> errors = new ArrayList<>();
        for (ConstraintViolation<PolicyDocument> v : validator.validate(doc)) {
            String path = v.getPropertyPath().toString();
            int dot = path.indexOf('.');
            int bracket = path.indexOf('[');
            int cut = dot < 0 ? bracket : (bracket < 0 ? dot : Math.min(dot, bracket));
            errors.add(ApiProblem.fieldError(cut < 0 ? path : path.substring(0, cut), v.getMessage()));
        }
        if (!errors.isEmpty()) {
            throw ApiProblem.invalid(errors);
        }
        PolicyRules.check(doc);
        return QuarkusTransaction.requiringNew().call(() -> {
            TenantPolicy p = get(tenantId);
            ETags.requireMatch(ifMatch, p.version);
            forget(tenantId);
            PolicyDocument before = PolicyDocument.of(p);
            doc.applyTo(p);
            p.updatedAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
            em.flush(); // the @Version check: a concurrent writer makes this fail with 412
            audit.append(
                    tenantId,
                    actor,
                    "policy.update",
                    "tenant/" + tenantId + "/policy",
                    AuditLog.Outcome.SUCCESS,
                    "changed: " + String.join(", ", changedFields(before, PolicyDocument.of(p))));
            return p;
        });
    }

    static List<String> changedFields(PolicyDocument a, PolicyDocument b) {
        List<String> out = new ArrayList<>();
        if (!Objects.equals(a.allowedSuids(), b.allowedSuids())) out.add("allowedSuids");
        if (!Objects.equals(a.joseAlgs(), b.joseAlgs())) out.add("joseAlgs");
        if (!Objects.equals(a.joseEncs(), b.joseEncs())) out.add("joseEncs");
        if (!Objects.equals(a.tlsCipherSuites(), b.tlsCipherSuites())) out.add("tlsCipherSuites");
        if (!Objects.equals(a.defaultKeyLifetimeSeconds(), b.defaultKeyLifetimeSeconds()))
            out.add("defaultKeyLifetimeSeconds");
        if (!Objects.equals(a.maxKeyLifetimeSeconds(), b.maxKeyLifetimeSeconds())) out.add("maxKeyLifetimeSeconds");
        if (!Objects.equals(a.maxEsdataTargets(), b.maxEsdataTargets())) out.add("maxEsdataTargets");
        if (!Objects.equals(a.requestQuotaPerSecond(), b.requestQuotaPerSecond())) out.add("requestQuotaPerSecond");
        if (!Objects.equals(a.allowHostMemoryKeys(), b.allowHostMemoryKeys())) out.add("allowHostMemoryKeys");
        if (!Objects.equals(a.requestBurst(), b.requestBurst())) out.add("requestBurst");
        if (!Objects.equals(a.hsmQuotaPerSecond(), b.hsmQuotaPerSecond())) out.add("hsmQuotaPerSecond");
        if (!Objects.equals(a.hsmBurst(), b.hsmBurst())) out.add("hsmBurst");
        if (out.isEmpty()) out.add("nothing");
        return out;
    }
}
