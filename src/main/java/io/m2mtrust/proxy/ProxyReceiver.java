package io.m2mtrust.proxy;

import io.m2mtrust.common.ResponseStatusCode;
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
 * The proxy as the receiver of protected entities: securityInfo requests (TS-0004 §7.5.1.2.11 rand objects),
 * ESCertKE messages it terminates, ESPrim objects it opens and answers (TS-0003 §8.4.2), and the e2eSecInfo it
 * advertises for each protected entity.
 */
@ApplicationScoped
public class ProxyReceiver {

    private static final Logger LOG = Logger.getLogger(ProxyReceiver.class);

    private final EsprimReceiver receiver;
    private final ProxyEsData esdata;
    private final PolicyService policies;
    private final EscertkeService escertke;
    private final ProxyService proxy;
    private final ProxyStore store;
    private final CseClient cse;

    ProxyReceiver(
            EsprimReceiver receiver,
            ProxyEsData esdata,
            PolicyService policies,
            EscertkeService escertke,
            ProxyService proxy,
            ProxyStore store,
            CseClient cse) {
        this.cse = cse;
        this.store = store;
        this.receiver = receiver;
        this.esdata = esdata;
        this.policies = policies;
        this.escertke = escertke;
        this.proxy = proxy;
    }

    // ---------------------------------------------------------------- securityInfo (Notify to a protected entity)

    ProxyService.Outgoing securityInfo(
            String tenantId,
            ProxyConfig cfg,
            ProtectedEntity entity,
            ProxyService.Incoming in,
            Map<String, Object> seci) {
        String ri = in.header("X-M2M-RI");
        Object sit = seci.get("sit");
        if (!(sit instanceof Number n)) {
            return ProxyService.answer(4000, "securityInfo without a securityInfoType", ri);
        }
        switch (n.intValue()) {
            case 3 -> {
                if (seci.size() != 1) {
                    return ProxyService.answer(4000, "a receiverESPrimRandObject request carries no other element", ri);
                }
                String origin = origin(in);
                if (origin == null) {
                    return ProxyService.answer(4000, "X-M2M-Origin is required", ri);
                }
                RandObject r;
                try {
                    r = receiver.issueFor(
                            tenantId, entity.entityId, origin, Duration.ofSeconds(cfg.randLifetimeSeconds));
                } catch (EsprimError e) {
                    return ProxyService.answer(e.rsc, e.getMessage(), ri);
                }
                Map<String, Object> out = Map.of("m2m:seci", Map.of("sit", 4, "ero", r.toJson(true)));
                return ProxyService.json(2000, out, ri);
            }
            case 5 -> {
                if (!(seci.get("epo") instanceof String epo)) {
                    return ProxyService.answer(4000, "an ESPrim object (epo) is required with securityInfoType 5", ri);
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
                return new ProxyService.Outgoing(a.httpStatus(), a.rsc(), a.contentType(), a.body(), a.headers());
            }
            default -> {
                return ProxyService.answer(4000, "unknown securityInfoType " + n.intValue(), ri);
            }
        }
    }

    /** The request's originator (X-M2M-Origin); null when missing, blank or longer than 200 characters. */
    private static String origin(ProxyService.Incoming in) {
        String origin = in.header("X-M2M-Origin");
        return origin == null || origin.isBlank() || origin.length() > 200 ? null : origin;
    }

    /** ESCertKE message 1 or 3 to a protected entity (TS-0004 §7.5.1.2.12): answered with message 2 or 4 in the response content. */
    private ProxyService.Outgoing escertke(
            String tenantId,
            ProxyConfig cfg,
            ProtectedEntity entity,
            ProxyService.Incoming in,
            Map<String, Object> seci) {
        String ri = in.header("X-M2M-RI");
        String origin = origin(in);
        if (origin == null) {
            return ProxyService.answer(4000, "X-M2M-Origin is required", ri);
        }
        if (seci.size() != 2 || !(seci.get("eckm") instanceof String eckm)) {
            return ProxyService.answer(
                    4000,
                    "an ESCertKE message (eckm, base64) and nothing else is required with securityInfoType 6",
                    ri);
        }
        byte[] message;
        try {
            message = java.util.Base64.getDecoder().decode(eckm);
        } catch (IllegalArgumentException e) {
            return ProxyService.answer(4000, "the ESCertKE message is not base64", ri);
        }
        EscertkeService.Step step = escertke.terminate(tenantId, cfg.spId, cfg.cseId, entity.entityId, origin, message);
        if (!step.ok()) {
            LOG.debugf("ESCertKE refused for %s from %s: %d %s", entity.entityId, origin, step.rsc(), step.problem());
            return ProxyService.answer(step.rsc(), step.problem(), ri);
        }
        return ProxyService.json(
                2000,
                Map.of(
                        "m2m:seci",
                        Map.of("sit", 6, "eckm", java.util.Base64.getEncoder().encodeToString(step.reply()))),
                ri);
    }

    private ProxyService.Outgoing esprim(
            String tenantId, ProxyConfig cfg, ProtectedEntity entity, String epo, String ri) {
        EsprimReceiver.Opened o;
        try {
            o = receiver.open(tenantId, entity.entityId, epo);
        } catch (EsprimError e) {
            LOG.debugf("ESPrim refused for %s: %d %s", entity.entityId, e.rsc, e.getMessage());
            return ProxyService.answer(e.rsc, e.getMessage(), ri); // unsecured error: no session key could be trusted
        }
        try (o) {
            RequestPrimitive inner = o.inner();
            Operation op = inner.operation();
            String target = ProxyService.cseRelative(cfg, inner.to());
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
                body = ProxyService.JSON.writeValueAsBytes(inner.content());
                headers.put(
                        "Content-Type",
                        "application/json"
                                + (op == Operation.CREATE && inner.resourceType() != null
                                        ? ";ty=" + inner.resourceType()
                                        : ""));
                if (op == Operation.CREATE && ProxyService.contentInstanceCreate(headers.get("Content-Type"))) {
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
                    pc = ProxyService.JSON.readValue(answerBody, Object.class);
                } catch (java.io.IOException notJson) {
                    pc = Map.of("m2m:dbg", new String(answerBody, StandardCharsets.UTF_8));
                }
            }
            return protectedAnswer(o, ResponsePrimitive.answering(inner, a.rsc(), pc), ri);
        } catch (EsprimError e) {
            return ProxyService.answer(e.rsc, e.getMessage(), ri);
        } catch (java.io.IOException e) {
            return ProxyService.answer(5000, "the inner primitive could not be serialised", ri);
        }
    }

