package io.m2mtrust.proxy;

import io.m2mtrust.audit.AdminChanges;
import io.m2mtrust.audit.AuditLog;
import io.m2mtrust.audit.Audited;
import io.m2mtrust.common.ApiProblem;
import io.m2mtrust.escertke.EscertkeService;
import io.m2mtrust.escertke.PeerIdentity;
import io.m2mtrust.esdata.EndpointService;
import io.m2mtrust.security.AdminAccess;
import io.m2mtrust.security.TenantDoor;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.persistence.EntityManager;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Size;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import java.net.URI;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Admin API of the proxy: which CSE it fronts, and which entities behind it terminate ESPrim. */
@Path("/api/v1/tenants/{tenant}/proxy")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "oneM2M proxy")
@SecurityRequirement(name = "oidc")
public class ProxyAdminResource {

    /** The bindings the proxy speaks toward a CSE or a remote receiver: HTTP (TS-0009) and CoAP (TS-0008). */
    static final java.util.Set<String> SCHEMES = java.util.Set.of("http", "https", "coap");

    /** A relative URL has no scheme, and {@code Set.of} refuses to look up null (a 500 found by schemathesis). */
    static boolean allowedScheme(URI u) {
        return u.getScheme() != null && SCHEMES.contains(u.getScheme());
    }

    public record ConfigBody(
            @NotBlank @Size(max = 500) String cseUrl,
            @NotBlank @Size(max = 200) String cseId,
            @NotBlank @Size(max = 100) String cseBase,
            Integer randLifetimeSeconds,
            Integer timeoutMs,
            @Size(max = 260) String spId) {}

    public record ConfigView(
            String cseUrl,
            String cseId,
            String cseBase,
            String spId,
            int randLifetimeSeconds,
            int timeoutMs,
            Instant updatedAt) {
        static ConfigView of(ProxyConfig c) {
            return new ConfigView(
                    c.cseUrl, c.cseId, c.cseBase, c.spId, c.randLifetimeSeconds, c.timeoutMs, c.updatedAt);
        }
    }

    public record EntityBody(
            @NotBlank @Size(max = 200) String entityId,
            @NotBlank @Size(max = 300) String resourcePath,
            Boolean esprimRequired) {}

    public record EntityView(String entityId, String resourcePath, boolean esprimRequired, Instant createdAt) {
        static EntityView of(ProtectedEntity e) {
            return new EntityView(e.entityId, e.resourcePath, e.esprimRequired, e.createdAt);
        }
    }

    /** {@code keyId} absent: the pairwise key is established with ESCertKE on first use. */
    public record RemoteBody(
            @NotBlank @Size(max = 40) String name,
            @NotBlank @Size(max = 200) String receiverId,
            @NotBlank @Size(max = 500) String url,
            @Size(min = 1, max = 330) String keyId) {}

    public record RemoteView(String name, String receiverId, String url, String keyId, Instant createdAt) {
        static RemoteView of(ProxyRemote r) {
            return new RemoteView(r.name, r.receiverId, r.url, r.keyId, r.createdAt);
        }
    }

    public record EsDataRuleBody(
            @NotBlank @Size(max = 40) String id,
            @NotBlank @Size(max = 300) String containerPath,
            @NotBlank String endpoint,
            Boolean sign,
            List<String> encryptForCertificatesOf,
            List<String> encryptFor,
            Integer contentSecurity,
            List<ProxyEsData.Reader> readers) {}

    private final EntityManager em;
    private final TenantDoor tenants;
    private final AdminAccess access;
    private final AuditLog audit;
    private final ProxyService proxy;
    private final EndpointService endpoints;

    private final ProxyOriginator originator;
    private final ProxyStore store;
    private final AdminChanges changes;

    ProxyAdminResource(
            EntityManager em,
            TenantDoor tenants,
            AdminAccess access,
            AuditLog audit,
            ProxyService proxy,
            EndpointService endpoints,
            ProxyOriginator originator,
            ProxyStore store,
            AdminChanges changes) {
        this.changes = changes;
        this.store = store;
        this.em = em;
        this.originator = originator;
        this.tenants = tenants;
        this.access = access;
        this.audit = audit;
        this.proxy = proxy;
        this.endpoints = endpoints;
    }

