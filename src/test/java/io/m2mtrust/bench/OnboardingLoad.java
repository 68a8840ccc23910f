package io.m2mtrust.bench;

import io.m2mtrust.devstack.KeycloakServer;
import io.m2mtrust.hsm.HsmKeyLabel;
import io.m2mtrust.hsm.KeyPurpose;
import io.m2mtrust.hsm.Pkcs11Token;
import io.m2mtrust.hsm.SelfSignedCertificates;
import io.m2mtrust.testsupport.TestHsm;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Tenant onboarding against the packaged service and the real Keycloak: tenants made with their Keycloak group and
 * first admin (temporary password), users added to a tenant, and what the door's tenant-status check costs a
 * tenant-admin's request. The HSM ceiling is generating the three initial keys of a tenant (KEK, derivation,
 * signing) straight on the token, in this process, in the same run.
 */
final class OnboardingLoad {

    private OnboardingLoad() {}

    static List<ProxyLoad.Row> run(String base, KeycloakServer kc, Supplier<String> tokens, int seconds)
            throws Exception {
        List<ProxyLoad.Row> rows = new ArrayList<>();
        AtomicInteger next = new AtomicInteger();
        String run = Long.toString(System.currentTimeMillis() % 100_000, 36);
        Token admin = new Token(tokens);
        EnrolmentLoadDriver.Op onboard = i -> {
            int n = next.incrementAndGet();
            String body = EsDataRestLoad.JSON.writeValueAsString(Map.of(
                    "id",
                    "ob-" + run + "-" + n,
                    "name",
                    "Onboarding bench " + n,
                    "firstAdmin",
                    Map.of("username", "ob-" + run + "-" + n + "-admin", "temporaryPassword", "Bench-temporary-" + n)));
            return post(admin.get(), base + "/api/v1/tenants", body);
        };
        for (int threads : new int[] {1, 2}) {
            rows.add(new ProxyLoad.Row(
                    "tenant + Keycloak group + first admin",
                    threads,
                    EnrolmentLoadDriver.load("onboarding", threads, seconds, Integer.MAX_VALUE, 201, onboard),
                    true));
        }

        ProxyLoad.call(
                admin.get(), "POST", base + "/api/v1/tenants", Map.of("id", "ob-people", "name", "People bench"), 201);
        EnrolmentLoadDriver.Op addUser = i -> {
            int n = next.incrementAndGet();
            String body = EsDataRestLoad.JSON.writeValueAsString(Map.of(
                    "username",
                    "ob-" + run + "-u" + n,
                    "roles",
                    List.of("tenant-auditor"),
                    "temporaryPassword",
                    "Bench-temporary-" + n));
            return post(admin.get(), base + "/api/v1/tenants/ob-people/users", body);
        };
        for (int threads : new int[] {1, 2}) {
            rows.add(new ProxyLoad.Row(
                    "user added to a tenant",
                    threads,
                    EnrolmentLoadDriver.load("add user", threads, seconds, Integer.MAX_VALUE, 201, addUser),
                    true));
        }

        // the door: a tenant-admin's read (tenant claim, role, cached tenant status) vs the platform-admin's same read
        ProxyLoad.call(admin.get(), "POST", base + "/api/v1/tenants", Map.of("id", "demo", "name", "Demo"), 201);
        Token ada = new Token(() -> {
            try {
                return kc.passwordGrant("ada", "ada-demo-password");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        String policy = base + "/api/v1/tenants/demo/policy";
        rows.add(new ProxyLoad.Row(
                "GET policy, platform-admin token",
                1,
                EnrolmentLoadDriver.load(
                        "policy read, platform-admin",
                        1,
                        seconds,
                        Integer.MAX_VALUE,
                        200,
                        i -> get(admin.get(), policy)),
                false));
        rows.add(new ProxyLoad.Row(
                "GET policy, tenant-admin token (tenant status checked)",
                1,
                EnrolmentLoadDriver.load(
                        "policy read, tenant-admin", 1, seconds, Integer.MAX_VALUE, 200, i -> get(ada.get(), policy)),
                false));
        return rows;
    }

    /** Triples of the tenant's initial keys (AES-256 KEK, HMAC derivation key, P-256 signing key) per second, on the token. */
    static double rawKeyTriplesPerSecond() throws Exception {
        try (Pkcs11Token token = new Pkcs11Token(TestHsm.settings())) {
            SelfSignedCertificates certs = new SelfSignedCertificates();
            long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            long start = System.nanoTime();
            int n = 0;
            while (System.nanoTime() < end) {
                List<HsmKeyLabel> labels = List.of(
                        HsmKeyLabel.of("bench-kg", KeyPurpose.KEK, n + 1),
                        HsmKeyLabel.of("bench-kg", KeyPurpose.DERIVE, n + 1),
                        HsmKeyLabel.of("bench-kg", KeyPurpose.SIGN, n + 1));
                for (HsmKeyLabel l : labels) {
                    token.generate(l, certs);
                }
                n++;
                for (HsmKeyLabel l : labels) {
                    token.destroy(l);
                }
            }
            return n / ((System.nanoTime() - start) / 1e9);
        }
    }

    static void write(List<ProxyLoad.Row> rows, double keyTriples, int seconds) throws IOException {
        StringBuilder t = new StringBuilder();
        t.append("Measured ")
                .append(Instant.now().toString(), 0, 16)
                .append(" UTC, same machine: the packaged service, embedded PostgreSQL and the ")
                .append(
                        "Keycloak distribution (dev mode, its own H2 database) share the 2 cores. A tenant onboarding is the whole saga: claim row, ")
                .append(
                        "Keycloak group and two role subgroups, three keys generated in SoftHSM2, the first admin with a temporary password, one ")
                .append(
                        "commit with two signed audit events. Adding a user: one Keycloak user created with its groups, one signed audit event. ")
                .append("Each row runs ")
                .append(seconds)
                .append(" s after a 5 s warm-up.\n\n");
        t.append(
                "| Scenario | Client threads | Ops/s | p50 ms | p99 ms | Errors | Ratio to raw HSM ceiling |\n|---|---:|---:|---:|---:|---:|---:|\n");
        for (ProxyLoad.Row r : rows) {
            EnrolmentLoadDriver.Run x = r.run();
            String ratio = r.scenario().startsWith("tenant")
                    ? String.format(Locale.ROOT, "%.2f", x.perSecond() / keyTriples)
                    : "—";
            t.append(String.format(
                    Locale.ROOT,
                    "| %s | %d | %,.1f | %.1f | %.1f | %d | %s |%n",
                    r.scenario(),
                    r.threads(),
                    x.perSecond(),
                    x.p50ms(),
                    x.p99ms(),
                    x.errors(),
                    ratio));
        }
        t.append(String.format(
                Locale.ROOT,
                "%nRaw HSM ceiling in this run: %,.1f tenants' key sets/s (KEK + derivation key + signing key generated as "
                        + "token objects and destroyed again, one thread, SunPKCS11 on SoftHSM2). Adding a user and reading the policy use no new HSM key "
                        + "(one audit signature for the user), so their ratio is not given.%n",
                keyTriples));
        EnrolmentLoadDriver.replaceSection("onboarding", "## Tenant onboarding in Keycloak", t.toString());
        System.out.println(t);
    }

    private static int post(String token, String url, String json) throws Exception {
        return ProxyLoad.HTTP
                .send(
                        HttpRequest.newBuilder(URI.create(url))
                                .header("Authorization", "Bearer " + token)
                                .header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(json))
                                .build(),
                        HttpResponse.BodyHandlers.discarding())
                .statusCode();
    }

    private static int get(String token, String url) throws Exception {
        return ProxyLoad.HTTP
                .send(
                        HttpRequest.newBuilder(URI.create(url))
                                .header("Authorization", "Bearer " + token)
                                .build(),
                        HttpResponse.BodyHandlers.discarding())
                .statusCode();
    }

    /** An access token renewed every minute (Keycloak's live five). */
    private static final class Token {
        private final Supplier<String> source;
        private String value;
        private long at;

        Token(Supplier<String> source) {
            this.source = source;
        }

        synchronized String get() {
            if (value == null || System.nanoTime() - at > 60_000_000_000L) {
                value = source.get();
                at = System.nanoTime();
            }
            return value;
        }
    }
}