    private ProxyService.Outgoing protectedAnswer(EsprimReceiver.Opened o, ResponsePrimitive innerResponse, String ri)
            throws EsprimError {
        try {
            String epo = receiver.protectResponse(
                    o, ProxyService.JSON.writeValueAsBytes(PrimitiveCodec.write(innerResponse)));
            return ProxyService.json(2000, Map.of("m2m:seci", Map.of("sit", 5, "epo", epo)), ri);
        } catch (java.io.IOException e) {
            throw new EsprimError(EsprimError.ENCRYPTION_ERROR, "the inner response could not be serialised");
        }
    }

    // ---------------------------------------------------------------- e2eSecInfo

    /** Adds {@code esi} to a retrieved {@code <CSEBase>} ({@code m2m:cb}) or {@code <AE>} ({@code m2m:ae}) representation. */
    @SuppressWarnings("unchecked")
    byte[] withE2eSecInfo(String tenantId, ProxyConfig cfg, ProtectedEntity entity, byte[] body) {
        try {
            Map<String, Object> doc = ProxyService.JSON.readValue(body, Map.class);
            String key = doc.containsKey("m2m:cb") ? "m2m:cb" : doc.containsKey("m2m:ae") ? "m2m:ae" : null;
            if (key == null || !(doc.get(key) instanceof Map)) {
                return body;
            }
            ((Map<String, Object>) doc.get(key)).put("esi", e2eSecInfo(tenantId, cfg, entity));
            return ProxyService.JSON.writeValueAsBytes(doc);
        } catch (java.io.IOException e) {
            return body;
        }
    }

    /** m2m:e2eSecInfo: the ESPrim SUIDs the tenant allows (13, 23, 33; 43–45 with ESCertKE) and the shared receiver rand object. */
    public Map<String, Object> e2eSecInfo(String tenantId, ProxyConfig cfg, ProtectedEntity entity) {
        List<Integer> esf = new ArrayList<>();
        TenantPolicy policy = policies.current(tenantId);
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
        List<ProtectedEntity> all = QuarkusTransaction.requiringNew().call(() -> store.allEntities());
        int issued = 0;
        for (ProtectedEntity e : all) {
            Optional<ProxyConfig> cfg = proxy.config(e.tenantId);
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
}
