package io.m2mtrust.console;

import io.m2mtrust.audit.AuditLog;
import io.m2mtrust.audit.AuditResource.AuditEventView;
import io.m2mtrust.audit.ChainVerification;
import io.m2mtrust.common.ApiProblem;
import io.m2mtrust.identity.TenantUserDtos;
import io.m2mtrust.onboarding.TenantDtos;
import io.m2mtrust.onboarding.TenantService;
import io.m2mtrust.policy.PolicyDocument;
import io.m2mtrust.policy.PolicyService;
import io.m2mtrust.policy.TenantPolicy;
import io.m2mtrust.quota.TenantQuotas;
import io.m2mtrust.security.AdminAccess;
import io.m2mtrust.security.TenantDoor;
import io.m2mtrust.tenant.Tenant;
import io.m2mtrust.tenant.TenantIds;
import io.m2mtrust.tenant.TenantStore;
import io.quarkus.qute.Location;
import io.quarkus.qute.Template;
import jakarta.ws.rs.CookieParam;
import jakarta.ws.rs.FormParam;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import java.net.URI;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The admin console (server-rendered with Qute, no script): the same authorisation as the admin API
 * ({@link AdminAccess}: platform-admin everywhere, tenant-admin and tenant-auditor only in their tenant, auditors
 * read-only and shown no actions), signed in through the console's own OIDC tenant (authorization code + PKCE).
 * Forms carry a CSRF token; every change goes through the same services, and so the same audit chain, as the API.
 */
@Path("/console")
@Produces(MediaType.TEXT_HTML)
public class ConsoleResource {

    @Location("console/home.html")
    Template home;

    @Location("console/tenants.html")
    Template tenantsPage;

    @Location("console/policy.html")
    Template policyPage;

    @Location("console/audit.html")
    Template auditPage;

    @Location("console/simulator.html")
    Template simulatorPage;

    private final AdminAccess access;
    private final TenantDoor door;
    private final TenantService tenants;
    private final PolicyService policies;
    private final AuditLog audit;
    private final ConsoleSupport support;
    private final TenantStore tenantRows;

    private final TenantQuotas quotas;

    ConsoleResource(
            AdminAccess access,
            TenantDoor door,
            TenantService tenants,
            PolicyService policies,
            AuditLog audit,
            ConsoleSupport support,
            TenantStore tenantRows,
            TenantQuotas quotas) {
        this.quotas = quotas;
        this.tenantRows = tenantRows;
        this.support = support;
        this.access = access;
        this.door = door;
        this.tenants = tenants;
        this.policies = policies;
        this.audit = audit;
    }

    private static boolean notBlank(String s) {
        return s != null && !s.isBlank();
    }

    private ConsoleSupport.Viewer viewer(String tenant) {
        return support.viewer();
    }

    @GET
    public Response start() {
        if (access.isPlatformAdmin()) {
            return Response.seeOther(URI.create("/console/tenants")).build();
        }
        Optional<String> bound = access.boundTenant();
        if (bound.isEmpty()) {
            return error(403, "Your account has no tenant role (platform-admin, tenant-admin or tenant-auditor).");
        }
        return Response.seeOther(URI.create("/console/t/" + bound.get())).build();
    }

    @GET
    @Path("tenants")
    public Response tenantList() {
        if (!access.isPlatformAdmin()) {
            return start();
        }
        List<Tenant> all = tenantRows.list(null);
        return support.render(tenantsPage.data("tenants", all), null);
    }

