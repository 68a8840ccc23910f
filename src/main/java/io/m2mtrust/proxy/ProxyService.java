package io.m2mtrust.proxy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.m2mtrust.cluster.ReplicaCache;
import io.m2mtrust.cluster.ReplicaCaches;
import io.m2mtrust.common.DatabaseOutage;
import io.m2mtrust.common.QuotaExceededException;
import io.m2mtrust.common.RequestSizeLimit;
import io.m2mtrust.common.ResponseStatusCode;
import io.m2mtrust.common.StrictJson;
import io.m2mtrust.esprim.EsprimReceiver;
import io.m2mtrust.hsm.HsmUnavailableException;
import io.m2mtrust.quota.QuotaBucket;
import io.m2mtrust.quota.TenantQuotas;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * The end-to-end security proxy in front of a tenant's CSE (TS-0001 §11.4.2, TS-0003 §8.4): every primitive
 * passes through unchanged, except Notify requests with {@code securityInfo} to an entity it protects —
 * type 3 gets a receiver rand object (type 4), type 5 (an ESPrim object) is opened, its inner primitive sent
 * to the CSE, and the CSE's response returned protected with the same session key. Entities that require
 * ESPrim refuse plain primitives (4107); the {@code <CSEBase>} and protected {@code <AE>}s get {@code esi}
 * (supported features and the shared rand object) added to their retrieved representation.
 */
@ApplicationScoped
public class ProxyService {

    private static final Logger LOG = Logger.getLogger(ProxyService.class);
    static final ObjectMapper JSON = new ObjectMapper();
    static final int MAX_REQUEST = RequestSizeLimit.ONEM2M_MAX_BODY_BYTES;

    /** An incoming primitive in the HTTP binding. */
    public record Incoming(String method, String path, String query, Map<String, String> headers, byte[] body) {
        String header(String name) {
            for (Map.Entry<String, String> e : headers.entrySet()) {
                if (e.getKey().equalsIgnoreCase(name)) {
                    return e.getValue();
                }
            }
            return null;
        }
    }

    /** An answer in the HTTP binding. */
    /**
     * An answer of the oneM2M HTTP binding. {@code rsc} is the one response status code: it goes out as exactly one
     * {@code X-M2M-RSC} header (TS-0009 §6.4.2), so {@code headers} never carries it; header names are unique
     * ignoring case, so no {@code X-M2M-*} header can be sent twice.
     */
    public record Outgoing(int httpStatus, int rsc, String contentType, byte[] body, Map<String, String> headers) {
        public Outgoing {
            Map<String, String> unique = new java.util.TreeMap<>(String.CASE_INSENSITIVE_ORDER);
            headers.forEach((name, value) -> {
                if (!name.equalsIgnoreCase("X-M2M-RSC")
                        && !name.equalsIgnoreCase("Content-Type")
                        && !name.equalsIgnoreCase("Content-Length")) {
                    unique.putIfAbsent(name, value);
                }
            });
            headers = java.util.Collections.unmodifiableMap(unique);
        }
    }

    private final EntityManager em;
    private final TenantQuotas quotas;
    private final EsprimReceiver receiver;
    private final ProxyOriginator originator;
    private final ProxyEsData esdata;
    private final ProxyReceiver receiving;
    private final ProxyStore store;
    private final CseClient cse;
    private final ReplicaCaches caches;
    private final ReplicaCache<Snapshot> snapshots;

    ProxyService(
            EntityManager em,
            EsprimReceiver receiver,
            ProxyOriginator originator,
            ProxyEsData esdata,
            ProxyReceiver receiving,
            ProxyStore store,
            CseClient cse,
            ReplicaCaches caches,
            TenantQuotas quotas) {
        this.quotas = quotas;
        this.cse = cse;
        this.caches = caches;
        this.snapshots = caches.cache(TOPIC, Duration.ofSeconds(60), 10_000);
        this.store = store;
        this.receiving = receiving;
        this.em = em;
        this.receiver = receiver;
        this.originator = originator;
        this.esdata = esdata;
    }