    @GET
    public ConfigView get(@PathParam("tenant") String tenant) {
        tenants.enter(tenant, AdminAccess.Need.READ);
        return proxy.config(tenant).map(ConfigView::of).orElseThrow(() -> ApiProblem.notFound("proxy configuration"));
    }

    @PUT
    @Operation(
            summary =
                    "Set the CSE the proxy fronts (oneM2M HTTP binding base URL, CSE-ID, CSEBase name), rand object lifetime and CSE timeout")
    public ConfigView put(@PathParam("tenant") String tenant, @Valid @NotNull ConfigBody body) {
        tenants.enter(tenant, AdminAccess.Need.WRITE);
        List<Map<String, String>> errors = new ArrayList<>();
        URI url;
        try {
            url = URI.create(body.cseUrl());
            if (!allowedScheme(url)
                    || url.getHost() == null
                    || url.getRawQuery() != null
                    || url.getRawFragment() != null
                    || url.getRawUserInfo() != null) {
                errors.add(
                        ApiProblem.fieldError("cseUrl", "an http(s) or coap URL without user info, query or fragment"));
            }
        } catch (IllegalArgumentException e) {
            errors.add(ApiProblem.fieldError("cseUrl", "not a URL"));
        }
        if (!body.cseId().matches("/[A-Za-z0-9._-]{1,199}")) {
            errors.add(ApiProblem.fieldError("cseId", "an SP-relative CSE-ID like /id-in"));
        }
        if (!body.cseBase().matches("[A-Za-z0-9._-]{1,100}")) {
            errors.add(ApiProblem.fieldError("cseBase", "the CSEBase resource name, like cse-in"));
        }
        if (body.spId() != null && PeerIdentity.spFqdn(body.spId()).isEmpty()) {
            errors.add(ApiProblem.fieldError("spId", "an M2M-SP-ID: // and a lowercase FQDN, like //acme.example"));
        }
        int lifetime = body.randLifetimeSeconds() == null ? 3600 : body.randLifetimeSeconds();
        int timeout = body.timeoutMs() == null ? 10_000 : body.timeoutMs();
        if (lifetime < 60 || lifetime > 604_800) {
            errors.add(ApiProblem.fieldError("randLifetimeSeconds", "60 to 604800"));
        }
        if (timeout < 100 || timeout > 120_000) {
            errors.add(ApiProblem.fieldError("timeoutMs", "100 to 120000"));
        }
        if (!errors.isEmpty()) {
            throw ApiProblem.invalid(errors);
        }
        ConfigView view = changes.make(tenant, "proxy.configure", "proxy", () -> {
            ProxyConfig c = em.find(ProxyConfig.class, tenant);
            boolean created = c == null;
            if (created) {
                c = new ProxyConfig();
                c.tenantId = tenant;
            }
            c.cseUrl = body.cseUrl();
            c.cseId = body.cseId();
            c.cseBase = body.cseBase();
            c.spId = body.spId();
            c.randLifetimeSeconds = lifetime;
            c.timeoutMs = timeout;
            c.updatedAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
            if (created) {
                em.persist(c);
            }
            proxy.invalidate(tenant); // every replica forgets the old configuration when this commits
            return Audited.of(ConfigView.of(c), "CSE " + body.cseId() + " at " + body.cseUrl());
        });
        return view;
    }

    @GET
    @Path("entities")
    public List<EntityView> entities(@PathParam("tenant") String tenant) {
        tenants.enter(tenant, AdminAccess.Need.READ);
        return proxy.entities(tenant).stream().map(EntityView::of).toList();
    }