    /** A platform-admin creates a tenant (its HSM keys and default policy are made at once, like the API does). */
    @POST
    @Path("tenants")
    @jakarta.ws.rs.Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    public Response createTenant(
            @CookieParam(ConsoleCsrf.COOKIE) String cookie,
            @FormParam("csrf") String csrf,
            @FormParam("id") String id,
            @FormParam("name") String name,
            @FormParam("adminEmail") String adminEmail,
            @FormParam("adminUsername") String adminUsername,
            @FormParam("adminPassword") String adminPassword) {
        Response refused = support.refusedCsrf(cookie, csrf);
        if (refused != null) {
            return refused;
        }
        if (!access.isPlatformAdmin()) {
            return error(403, "Only platform administrators create tenants.");
        }
        if (id == null || !TenantIds.valid(id.trim()) || name == null || name.isBlank() || name.length() > 200) {
            return error(400, "A tenant id is 3-40 characters of a-z, 0-9 and inner hyphens, and it needs a name.");
        }
        boolean withAdmin = notBlank(adminEmail) || notBlank(adminUsername);
        char[] pw = withAdmin && notBlank(adminPassword) ? adminPassword.toCharArray() : null;
        try {
            var firstAdmin = !withAdmin
                    ? null
                    : new TenantUserDtos.FirstAdmin(
                            notBlank(adminUsername) ? adminUsername.strip() : null,
                            notBlank(adminEmail) ? adminEmail.strip() : null,
                            null,
                            null,
                            pw);
            if (firstAdmin != null) {
                String invalid = support.violations(firstAdmin);
                if (invalid != null) {
                    return error(400, "First admin: " + invalid);
                }
            }
            var created =
                    tenants.create(new TenantDtos.CreateTenant(id.trim(), name.trim(), firstAdmin), access.actor());
            if (!created.created()) {
                return error(409, "Tenant " + id.trim() + " already exists.");
            }
            return Response.seeOther(URI.create("/console/t/" + id.trim())).build();
        } catch (ApiProblem p) {
            return error(p.status(), p.detail());
        } finally {
            if (pw != null) {
                java.util.Arrays.fill(pw, '\0');
            }
        }
    }

    /** A platform-admin suspends or re-activates a tenant (suspended: its devices and proxies are refused). */
    @POST
    @Path("t/{tenant}/status")
    @jakarta.ws.rs.Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    public Response setTenantStatus(
            @PathParam("tenant") String tenant,
            @CookieParam(ConsoleCsrf.COOKIE) String cookie,
            @FormParam("csrf") String csrf,
            @FormParam("status") String status) {
        Response refused = support.refusedCsrf(cookie, csrf);
        if (refused != null) {
            return refused;
        }
        if (!access.isPlatformAdmin()) {
            return error(403, "Only platform administrators suspend or re-activate tenants.");
        }
        try {
            Tenant t = door.enter(tenant, AdminAccess.Need.WRITE);
            Tenant.Status next = Tenant.Status.valueOf(status);
            if (next != Tenant.Status.ACTIVE && next != Tenant.Status.SUSPENDED) {
                return error(
                        400,
                        "A tenant is made ACTIVE or SUSPENDED here; deletion (crypto-shredding) is an API call on purpose.");
            }
            tenants.update(tenant, new TenantDtos.UpdateTenant(t.name, next), "\"v" + t.version + "\"", access.actor());
            return Response.seeOther(URI.create("/console/t/" + tenant)).build();
        } catch (ApiProblem p) {
            return error(p);
        } catch (IllegalArgumentException e) {
            return error(400, "Unknown status.");
        }
    }

    @GET
    @Path("t/{tenant}")
    public Response overview(@PathParam("tenant") String tenant) {
        return support.page(() -> {
            Tenant t = door.enter(tenant, AdminAccess.Need.READ);
            return support.render(home.instance(), t);
        });
    }

    // ---------------------------------------------------------------- policy

    /** The form as shown: the values (as typed when refused) and errors by field. */
    public record PolicyForm(
            Map<String, String> values, Map<String, String> errors, long version, String notice, String conflict) {
        public List<Field> keys() {
            return fields(List.of("allowedSuids", "joseAlgs", "joseEncs", "tlsCipherSuites"));
        }

        public List<Field> limits() {
            return fields(List.of("defaultKeyLifetimeSeconds", "maxKeyLifetimeSeconds", "maxEsdataTargets"));
        }

        /** The tenant's quotas (issue 21, ADR 0026). */
        public List<Field> quotas() {
            return fields(List.of("requestQuotaPerSecond", "requestBurst", "hsmQuotaPerSecond", "hsmBurst"));
        }

        public boolean hostMemory() {
            return "true".equals(values.get("allowHostMemoryKeys"));
        }

        public boolean hasErrors() {
            return !errors.isEmpty();
        }

        private List<Field> fields(List<String> names) {
            return names.stream()
                    .map(n -> new Field(n, LABELS.get(n), values.getOrDefault(n, ""), errors.get(n)))
                    .toList();
        }
    }