    /** A plain primitive of a legacy entity behind the proxy for the remote receiver {@code remoteName}: sent as ESPrim. */
    @jakarta.enterprise.context.control.ActivateRequestContext // also from the CoAP binding's workers
    public Outgoing originate(String tenantId, String remoteName, Incoming in) {
        try {
            return originateAdmitted(tenantId, remoteName, in);
        } catch (RuntimeException e) {
            return refusalFor(e, in.header("X-M2M-RI"));
        }
    }

    private Outgoing originateAdmitted(String tenantId, String remoteName, Incoming in) {
        Optional<ProxyConfig> cfg = config(tenantId);
        Optional<ProxyRemote> remote = cfg.isEmpty() ? Optional.empty() : originator.remote(tenantId, remoteName);
        if (remote.isEmpty()) {
            return answer(
                    4004,
                    "no remote receiver " + remoteName + " is configured for this tenant's proxy",
                    in.header("X-M2M-RI"));
        }
        if (in.body() != null && in.body().length > MAX_REQUEST) {
            return answer(4000, "the primitive is larger than " + MAX_REQUEST + " bytes", in.header("X-M2M-RI"));
        }
        quotas.admit(tenantId, QuotaBucket.PROXY); // over quota: refusalFor answers
        return originator.send(tenantId, cfg.get(), remote.get(), in);
    }

    /**
     * A tenant's proxy configuration and protected entities, cached per replica (every primitive needs them); an
     * admin write on any replica drops them everywhere ({@link #invalidate}, ADR 0023).
     */
    private record Snapshot(Optional<ProxyConfig> config, List<ProtectedEntity> entities) {}

    /** The cluster topic of proxy configuration, protected entities and ESData rules. */
    static final String TOPIC = "proxy-config";

    private Snapshot snapshot(String tenantId) {
        return snapshots.get(
                tenantId,
                () -> QuarkusTransaction.requiringNew().call(() -> {
                    ProxyConfig c = em.find(ProxyConfig.class, tenantId);
                    List<ProtectedEntity> e = c == null ? List.of() : store.entities(tenantId);
                    if (c != null) {
                        em.detach(c);
                    }
                    e.forEach(em::detach);
                    return new Snapshot(Optional.ofNullable(c), List.copyOf(e));
                }));
    }

    /**
     * In the transaction of an admin write to the tenant's proxy configuration, entities or ESData rules: every replica
     * forgets what it cached of them, at the commit.
     */
    public void invalidate(String tenantId) {
        caches.changed(TOPIC, tenantId);
    }

    public Optional<ProxyConfig> config(String tenantId) {
        return snapshot(tenantId).config();
    }

    public List<ProtectedEntity> entities(String tenantId) {
        return snapshot(tenantId).entities();
    }

    /**
     * Whether this tenant's proxy protects {@code entityId}, read now (not the snapshot): empty if it does not,
     * otherwise whether plain primitives to it are refused (ESPrim required). Runs inside a transaction.
     */
    public Optional<Boolean> esprimRequiredFor(String tenantId, String entityId) {
        return store.entity(tenantId, entityId).map(e -> e.esprimRequired);
    }

    /** Only CSE-relative addresses below this CSE's base pass (no escaping to other paths of the CSE's server). */
    private static boolean belowCseBase(ProxyConfig cfg, String path) {
        return (path.equals(cfg.cseBase) || path.startsWith(cfg.cseBase + "/"))
                && !path.contains("..")
                && !path.contains("//")
                && !path.contains("%");
    }

