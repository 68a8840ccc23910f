package io.m2mtrust.proxy;

import io.m2mtrust.cluster.ReplicaCache;
import io.m2mtrust.cluster.ReplicaCaches;
import io.m2mtrust.esdata.EndpointService;
import io.m2mtrust.esdata.EsDataService;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * ESData by tenant policy in the proxy (TS-0003 §8.5; TS-0004 m2m:contentInfo): a {@code <contentInstance>}
 * created through the proxy in a container a rule names gets its {@code con} protected as the rule's
 * service-held end-point (signature in the HSM, encryption for target certificates or keys, or nested) and
 * its {@code cnf} suffixed with the contentSecurity (1 compact, 2 JSON, 3 base64 JSON). A retrieval of such
 * an instance by a listed reader returns it verified/decrypted (as the reader's end-point, {@code cnf} without
 * the suffix); everyone else gets the envelope as stored.
 */
@ApplicationScoped
public class ProxyEsData {

    /** One reader: the originator it is recognised by, and the service-held end-point that opens for it. */
    public record Reader(String originator, String endpoint) {}

    /** What to apply: the protecting end-point and options, and who may read in the clear. */
    public record Rule(
            String endpoint,
            Boolean sign,
            List<String> encryptForCertificatesOf,
            List<String> encryptFor,
            Integer contentSecurity,
            List<Reader> readers) {
        int cs() {
            return contentSecurity == null ? 1 : contentSecurity;
        }
    }

    private final EndpointService endpoints;
    private final ProxyStore store;

    /**
     * A tenant's rules by container path, cached per replica; an admin write on any replica drops them everywhere
     * (the proxy configuration's cluster topic, ADR 0023).
     */
    private final ReplicaCache<Map<String, Rule>> rules;

    ProxyEsData(EndpointService endpoints, ProxyStore store, ReplicaCaches caches) {
        this.store = store;
        this.endpoints = endpoints;
        this.rules = caches.cache(ProxyService.TOPIC, Duration.ofSeconds(60), 10_000);
    }

    public Optional<Rule> ruleFor(String tenantId, String containerPath) {
        Map<String, Rule> r = rules.get(tenantId, () -> {
            Map<String, Rule> m = new java.util.HashMap<>();
            QuarkusTransaction.requiringNew()
                    .run(() ->
                            store.esdataRules(tenantId).stream().forEach(x -> m.put(x.containerPath, parse(x.rule))));
            return Map.copyOf(m);
        });
        return Optional.ofNullable(r.get(containerPath));
    }

    /** {@link #ruleFor} from the cache alone, never blocking: null when the tenant's rules are not cached (fresh). */
    Optional<Rule> cachedRuleFor(String tenantId, String containerPath) {
        Map<String, Rule> r = rules.peek(tenantId);
        return r == null ? null : Optional.ofNullable(r.get(containerPath));
    }

    static Rule parse(String json) {
        try {
            return ProxyService.JSON.readValue(json, Rule.class);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("stored ESData rule is not readable", e);
        }
    }

    /** The outcome of protecting a create: the new body, or a oneM2M refusal. */
    public record Protected(byte[] body, int rsc, String problem) {}

    /** Protects {@code con} of an {@code m2m:cin} create for the container's rule; the body is returned unchanged when it has no {@code con}. */
    @SuppressWarnings("unchecked")
    public Protected protectCreate(String tenantId, Rule rule, byte[] body) {
        Map<String, Object> doc;
        try {
            doc = ProxyService.JSON.readValue(body, Map.class);
        } catch (java.io.IOException e) {
            return new Protected(null, 4000, "the content instance is not JSON");
        }
        if (!(doc.get("m2m:cin") instanceof Map<?, ?> cinRaw)) {
            return new Protected(null, 4000, "expected m2m:cin");
        }
        Map<String, Object> cin = new LinkedHashMap<>((Map<String, Object>) cinRaw);
        Object con = cin.get("con");
        if (con == null) {
            return new Protected(body, 0, null);
        }
        String cnf = cin.get("cnf") instanceof String s ? s : "text/plain:0";
        if (cnf.split(":").length > 2) {
            return new Protected(null, 4000, "the content is already marked as protected (cnf " + cnf + ")");
        }
        byte[] plain;
        try {
            plain = con instanceof String s
                    ? s.getBytes(StandardCharsets.UTF_8)
                    : ProxyService.JSON.writeValueAsBytes(con);
        } catch (java.io.IOException e) {
            return new Protected(null, 4000, "con cannot be serialised");
        }
        EsDataService.Outcome o = endpoints.protect(
                tenantId,
                rule.endpoint(),
                new EndpointService.EndpointProtect(
                        Base64.getEncoder().encodeToString(plain),
                        null,
                        rule.encryptFor(),
                        rule.encryptForCertificatesOf(),
                        null,
                        rule.sign(),
                        null,
                        null,
                        null,
                        null,
                        rule.cs()));
        if (o.status() != 200) {
            return new Protected(
                    null,
                    o.status() == 404 ? 4004 : o.status() == 403 ? 4103 : 5000,
                    "ESData protection failed: " + o.body().get("problems"));
        }
        cin.put("con", o.body().get("envelope"));
        cin.put("cnf", cnf + ":" + rule.cs()); // m2m:contentInfo = mediaType:encodingType:contentSecurity
        try {
            return new Protected(ProxyService.JSON.writeValueAsBytes(Map.of("m2m:cin", cin)), 0, null);
        } catch (java.io.IOException e) {
            return new Protected(null, 5000, "the content instance could not be serialised");
        }
    }

    /** A retrieved {@code m2m:cin} for a listed reader: {@code con} verified/decrypted as the reader's end-point, or the body unchanged. */
    @SuppressWarnings("unchecked")
    public byte[] openForReader(String tenantId, Rule rule, String originator, byte[] body) {
        Optional<Reader> reader = rule.readers() == null
                ? Optional.empty()
                : rule.readers().stream()
                        .filter(r -> r.originator().equals(originator))
                        .findFirst();
        if (reader.isEmpty() || body == null) {
            return body;
        }
        try {
            Map<String, Object> doc = ProxyService.JSON.readValue(body, Map.class);
            if (!(doc.get("m2m:cin") instanceof Map<?, ?> raw)
                    || !(raw.get("con") instanceof String con)
                    || !(raw.get("cnf") instanceof String cnf)) {
                return body;
            }
            String[] parts = cnf.split(":");
            if (parts.length != 3 || !parts[2].matches("[123]")) {
                return body;
            }
            EsDataService.Outcome o = endpoints.unprotect(
                    tenantId,
                    reader.get().endpoint(),
                    new EsDataService.UnprotectRequest(con, Integer.parseInt(parts[2]), null));
            if (o.status() != 200) {
                return body; // not for this reader, or altered: the reader gets what is stored
            }
            Map<String, Object> cin = new LinkedHashMap<>((Map<String, Object>) raw);
            cin.put(
                    "con",
                    new String(Base64.getDecoder().decode((String) o.body().get("payload")), StandardCharsets.UTF_8));
            cin.put("cnf", parts[0] + ":" + parts[1]);
            return ProxyService.JSON.writeValueAsBytes(Map.of("m2m:cin", cin));
        } catch (java.io.IOException | RuntimeException e) {
            return body;
        }
    }
}
