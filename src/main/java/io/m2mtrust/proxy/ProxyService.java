package io.m2mtrust.proxy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.m2mtrust.common.RequestSizeLimit;
import io.m2mtrust.common.ResponseStatusCode;
import io.m2mtrust.common.StrictJson;
import io.m2mtrust.escertke.EscertkeService;
import io.m2mtrust.esprim.EsprimError;
import io.m2mtrust.esprim.EsprimReceiver;
import io.m2mtrust.esprim.Operation;
import io.m2mtrust.esprim.PrimitiveCodec;
import io.m2mtrust.esprim.RandObject;
import io.m2mtrust.esprim.RequestPrimitive;
import io.m2mtrust.esprim.ResponsePrimitive;
import io.m2mtrust.policy.PolicyService;
import io.m2mtrust.policy.TenantPolicy;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import org.jboss.logging.Logger;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

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
    private final EsprimReceiver receiver;
    private final ProxyOriginator originator;
    private final ProxyEsData esdata;
    private final PolicyService policies;
    private final EscertkeService escertke;
    private final CseClient cse = new CseClient();

    ProxyService(
            EntityManager em,
            EsprimReceiver receiver,
            ProxyOriginator originator,
            ProxyEsData esdata,
            PolicyService policies,
            EscertkeService escertke) {
        this.em = em;
        this.escertke = escertke;
        this.receiver = receiver;
        this.originator = originator;
        this.esdata = esdata;
        this.policies = policies;
    }

    /** A plain primitive of a legacy entity behind the proxy for the remote receiver {@code remoteName}: sent as ESPrim. */
    public Outgoing originate(String tenantId, String remoteName, Incoming in) {
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
        return originator.send(tenantId, cfg.get(), remote.get(), in);
    }

    /**
     * A tenant's proxy configuration and protected entities, read at most every {@link #CONFIG_TTL} per replica
     * (every primitive needs them); this replica's admin writes {@link #invalidate} at once, other replicas
     * follow within the TTL.
     */
    private record Snapshot(Optional<ProxyConfig> config, List<ProtectedEntity> entities, long readAt) {}

    static final long CONFIG_TTL_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
    private final java.util.concurrent.ConcurrentHashMap<String, Snapshot> snapshots =
            new java.util.concurrent.ConcurrentHashMap<>();

    private Snapshot snapshot(String tenantId) {
        Snapshot s = snapshots.get(tenantId);
        if (s != null && System.nanoTime() - s.readAt() < CONFIG_TTL_NANOS) {
            return s;
        }
        Snapshot fresh = QuarkusTransaction.requiringNew().call(() -> {
            ProxyConfig c = em.find(ProxyConfig.class, tenantId);
            List<ProtectedEntity> e = c == null
                    ? List.of()
                    : em.createQuery(
                                    "from ProtectedEntity where tenantId = ?1 order by entityId", ProtectedEntity.class)
                            .setParameter(1, tenantId)
                            .getResultList();
            if (c != null) {
                em.detach(c);
            }
            e.forEach(em::detach);
            return new Snapshot(Optional.ofNullable(c), List.copyOf(e), System.nanoTime());
        });
        if (snapshots.size() > 10_000) {
            snapshots.clear();
        }
        snapshots.put(tenantId, fresh);
        return fresh;
    }

    /** Forget the cached configuration of a tenant (its admin changed it). */
    public void invalidate(String tenantId) {
        snapshots.remove(tenantId);
        esdata.invalidate(tenantId);
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
        return em.createQuery("from ProtectedEntity where tenantId = ?1 and entityId = ?2", ProtectedEntity.class)
                .setParameter(1, tenantId)
                .setParameter(2, entityId)
                .getResultStream()
                .findFirst()
                .map(e -> e.esprimRequired);
    }

    public Outgoing handle(String tenantId, Incoming in) {
        Optional<ProxyConfig> cfg = config(tenantId);
        if (cfg.isEmpty()) {
            return answer(4004, "no proxy is configured for this tenant", in.header("X-M2M-RI"));
        }
        if (in.body() != null && in.body().length > MAX_REQUEST) {
            return answer(4000, "the primitive is larger than " + MAX_REQUEST + " bytes", in.header("X-M2M-RI"));
        }
        List<ProtectedEntity> protectedEntities = entities(tenantId);
        String path = in.path().replaceAll("/+$", "");
        if (!(path.equals(cfg.get().cseBase) || path.startsWith(cfg.get().cseBase + "/"))
                || path.contains("..")
                || path.contains("//")
                || path.contains("%")) {
            // only CSE-relative addresses below this CSE's base pass (no escaping to other paths of the CSE's server)
            return answer(
                    4004,
                    "not a resource of " + cfg.get().cseBase + " (use CSE-relative addresses)",
                    in.header("X-M2M-RI"));
        }
        Optional<ProtectedEntity> addressed = protectedEntities.stream()
                .filter(e -> e.resourcePath.equals(path))
                .findFirst();
        boolean notify = "POST".equals(in.method()) && !hasResourceType(in.header("Content-Type"));
        if (notify && addressed.isPresent()) {
            Map<String, Object> seci = securityInfo(in.body());
            if (seci != null) {
                return securityInfo(tenantId, cfg.get(), addressed.get(), in, seci);
            }
        }
        for (ProtectedEntity e : protectedEntities) {
            if (e.esprimRequired && (path.equals(e.resourcePath) || path.startsWith(e.resourcePath + "/"))) {
                return answer(
                        4107,
                        e.entityId + " accepts ESPrim only (SECURITY_ASSOCIATION_REQUIRED)",
                        in.header("X-M2M-RI"));
            }
        }
        byte[] requestBody = in.body();
        if ("POST".equals(in.method()) && contentInstanceCreate(in.header("Content-Type"))) {
            Optional<ProxyEsData.Rule> rule = esdata.ruleFor(tenantId, path);
            if (rule.isPresent()) {
                ProxyEsData.Protected p = esdata.protectCreate(tenantId, rule.get(), requestBody);
                if (p.body() == null) {
                    return answer(p.rsc(), p.problem(), in.header("X-M2M-RI"));
                }
                requestBody = p.body();
            }
        }
        CseClient.Answer a = cse.send(
                cfg.get().cseUrl,
                in.method(),
                path + (in.query() == null || in.query().isEmpty() ? "" : "?" + in.query()),
                in.headers(),
                requestBody,
                Duration.ofMillis(cfg.get().timeoutMs));
        byte[] body = a.body();
        if ("GET".equals(in.method()) && addressed.isPresent() && a.rsc() == 2000) {
            body = withE2eSecInfo(tenantId, cfg.get(), addressed.get(), body);
        }
        if ("GET".equals(in.method()) && a.rsc() == 2000 && path.contains("/")) {
            Optional<ProxyEsData.Rule> rule = esdata.ruleFor(tenantId, path.substring(0, path.lastIndexOf('/')));
            if (rule.isPresent()) {
                body = esdata.openForReader(tenantId, rule.get(), in.header("X-M2M-Origin"), body);
            }
        }
        return new Outgoing(a.httpStatus(), a.rsc(), a.contentType(), body, a.headers());
    }

    // ---------------------------------------------------------------- securityInfo (Notify to a protected entity)

    private Outgoing securityInfo(
            String tenantId, ProxyConfig cfg, ProtectedEntity entity, Incoming in, Map<String, Object> seci) {
        String ri = in.header("X-M2M-RI");
        Object sit = seci.get("sit");
        if (!(sit instanceof Number n)) {
            return answer(4000, "securityInfo without a securityInfoType", ri);
        }
        switch (n.intValue()) {
            case 3 -> {
                if (seci.size() != 1) {
                    return answer(4000, "a receiverESPrimRandObject request carries no other element", ri);
                }
                String origin = in.header("X-M2M-Origin");
                if (origin == null || origin.isBlank() || origin.length() > 200) {
                    return answer(4000, "X-M2M-Origin is required", ri);
                }
                RandObject r;
                try {
                    r = receiver.issueFor(
                            tenantId, entity.entityId, origin, Duration.ofSeconds(cfg.randLifetimeSeconds));
                } catch (EsprimError e) {
                    return answer(e.rsc, e.getMessage(), ri);
                }
                Map<String, Object> out = Map.of("m2m:seci", Map.of("sit", 4, "ero", r.toJson(true)));
                return json(2000, out, ri);
            }
            case 5 -> {
                if (!(seci.get("epo") instanceof String epo)) {
                    return answer(4000, "an ESPrim object (epo) is required with securityInfoType 5", ri);
                }
                return esprim(tenantId, cfg, entity, epo, ri);
            }
            case 6 -> {
                return escertke(tenantId, cfg, entity, in, seci);
            }
            case 1, 2, 4, 7, 8 -> {
                // dynamic authorization and the rest are the CSE's business
                CseClient.Answer a = cse.send(
                        cfg.cseUrl, in.method(), in.path(), in.headers(), in.body(), Duration.ofMillis(cfg.timeoutMs));
                return new Outgoing(a.httpStatus(), a.rsc(), a.contentType(), a.body(), a.headers());
            }
            default -> {
                return answer(4000, "unknown securityInfoType " + n.intValue(), ri);
            }
        }
    }

    /** ESCertKE message 1 or 3 to a protected entity (TS-0004 §7.5.1.2.12): answered with message 2 or 4 in the response content. */
    private Outgoing escertke(
            String tenantId, ProxyConfig cfg, ProtectedEntity entity, Incoming in, Map<String, Object> seci) {
        String ri = in.header("X-M2M-RI");
        String origin = in.header("X-M2M-Origin");
        if (origin == null || origin.isBlank() || origin.length() > 200) {
            return answer(4000, "X-M2M-Origin is required", ri);
        }
        if (seci.size() != 2 || !(seci.get("eckm") instanceof String eckm)) {
            return answer(
                    4000,
                    "an ESCertKE message (eckm, base64) and nothing else is required with securityInfoType 6",
                    ri);
        }
        byte[] message;
        try {
            message = java.util.Base64.getDecoder().decode(eckm);
        } catch (IllegalArgumentException e) {
            return answer(4000, "the ESCertKE message is not base64", ri);
        }
        EscertkeService.Step step = escertke.terminate(tenantId, cfg.spId, cfg.cseId, entity.entityId, origin, message);
        if (!step.ok()) {
            LOG.debugf("ESCertKE refused for %s from %s: %d %s", entity.entityId, origin, step.rsc(), step.problem());
            return answer(step.rsc(), step.problem(), ri);
        }
        return json(
                2000,
                Map.of(
                        "m2m:seci",
                        Map.of("sit", 6, "eckm", java.util.Base64.getEncoder().encodeToString(step.reply()))),
                ri);
    }

    private Outgoing esprim(String tenantId, ProxyConfig cfg, ProtectedEntity entity, String epo, String ri) {
        EsprimReceiver.Opened o;
        try {
            o = receiver.open(tenantId, entity.entityId, epo);
        } catch (EsprimError e) {
            LOG.debugf("ESPrim refused for %s: %d %s", entity.entityId, e.rsc, e.getMessage());
            return answer(e.rsc, e.getMessage(), ri); // unsecured error: no session key could be trusted
        }
        try (o) {
            RequestPrimitive inner = o.inner();
            Operation op = inner.operation();
            String target = cseRelative(cfg, inner.to());
            if (target == null) {
                return protectedAnswer(
                        o,
                        ResponsePrimitive.answering(
                                inner,
                                ResponseStatusCode.NOT_FOUND.code(),
                                Map.of("m2m:dbg", "the inner To is not on this CSE")),
                        ri);
            }
            Map<String, String> headers = new LinkedHashMap<>();
            headers.put("X-M2M-Origin", o.from());
            headers.put("X-M2M-RI", inner.requestId());
            headers.put("X-M2M-RVI", inner.releaseVersion());
            headers.put("Accept", "application/json");
            byte[] body = null;
            if (inner.content() != null && op.carriesContent()) {
                body = JSON.writeValueAsBytes(inner.content());
                headers.put(
                        "Content-Type",
                        "application/json"
                                + (op == Operation.CREATE && inner.resourceType() != null
                                        ? ";ty=" + inner.resourceType()
                                        : ""));
                if (op == Operation.CREATE && contentInstanceCreate(headers.get("Content-Type"))) {
                    Optional<ProxyEsData.Rule> rule = esdata.ruleFor(tenantId, target);
                    if (rule.isPresent()) {
                        ProxyEsData.Protected p = esdata.protectCreate(tenantId, rule.get(), body);
                        if (p.body() == null) {
                            return protectedAnswer(
                                    o, ResponsePrimitive.answering(inner, p.rsc(), Map.of("m2m:dbg", p.problem())), ri);
                        }
                        body = p.body();
                    }
                }
            }
            CseClient.Answer a =
                    cse.send(cfg.cseUrl, op.httpMethod(), target, headers, body, Duration.ofMillis(cfg.timeoutMs));
            byte[] answerBody = a.body();
            if (op == Operation.RETRIEVE && a.rsc() == ResponseStatusCode.OK.code() && target.contains("/")) {
                Optional<ProxyEsData.Rule> rule =
                        esdata.ruleFor(tenantId, target.substring(0, target.lastIndexOf('/')));
                if (rule.isPresent()) {
                    answerBody = esdata.openForReader(tenantId, rule.get(), o.from(), answerBody);
                }
            }
            Object pc = null;
            if (answerBody != null && answerBody.length > 0) {
                try {
                    pc = JSON.readValue(answerBody, Object.class);
                } catch (java.io.IOException notJson) {
                    pc = Map.of("m2m:dbg", new String(answerBody, StandardCharsets.UTF_8));
                }
            }
            return protectedAnswer(o, ResponsePrimitive.answering(inner, a.rsc(), pc), ri);
        } catch (EsprimError e) {
            return answer(e.rsc, e.getMessage(), ri);
        } catch (java.io.IOException e) {
            return answer(5000, "the inner primitive could not be serialised", ri);
        }
    }

    private Outgoing protectedAnswer(EsprimReceiver.Opened o, ResponsePrimitive innerResponse, String ri)
            throws EsprimError {
        try {
            String epo = receiver.protectResponse(o, JSON.writeValueAsBytes(PrimitiveCodec.write(innerResponse)));
            return json(2000, Map.of("m2m:seci", Map.of("sit", 5, "epo", epo)), ri);
        } catch (java.io.IOException e) {
            throw new EsprimError(EsprimError.ENCRYPTION_ERROR, "the inner response could not be serialised");
        }
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

    // ---------------------------------------------------------------- e2eSecInfo

    /** Adds {@code esi} to a retrieved {@code <CSEBase>} ({@code m2m:cb}) or {@code <AE>} ({@code m2m:ae}) representation. */
    @SuppressWarnings("unchecked")
    private byte[] withE2eSecInfo(String tenantId, ProxyConfig cfg, ProtectedEntity entity, byte[] body) {
        try {
            Map<String, Object> doc = JSON.readValue(body, Map.class);
            String key = doc.containsKey("m2m:cb") ? "m2m:cb" : doc.containsKey("m2m:ae") ? "m2m:ae" : null;
            if (key == null || !(doc.get(key) instanceof Map)) {
                return body;
            }
            ((Map<String, Object>) doc.get(key)).put("esi", e2eSecInfo(tenantId, cfg, entity));
            return JSON.writeValueAsBytes(doc);
        } catch (java.io.IOException e) {
            return body;
        }
    }

    /** m2m:e2eSecInfo: the ESPrim SUIDs the tenant allows (13, 23, 33; 43–45 with ESCertKE) and the shared receiver rand object. */
    public Map<String, Object> e2eSecInfo(String tenantId, ProxyConfig cfg, ProtectedEntity entity) {
        List<Integer> esf = new ArrayList<>();
        TenantPolicy policy = policies.get(tenantId);
        List<Integer> allowed = Arrays.asList(policy.allowedSuids);
        for (int s : new int[] {13, 23, 33}) {
            if (allowed.contains(s)) {
                esf.add(s);
            }
        }
        if (escertke.supports(policy, cfg.spId, cfg.cseId, entity.entityId)) {
            // ESCertKE: keys from a certificate-based handshake, for ESPrim (43) and ESData (44, 45) (digest §8)
            for (int s : new int[] {43, 44, 45}) {
                if (allowed.contains(s)) {
                    esf.add(s);
                }
            }
        }
        Map<String, Object> esi = new LinkedHashMap<>();
        esi.put("esf", esf);
        Duration lifetime = Duration.ofSeconds(cfg.randLifetimeSeconds);
        RandObject shared = receiver.currentShared(tenantId, entity.entityId, lifetime.dividedBy(4))
                .orElseGet(() -> receiver.issue(tenantId, entity.entityId, null, lifetime));
        esi.put("esro", shared.toJson(true));
        return esi;
    }

    /**
     * Keeps a shared receiver rand object ready for every protected entity: a new one once the current one
     * has less than a quarter of its lifetime left (the old one stays valid until it expires, so sessions on
     * it continue).
     */
    public int refreshSharedRands() {
        List<ProtectedEntity> all = QuarkusTransaction.requiringNew()
                .call(() -> em.createQuery("from ProtectedEntity", ProtectedEntity.class)
                        .getResultList());
        int issued = 0;
        for (ProtectedEntity e : all) {
            Optional<ProxyConfig> cfg = config(e.tenantId);
            if (cfg.isEmpty()) {
                continue;
            }
            Duration lifetime = Duration.ofSeconds(cfg.get().randLifetimeSeconds);
            if (receiver.currentShared(e.tenantId, e.entityId, lifetime.dividedBy(4))
                    .isEmpty()) {
                receiver.issue(e.tenantId, e.entityId, null, lifetime);
                issued++;
            }
        }
        return issued;
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