    @PUT
    @Path("entities")
    @Operation(
            summary =
                    "Protect an entity behind the proxy: ESPrim terminates for it (entityId = its CSE-ID or AE-ID, resourcePath = cse-in or cse-in/<AE>)")
    public EntityView putEntity(@PathParam("tenant") String tenant, @Valid @NotNull EntityBody body) {
        tenants.enter(tenant, AdminAccess.Need.WRITE);
        ProxyConfig cfg =
                proxy.config(tenant).orElseThrow(() -> ApiProblem.conflict("configure the proxy first (PUT /proxy)"));
        if (!(body.resourcePath().equals(cfg.cseBase)
                || body.resourcePath()
                        .matches(java.util.regex.Pattern.quote(cfg.cseBase) + "/[A-Za-z0-9._-]{1,100}"))) {
            throw ApiProblem.invalid(List.of(ApiProblem.fieldError(
                    "resourcePath", "the CSEBase (" + cfg.cseBase + ") or one of its AEs (" + cfg.cseBase + "/<AE>)")));
        }
        if (body.entityId().isBlank() || body.entityId().contains(" ")) {
            throw ApiProblem.invalid(List.of(ApiProblem.fieldError("entityId", "a CSE-ID or AE-ID")));
        }
        EntityView view = changes.make(tenant, "proxy.entity.put", "entity/" + body.entityId(), () -> {
            ProtectedEntity e = em.find(ProtectedEntity.class, new ProtectedEntity.Key(tenant, body.entityId()));
            ProtectedEntity samePath =
                    store.entityAt(tenant, body.resourcePath()).orElse(null);
            if (samePath != null && !samePath.entityId.equals(body.entityId())) {
                throw ApiProblem.conflict(body.resourcePath() + " is protected as " + samePath.entityId);
            }
            boolean created = e == null;
            if (created) {
                e = new ProtectedEntity();
                e.tenantId = tenant;
                e.entityId = body.entityId();
                e.createdAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
            }
            e.resourcePath = body.resourcePath();
            e.esprimRequired = Boolean.TRUE.equals(body.esprimRequired());
            if (created) {
                em.persist(e);
            }
            proxy.invalidate(tenant);
            return Audited.of(EntityView.of(e), body.resourcePath() + (e.esprimRequired ? ", ESPrim required" : ""));
        });
        return view;
    }

    @DELETE
    @Path("entities")
    public Response deleteEntity(@PathParam("tenant") String tenant, @QueryParam("entityId") String entityId) {
        tenants.enter(tenant, AdminAccess.Need.WRITE);
        changes.remove(
                tenant,
                "proxy.entity.delete",
                "entity/" + entityId,
                () -> invalidatingIf(tenant, store.deleteEntity(tenant, entityId) > 0),
                "protected entity " + entityId);
        return Response.noContent().build();
    }

    @GET
    @Path("remotes")
    public List<RemoteView> remotes(@PathParam("tenant") String tenant) {
        tenants.enter(tenant, AdminAccess.Need.READ);
        return QuarkusTransaction.requiringNew()
                .call(() -> store.remotes(tenant).stream().map(RemoteView::of).toList());
    }

    @PUT
    @Path("remotes")
    @Operation(
            summary =
                    "A remote ESPrim receiver legacy entities reach through /onem2m-out/{tenant}/{name}/...: its CSE-ID or AE-ID, the "
                            + "HTTP binding URL of its <CSEBase> or <AE>, and the pairwise key id (none: established by ESCertKE on first use)")
    public RemoteView putRemote(@PathParam("tenant") String tenant, @Valid @NotNull RemoteBody body) {
        tenants.enter(tenant, AdminAccess.Need.WRITE);
        List<Map<String, String>> errors = new ArrayList<>();
        if (!body.name().matches("[a-z0-9][a-z0-9-]{0,39}")) {
            errors.add(ApiProblem.fieldError("name", "1-40 of a-z, 0-9 and hyphens"));
        }
        try {
            URI u = URI.create(body.url());
            if (!allowedScheme(u) || u.getHost() == null || u.getRawQuery() != null || u.getRawUserInfo() != null) {
                errors.add(ApiProblem.fieldError("url", "an http(s) or coap URL without user info or query"));
            }
        } catch (IllegalArgumentException e) {
            errors.add(ApiProblem.fieldError("url", "not a URL"));
        }
        if (!errors.isEmpty()) {
            throw ApiProblem.invalid(errors);
        }
        return changes.make(tenant, "proxy.remote.put", "remote/" + body.name(), () -> {
            ProxyRemote r = em.find(ProxyRemote.class, new ProxyRemote.Key(tenant, body.name()));
            boolean created = r == null;
            if (created) {
                r = new ProxyRemote();
                r.tenantId = tenant;
                r.name = body.name();
                r.createdAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
            }
            r.receiverId = body.receiverId();
            r.url = body.url();
            r.keyId = body.keyId();
            if (created) {
                em.persist(r);
            }
            return Audited.of(
                    RemoteView.of(r),
                    body.receiverId() + " at " + body.url()
                            + (body.keyId() == null ? " with an ESCertKE key" : " with key " + body.keyId()));
        });
    }