    /**
     * The pass-through decided from what this replica holds in memory, without blocking (it runs on the event loop):
     * the tenant's configuration and ESData rules are cached and fresh, the address is below the CSE's base, no
     * protected entity is addressed or contains it, and no ESData rule may apply. Empty otherwise: then {@link
     * #handleAsync} decides on a worker thread, with every check. The same answers either way.
     */
    public Optional<CompletionStage<Outgoing>> passThroughFromMemory(String tenantId, Incoming in) {
        Snapshot snap = snapshots.peek(tenantId);
        if (snap == null || snap.config().isEmpty()) {
            return Optional.empty();
        }
        ProxyConfig cfg = snap.config().get();
        String path = in.path().replaceAll("/+$", "");
        if ((in.body() != null && in.body().length > MAX_REQUEST) || !belowCseBase(cfg, path)) {
            return Optional.empty();
        }
        for (ProtectedEntity e : snap.entities()) {
            if (path.equals(e.resourcePath) || path.startsWith(e.resourcePath + "/")) {
                return Optional.empty(); // ESPrim, ESPrim-only refusals and e2eSecInfo are decided on a worker
            }
        }
        boolean get = "GET".equals(in.method());
        boolean cinCreate = "POST".equals(in.method()) && contentInstanceCreate(in.header("Content-Type"));
        if (cinCreate || get && path.contains("/")) {
            String container = cinCreate ? path : path.substring(0, path.lastIndexOf('/'));
            Optional<ProxyEsData.Rule> rule = esdata.cachedRuleFor(tenantId, container);
            if (rule == null || rule.isPresent()) {
                return Optional.empty();
            }
        }
        // the tenant's proxy quota, from this replica's lease only (no database on the event loop): when the lease
        // needs renewing, the worker path takes the token
        long overQuota = quotas.tryAdmitLocally(tenantId, QuotaBucket.PROXY);
        if (overQuota < 0) {
            return Optional.empty();
        }
        if (overQuota > 0) {
            return Optional.of(done(overQuota("proxy", overQuota, in.header("X-M2M-RI"))));
        }
        String target = path + (in.query() == null || in.query().isEmpty() ? "" : "?" + in.query());
        return Optional.of(cse.sendAsync(
                        cfg.cseUrl, in.method(), target, in.headers(), in.body(), Duration.ofMillis(cfg.timeoutMs))
                .thenApply(a -> new Outgoing(a.httpStatus(), a.rsc(), a.contentType(), a.body(), a.headers())));
    }

    /**
     * {@link #handleAsync} on a worker thread that the resource moved it to, with a request context of its own (the
     * ESPrim and ESCertKE paths read through the request-scoped persistence context). Everything that needs the context
     * is done before this returns; only a plain CSE answer may complete later, and it needs none.
     */
    @jakarta.enterprise.context.control.ActivateRequestContext
    public CompletionStage<Outgoing> handleOnWorker(String tenantId, Incoming in) {
        return handleAsync(tenantId, in);
    }

    /** {@link #handleAsync}, waited for (callers on a worker thread that need the answer in hand). */
    public Outgoing handle(String tenantId, Incoming in) {
        return handleAsync(tenantId, in).toCompletableFuture().join();
    }

    /**
     * A primitive of the binding. Checks, ESPrim and ESData run on the caller's (worker) thread; a primitive that only
     * passes through goes to the CSE on the non-blocking client and its answer comes back on the event loop, so no
     * thread waits for the CSE (issue 18). Answers whose body the proxy changes (the protected entity's e2eSecInfo,
     * ESData opened for a reader) are made on the caller's thread.
     */
    public CompletionStage<Outgoing> handleAsync(String tenantId, Incoming in) {
        String ri = in.header("X-M2M-RI");
        CompletionStage<Outgoing> answer;
        try {
            quotas.admit(tenantId, QuotaBucket.PROXY);
            answer = admitted(tenantId, in);
        } catch (RuntimeException e) {
            answer = CompletableFuture.failedFuture(e);
        }
        return answer.exceptionally(e -> refusalFor(e instanceof CompletionException c ? c.getCause() : e, ri));
    }

    /**
     * The binding's answer to a failure that is the tenant's quota or an outage, not a bug: a quota refusal (the
     * proxy's, or the HSM's during ESPrim, ESCertKE or ESData) is refused before anything that changes the CSE was
     * sent (a retrieve whose answer could not be opened for the reader was only read); an HSM or database outage is
     * HTTP 503 / CoAP 5.03 with Retry-After and RSC 5000 (issue 21). Anything else stays an error (logged, 500).
     */
    static Outgoing refusalFor(Throwable e, String ri) {
        if (e instanceof QuotaExceededException q) {
            return overQuota(q.quota(), q.retryAfterSeconds(), ri);
        }
        if (e instanceof HsmUnavailableException) {
            return unavailable(
                    "the HSM is not available; retry later", HsmUnavailableException.RETRY_AFTER_SECONDS, ri);
        }
        if (DatabaseOutage.causedBy(e)) {
            return unavailable("the database is not reachable; retry later", DatabaseOutage.RETRY_AFTER_SECONDS, ri);
        }
        throw e instanceof RuntimeException r ? r : new CompletionException(e);
    }