    /** One quota bucket as the console shows it. */
    public record BucketRow(String bucket, int perSecond, int burst, String left, long refused) {}

    private List<BucketRow> bucketRows(String tenant) {
        return quotas.view(tenant).stream()
                .map(b -> new BucketRow(
                        b.bucket(),
                        b.perSecond(),
                        b.burst(),
                        b.level() == null ? "full (unused)" : String.valueOf((long) Math.floor(b.level())),
                        (long) b.refusedHere()))
                .toList();
    }

    /** One input: its name (also its id), label, value and the error shown next to it. */
    public record Field(String name, String label, String value, String error) {}

    static final Map<String, String> LABELS = Map.ofEntries(
            Map.entry("allowedSuids", "Allowed SUIDs (comma-separated)"),
            Map.entry("joseAlgs", "JOSE algorithms"),
            Map.entry("joseEncs", "JOSE content encryptions"),
            Map.entry("tlsCipherSuites", "TLS cipher suites"),
            Map.entry("defaultKeyLifetimeSeconds", "Default key lifetime (seconds)"),
            Map.entry("maxKeyLifetimeSeconds", "Maximum key lifetime (seconds)"),
            Map.entry("maxEsdataTargets", "Maximum ESData targets per key"),
            Map.entry("requestQuotaPerSecond", "Requests per second (each device function, the ESData API, the proxy)"),
            Map.entry("requestBurst", "Request burst"),
            Map.entry("hsmQuotaPerSecond", "HSM operations per second"),
            Map.entry("hsmBurst", "HSM burst"));

    static Map<String, String> values(PolicyDocument d) {
        Map<String, String> v = new LinkedHashMap<>();
        v.put("allowedSuids", d.allowedSuids().stream().map(String::valueOf).collect(Collectors.joining(", ")));
        v.put("joseAlgs", String.join(", ", d.joseAlgs()));
        v.put("joseEncs", String.join(", ", d.joseEncs()));
        v.put("tlsCipherSuites", String.join(", ", d.tlsCipherSuites()));
        v.put("defaultKeyLifetimeSeconds", String.valueOf(d.defaultKeyLifetimeSeconds()));
        v.put("maxKeyLifetimeSeconds", String.valueOf(d.maxKeyLifetimeSeconds()));
        v.put("maxEsdataTargets", String.valueOf(d.maxEsdataTargets()));
        v.put("requestQuotaPerSecond", String.valueOf(d.requestQuotaPerSecond()));
        v.put("allowHostMemoryKeys", String.valueOf(d.allowHostMemoryKeys()));
        v.put("requestBurst", String.valueOf(d.requestBurst()));
        v.put("hsmQuotaPerSecond", String.valueOf(d.hsmQuotaPerSecond()));
        v.put("hsmBurst", String.valueOf(d.hsmBurst()));
        return v;
    }

    private Response policyView(String tenant, PolicyForm form, int status) {
        return support.render(
                status,
                policyPage.data("form", form).data("buckets", bucketRows(tenant)),
                door.enter(tenant, AdminAccess.Need.READ));
    }

    @GET
    @Path("t/{tenant}/policy")
    public Response policy(@PathParam("tenant") String tenant, @QueryParam("saved") String saved) {
        return support.page(() -> {
            door.enter(tenant, AdminAccess.Need.READ);
            TenantPolicy p = policies.get(tenant);
            return policyView(
                    tenant,
                    new PolicyForm(
                            values(PolicyDocument.of(p)),
                            Map.of(),
                            p.version,
                            saved != null ? "Saved: the policy is now version " + p.version + "." : null,
                            null),
                    200);
        });
    }