    public record HandshakeBody(@NotBlank @Size(max = 200) String from) {}

    @jakarta.ws.rs.POST
    @Path("remotes/{name}/escertke")
    @Operation(
            summary =
                    "Establish a new pairwise key with the remote receiver by ESCertKE (TS-0003 §8.7), the proxy initiating for the entity "
                            + "'from' behind it (its end-point certificate authenticates it)")
    public Response escertke(
            @PathParam("tenant") String tenant, @PathParam("name") String name, @Valid @NotNull HandshakeBody body) {
        tenants.enter(tenant, AdminAccess.Need.WRITE);
        ProxyConfig cfg = proxy.config(tenant).orElseThrow(() -> ApiProblem.notFound("proxy configuration"));
        ProxyRemote remote =
                originator.remote(tenant, name).orElseThrow(() -> ApiProblem.notFound("remote receiver " + name));
        try {
            EscertkeService.Established k = originator.establishNew(tenant, cfg, body.from(), remote, access.actor());
            // the established key is chained as escertke.established with this actor; failures are chained here
            return Response.status(201).entity(k).build();
        } catch (EscertkeService.Failure f) {
            audit.appendIndependently(
                    tenant,
                    access.actor(),
                    "escertke.initiate",
                    "remote/" + name,
                    AuditLog.Outcome.FAILURE,
                    f.rsc + " " + f.getMessage());
            // 409: this side cannot (no SP-ID, certificate or suite); 502: the peer or the handshake failed
            boolean local = f.rsc == 5207 && !f.getMessage().startsWith("the Terminating");
            throw new ApiProblem(
                    local ? 409 : 502,
                    local ? "escertke-not-possible" : "escertke-failed",
                    local ? "Conflict" : "Bad Gateway",
                    "ESCertKE with " + remote.receiverId + " failed (oneM2M " + f.rsc + "): " + f.getMessage());
        }
    }

    @DELETE
    @Path("remotes/{name}")
    public Response deleteRemote(@PathParam("tenant") String tenant, @PathParam("name") String name) {
        tenants.enter(tenant, AdminAccess.Need.WRITE);
        changes.remove(
                tenant,
                "proxy.remote.delete",
                "remote/" + name,
                () -> store.deleteRemote(tenant, name) > 0,
                "remote receiver " + name);
        return Response.noContent().build();
    }

    @GET
    @Path("esdata-rules")
    public List<Map<String, Object>> esdataRules(@PathParam("tenant") String tenant) {
        tenants.enter(tenant, AdminAccess.Need.READ);
        return QuarkusTransaction.requiringNew()
                .call(() -> store.esdataRules(tenant).stream()
                        .map(r -> {
                            Map<String, Object> m = new java.util.LinkedHashMap<>();
                            m.put("id", r.id);
                            m.put("containerPath", r.containerPath);
                            m.put("rule", ProxyEsData.parse(r.rule));
                            m.put("createdAt", r.createdAt);
                            return m;
                        })
                        .toList());
    }