    static Outgoing unavailable(String message, long retryAfterSeconds, String ri) {
        Outgoing o = answer(5000, message, ri);
        Map<String, String> h = new LinkedHashMap<>(o.headers());
        h.put("Retry-After", Long.toString(retryAfterSeconds));
        return new Outgoing(503, o.rsc(), o.contentType(), o.body(), h);
    }

    /**
     * oneM2M has no status for a rate limit: the binding says it (HTTP 429 / CoAP 4.29 with Retry-After / Max-Age) and
     * the RSC is 5000, as for the proxy's other "busy" refusals (admission, ESCertKE handshakes in progress; ADR 0026).
     */
    static Outgoing overQuota(String quota, long retryAfterSeconds, String ri) {
        Outgoing o = answer(5000, "the tenant is over its " + quota + " quota; retry later", ri);
        Map<String, String> h = new LinkedHashMap<>(o.headers());
        h.put("Retry-After", Long.toString(retryAfterSeconds));
        return new Outgoing(429, o.rsc(), o.contentType(), o.body(), h);
    }

    private CompletionStage<Outgoing> admitted(String tenantId, Incoming in) {
        Optional<ProxyConfig> cfg = config(tenantId);
        if (cfg.isEmpty()) {
            return done(answer(4004, "no proxy is configured for this tenant", in.header("X-M2M-RI")));
        }
        if (in.body() != null && in.body().length > MAX_REQUEST) {
            return done(answer(4000, "the primitive is larger than " + MAX_REQUEST + " bytes", in.header("X-M2M-RI")));
        }
        List<ProtectedEntity> protectedEntities = entities(tenantId);
        String path = in.path().replaceAll("/+$", "");
        if (!belowCseBase(cfg.get(), path)) {
            // only CSE-relative addresses below this CSE's base pass (no escaping to other paths of the CSE's server)
            return done(answer(
                    4004,
                    "not a resource of " + cfg.get().cseBase + " (use CSE-relative addresses)",
                    in.header("X-M2M-RI")));
        }
        Optional<ProtectedEntity> addressed = protectedEntities.stream()
                .filter(e -> e.resourcePath.equals(path))
                .findFirst();
        boolean notify = "POST".equals(in.method()) && !hasResourceType(in.header("Content-Type"));
        if (notify && addressed.isPresent()) {
            Map<String, Object> seci = securityInfo(in.body());
            if (seci != null) {
                return done(receiving.securityInfo(tenantId, cfg.get(), addressed.get(), in, seci));
            }
        }
        for (ProtectedEntity e : protectedEntities) {
            if (e.esprimRequired && (path.equals(e.resourcePath) || path.startsWith(e.resourcePath + "/"))) {
                return done(answer(
                        4107,
                        e.entityId + " accepts ESPrim only (SECURITY_ASSOCIATION_REQUIRED)",
                        in.header("X-M2M-RI")));
            }
        }
        byte[] requestBody = in.body();
        if ("POST".equals(in.method()) && contentInstanceCreate(in.header("Content-Type"))) {
            Optional<ProxyEsData.Rule> rule = esdata.ruleFor(tenantId, path);
            if (rule.isPresent()) {
                ProxyEsData.Protected p = esdata.protectCreate(tenantId, rule.get(), requestBody);
                if (p.body() == null) {
                    return done(answer(p.rsc(), p.problem(), in.header("X-M2M-RI")));
                }
                requestBody = p.body();
            }
        }
        String target = path + (in.query() == null || in.query().isEmpty() ? "" : "?" + in.query());
        Duration timeout = Duration.ofMillis(cfg.get().timeoutMs);
        boolean get = "GET".equals(in.method());
        Optional<ProxyEsData.Rule> readRule = get && path.contains("/")
                ? esdata.ruleFor(tenantId, path.substring(0, path.lastIndexOf('/')))
                : Optional.empty();
        if (!(get && addressed.isPresent()) && readRule.isEmpty()) {
            // a plain pass-through: nothing of the answer is changed here
            return cse.sendAsync(cfg.get().cseUrl, in.method(), target, in.headers(), requestBody, timeout)
                    .thenApply(a -> new Outgoing(a.httpStatus(), a.rsc(), a.contentType(), a.body(), a.headers()));
        }
        CseClient.Answer a = cse.send(cfg.get().cseUrl, in.method(), target, in.headers(), requestBody, timeout);
        byte[] body = a.body();
        if (addressed.isPresent() && a.rsc() == 2000) {
            body = receiving.withE2eSecInfo(tenantId, cfg.get(), addressed.get(), body);
        }
        if (readRule.isPresent() && a.rsc() == 2000) {
            body = esdata.openForReader(tenantId, readRule.get(), in.header("X-M2M-Origin"), body);
        }
        return done(new Outgoing(a.httpStatus(), a.rsc(), a.contentType(), body, a.headers()));
    }