    @POST
    @Path("t/{tenant}/policy")
    @jakarta.ws.rs.Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    public Response savePolicy(
            @PathParam("tenant") String tenant,
            @CookieParam(ConsoleCsrf.COOKIE) String csrfCookie,
            @FormParam("csrf") String csrf,
            @FormParam("version") long version,
            @FormParam("allowedSuids") String suids,
            @FormParam("joseAlgs") String algs,
            @FormParam("joseEncs") String encs,
            @FormParam("tlsCipherSuites") String suites,
            @FormParam("defaultKeyLifetimeSeconds") String defaultLifetime,
            @FormParam("maxKeyLifetimeSeconds") String maxLifetime,
            @FormParam("maxEsdataTargets") String maxTargets,
            @FormParam("requestQuotaPerSecond") String quota,
            @FormParam("allowHostMemoryKeys") String hostMemory,
            @FormParam("requestBurst") String burst,
            @FormParam("hsmQuotaPerSecond") String hsmQuota,
            @FormParam("hsmBurst") String hsmBurst) {
        Response refused = support.refusedCsrf(csrfCookie, csrf);
        if (refused != null) {
            return refused;
        }
        try {
            door.enter(tenant, AdminAccess.Need.WRITE);
        } catch (ApiProblem p) {
            return error(p);
        }
        Map<String, String> typed = new LinkedHashMap<>();
        typed.put("allowedSuids", nz(suids));
        typed.put("joseAlgs", nz(algs));
        typed.put("joseEncs", nz(encs));
        typed.put("tlsCipherSuites", nz(suites));
        typed.put("defaultKeyLifetimeSeconds", nz(defaultLifetime));
        typed.put("maxKeyLifetimeSeconds", nz(maxLifetime));
        typed.put("maxEsdataTargets", nz(maxTargets));
        typed.put("requestQuotaPerSecond", nz(quota));
        typed.put("allowHostMemoryKeys", String.valueOf("on".equals(hostMemory) || "true".equals(hostMemory)));
        typed.put("requestBurst", nz(burst));
        typed.put("hsmQuotaPerSecond", nz(hsmQuota));
        typed.put("hsmBurst", nz(hsmBurst));
        Map<String, String> errors = new LinkedHashMap<>();
        List<Integer> suidList = new ArrayList<>();
        for (String s : list(suids)) {
            try {
                suidList.add(Integer.parseInt(s));
            } catch (NumberFormatException e) {
                errors.put("allowedSuids", "\"" + s + "\" is not a number");
            }
        }
        Long dl = number(defaultLifetime, "defaultKeyLifetimeSeconds", errors);
        Long ml = number(maxLifetime, "maxKeyLifetimeSeconds", errors);
        Integer mt = integer(maxTargets, "maxEsdataTargets", errors);
        Integer q = integer(quota, "requestQuotaPerSecond", errors);
        // empty: the default (twice the rate, the request quota)
        Integer qb = nz(burst).isBlank() ? null : integer(burst, "requestBurst", errors);
        Integer hq = nz(hsmQuota).isBlank() ? null : integer(hsmQuota, "hsmQuotaPerSecond", errors);
        Integer hb = nz(hsmBurst).isBlank() ? null : integer(hsmBurst, "hsmBurst", errors);
        if (errors.isEmpty()) {
            PolicyDocument doc = new PolicyDocument(
                    suidList,
                    list(algs),
                    list(encs),
                    list(suites),
                    dl,
                    ml,
                    mt,
                    q,
                    "on".equals(hostMemory) || "true".equals(hostMemory),
                    qb,
                    hq,
                    hb);
            try {
                policies.replace(tenant, doc, "\"v" + version + "\"", access.actor());
                return Response.seeOther(URI.create("/console/t/" + tenant + "/policy?saved=1"))
                        .build();
            } catch (ApiProblem p) {
                if (p.status() == 412) {
                    // optimistic locking: someone saved in between; show the current policy and say what happened
                    TenantPolicy now = policies.get(tenant);
                    return policyView(
                            tenant,
                            new PolicyForm(
                                    values(PolicyDocument.of(now)),
                                    Map.of(),
                                    now.version,
                                    null,
                                    "Someone else saved this policy after you opened it (it is now version "
                                            + now.version + "; you edited version " + version
                                            + "). Your changes were not saved. The form now shows the current policy: make your change again and save."),
                            409);
                }
                if (p.status() == 400 && !p.errors().isEmpty()) {
                    for (Map<String, String> e : p.errors()) {
                        errors.merge(
                                e.getOrDefault("field", "form"),
                                e.getOrDefault("message", "invalid"),
                                (a, b) -> a + "; " + b);
                    }
                } else {
                    return error(p);
                }
            }
        }
        return policyView(tenant, new PolicyForm(typed, errors, version, null, null), 400);
    }