    @PUT
    @Path("esdata-rules")
    @Operation(
            summary =
                    "ESData by policy: content instances created through the proxy in containerPath are protected as the end-point "
                            + "(sign, encryptForCertificatesOf, encryptFor, contentSecurity); readers [{originator, endpoint}] get them verified/decrypted")
    public Map<String, Object> putEsDataRule(@PathParam("tenant") String tenant, @Valid @NotNull EsDataRuleBody body) {
        tenants.enter(tenant, AdminAccess.Need.WRITE);
        ProxyConfig cfg =
                proxy.config(tenant).orElseThrow(() -> ApiProblem.conflict("configure the proxy first (PUT /proxy)"));
        List<Map<String, String>> errors = new ArrayList<>();
        if (!body.id().matches("[a-z0-9][a-z0-9-]{0,39}")) {
            errors.add(ApiProblem.fieldError("id", "1-40 of a-z, 0-9 and hyphens"));
        }
        if (!body.containerPath().startsWith(cfg.cseBase + "/")
                || body.containerPath().contains("..")
                || body.containerPath().endsWith("/")) {
            errors.add(ApiProblem.fieldError("containerPath", "a container below " + cfg.cseBase + ", CSE-relative"));
        }
        boolean encrypts = (body.encryptFor() != null && !body.encryptFor().isEmpty())
                || (body.encryptForCertificatesOf() != null
                        && !body.encryptForCertificatesOf().isEmpty());
        if (!Boolean.TRUE.equals(body.sign()) && !encrypts) {
            errors.add(ApiProblem.fieldError("sign", "sign, encrypt, or both (nested)"));
        }
        if (body.contentSecurity() != null && (body.contentSecurity() < 1 || body.contentSecurity() > 3)) {
            errors.add(ApiProblem.fieldError("contentSecurity", "1 compact, 2 JSON, 3 base64 JSON"));
        }
        if (!errors.isEmpty()) {
            throw ApiProblem.invalid(errors);
        }
        endpoints.get(tenant, body.endpoint()); // 404 when it does not exist
        for (ProxyEsData.Reader r : body.readers() == null ? List.<ProxyEsData.Reader>of() : body.readers()) {
            if (r == null || r.originator() == null || r.originator().isBlank() || r.endpoint() == null) {
                throw ApiProblem.invalid(
                        List.of(ApiProblem.fieldError("readers", "each reader has an originator and an end-point")));
            }
            endpoints.get(tenant, r.endpoint());
        }
        ProxyEsData.Rule rule = new ProxyEsData.Rule(
                body.endpoint(),
                body.sign(),
                body.encryptForCertificatesOf(),
                body.encryptFor(),
                body.contentSecurity(),
                body.readers());
        String json;
        try {
            json = ProxyService.JSON.writeValueAsString(rule);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
        Map<String, Object> view = QuarkusTransaction.requiringNew().call(() -> {
            EsDataRule r = em.find(EsDataRule.class, new EsDataRule.Key(tenant, body.id()));
            EsDataRule samePath =
                    store.esdataRuleAt(tenant, body.containerPath()).orElse(null);
            if (samePath != null && !samePath.id.equals(body.id())) {
                throw ApiProblem.conflict(body.containerPath() + " already has rule " + samePath.id);
            }
            boolean created = r == null;
            if (created) {
                r = new EsDataRule();
                r.tenantId = tenant;
                r.id = body.id();
                r.createdAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
            }
            r.containerPath = body.containerPath();
            r.rule = json;
            if (created) {
                em.persist(r);
            }
            audit.append(
                    tenant,
                    access.actor(),
                    "proxy.esdata-rule.put",
                    "esdata-rule/" + body.id(),
                    AuditLog.Outcome.SUCCESS,
                    body.containerPath() + " as end-point " + body.endpoint());
            Map<String, Object> m = new java.util.LinkedHashMap<>();
            m.put("id", r.id);
            m.put("containerPath", r.containerPath);
            m.put("rule", rule);
            proxy.invalidate(tenant);
            return m;
        });
        return view;
    }

    @DELETE
    @Path("esdata-rules/{id}")
    public Response deleteEsDataRule(@PathParam("tenant") String tenant, @PathParam("id") String id) {
        tenants.enter(tenant, AdminAccess.Need.WRITE);
        changes.remove(
                tenant,
                "proxy.esdata-rule.delete",
                "esdata-rule/" + id,
                () -> invalidatingIf(tenant, store.deleteEsdataRule(tenant, id) > 0),
                "ESData rule " + id);
        return Response.noContent().build();
    }

    /** In a removal's transaction: when something was removed, every replica forgets the tenant's proxy state. */
    private boolean invalidatingIf(String tenant, boolean removed) {
        if (removed) {
            proxy.invalidate(tenant);
        }
        return removed;
    }
}