    private static CompletionStage<Outgoing> done(Outgoing o) {
        return CompletableFuture.completedFuture(o);
    }

    /** The CSE-relative path of a To on this CSE (CSE-relative, SP-relative {@code /cse-id/...}, or absolute {@code //sp/cse-id/...}). */
    static String cseRelative(ProxyConfig cfg, String to) {
        if (to == null
                || to.isBlank()
                || to.length() > 500
                || to.contains("..")
                || to.contains("?")
                || to.contains("#")) {
            return null;
        }
        String t = to;
        if (t.startsWith("//")) {
            int slash = t.indexOf('/', 2);
            if (slash < 0) {
                return null;
            }
            t = t.substring(slash);
        }
        if (t.startsWith("/")) {
            if (!(t.equals(cfg.cseId) || t.startsWith(cfg.cseId + "/"))) {
                return null;
            }
            t = t.equals(cfg.cseId) ? cfg.cseBase : t.substring(cfg.cseId.length() + 1);
        }
        if (t.startsWith("~/") || t.startsWith("_/")) {
            return null;
        }
        return t.equals(cfg.cseBase) || t.startsWith(cfg.cseBase + "/") ? t : null;
    }

    // ---------------------------------------------------------------- helpers

    static boolean contentInstanceCreate(String contentType) {
        return contentType != null && contentType.replace(" ", "").toLowerCase().matches(".*;ty=4(;.*)?$");
    }

    static boolean hasResourceType(String contentType) {
        return contentType != null && contentType.replace(" ", "").toLowerCase().contains(";ty=");
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> securityInfo(byte[] body) {
        if (body == null || body.length == 0) {
            return null;
        }
        try {
            Map<String, Object> doc = StrictJson.object(body);
            Object seci = doc.get("m2m:seci");
            return seci instanceof Map ? (Map<String, Object>) seci : null;
        } catch (java.io.IOException e) {
            return null;
        }
    }

    static Outgoing answer(int rsc, String message, String ri) {
        Map<String, String> h = new LinkedHashMap<>();
        if (ri != null) {
            h.put("X-M2M-RI", ri);
        }
        return new Outgoing(ResponseStatusCode.httpStatusOf(rsc), rsc, "application/json", debugBody(message), h);
    }

    static Outgoing json(int rsc, Object doc, String ri) {
        Map<String, String> h = new LinkedHashMap<>();
        if (ri != null) {
            h.put("X-M2M-RI", ri);
        }
        try {
            return new Outgoing(
                    ResponseStatusCode.httpStatusOf(rsc), rsc, "application/json", JSON.writeValueAsBytes(doc), h);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code {"m2m:dbg": message}}: the oneM2M debug information of an error answer. */
    static byte[] debugBody(String message) {
        try {
            return JSON.writeValueAsBytes(Map.of("m2m:dbg", message));
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