    private static String nz(String s) {
        return s == null ? "" : s.trim();
    }

    private static List<String> list(String s) {
        return s == null || s.isBlank()
                ? List.of()
                : Arrays.stream(s.split("[,\\s]+")).filter(x -> !x.isBlank()).toList();
    }

    /** A whole number that fits an int (a larger one is refused here, not wrapped around). */
    private static Integer integer(String s, String field, Map<String, String> errors) {
        Long v = number(s, field, errors);
        if (v != null && (v > Integer.MAX_VALUE || v < Integer.MIN_VALUE)) {
            errors.put(field, "the number is too large");
            return null;
        }
        return v == null ? null : v.intValue();
    }

    private static Long number(String s, String field, Map<String, String> errors) {
        try {
            return Long.parseLong(nz(s));
        } catch (NumberFormatException e) {
            errors.put(field, "a whole number is required");
            return null;
        }
    }

    // ---------------------------------------------------------------- crypto-policy simulator

    @jakarta.inject.Inject
    CryptoPolicySimulator simulator;

    /** A GET form: simulating changes nothing, so the result page can be bookmarked and needs no CSRF token. */
    @GET
    @Path("t/{tenant}/simulator")
    public Response simulator(
            @PathParam("tenant") String tenant,
            @QueryParam("operation") String operation,
            @QueryParam("originator") String originator,
            @QueryParam("target") String target) {
        return support.page(() -> {
            Tenant t = door.enter(tenant, AdminAccess.Need.READ);
            CryptoPolicySimulator.Simulation result = null;
            String problem = null;
            if (operation != null
                    && originator != null
                    && target != null
                    && !originator.isBlank()
                    && !target.isBlank()) {
                try {
                    result = simulator.simulate(
                            tenant,
                            CryptoPolicySimulator.Operation.valueOf(operation),
                            originator
                                    .trim()
                                    .substring(
                                            0, Math.min(300, originator.trim().length())),
                            target.trim()
                                    .substring(0, Math.min(300, target.trim().length())));
                } catch (IllegalArgumentException e) {
                    problem = "Unknown operation.";
                }
            }
            return Response.ok(simulatorPage
                            .data("viewer", viewer(tenant))
                            .data("tenant", t)
                            .data("operation", operation == null ? "ESPRIM_REQUEST" : operation)
                            .data("originator", originator == null ? "" : originator)
                            .data("target", target == null ? "" : target)
                            .data("result", result)
                            .data("problem", problem))
                    .build();
        });
    }

    // ---------------------------------------------------------------- audit

    @GET
    @Path("t/{tenant}/audit")
    public Response audit(
            @PathParam("tenant") String tenant,
            @QueryParam("action") String action,
            @QueryParam("outcome") String outcome,
            @QueryParam("before") Long before) {
        return support.page(() -> {
            Tenant t = door.enter(tenant, AdminAccess.Need.READ);
            List<AuditEventView> events = audit.search(
                    tenant,
                    action,
                    outcome != null && List.of("SUCCESS", "FAILURE", "DENIED").contains(outcome) ? outcome : null,
                    before,
                    50);
            ChainVerification verification = audit.verify(tenant);
            Long older = events.size() == 50 ? events.get(events.size() - 1).seq() : null;
            return Response.ok(auditPage
                            .data("viewer", viewer(tenant))
                            .data("tenant", t)
                            .data("events", events)
                            .data("verification", verification)
                            .data("action", action == null ? "" : action)
                            .data("outcome", outcome == null ? "" : outcome)
                            .data("older", older))
                    .build();
        });
    }

    private Response error(ApiProblem p) {
        return support.error(p);
    }

    private Response error(int status, String message) {
        return support.error(status, message);
    }
}
