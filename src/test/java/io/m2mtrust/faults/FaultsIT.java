package io.m2mtrust.faults;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.m2mtrust.devstack.KeycloakServer;
import io.m2mtrust.testsupport.AdminClient;
import io.m2mtrust.testsupport.EscertkeOperators;
import io.m2mtrust.testsupport.MafDevices;
import io.m2mtrust.testsupport.MiniCse;
import io.m2mtrust.testsupport.OpenSsl;
import io.m2mtrust.testsupport.PackagedService;
import io.m2mtrust.testsupport.RestartablePostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Bad days for one packaged service (issue 21), with real processes on loopback: the embedded PostgreSQL stopped under
 * a load of device enrolments, MAF batch retrievals, admin writes (each an audit append) and ESCertKE handshakes; the
 * service killed with SIGKILL under load ten times in a row; Keycloak stopped. After each: nothing acknowledged is
 * missing, nothing is half-written, every audit chain verifies, readiness went DOWN and came back UP, and what failed
 * failed with a clear answer that a retry turned into a success.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FaultsIT {

    static final ObjectMapper JSON = new ObjectMapper();
    static final String T = "faults-co";
    static final String MEF = "mef." + T + ".m2m-trust.local";

    static final Path WORK = Path.of("target/faults-it");
    static RestartablePostgres pg;
    static KeycloakServer kc;
    static MiniCse cseA;
    static MiniCse cseB;
    static PackagedService svc;
    static AdminClient admin;
    static MafDevices devices;
    static MafDevices.Device source;
    static MafDevices.Device target;
    static final List<String> registeredForTarget = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        pg = RestartablePostgres.start(WORK.resolve("pgdata"));
        kc = KeycloakServer.startForTests(WORK.resolve("keycloak"));
        cseA = MiniCse.start("/id-a", "cse-a");
        cseB = MiniCse.start("/id-b", "cse-b");
        admin = new AdminClient(kc);
        svc = PackagedService.start("faults", PackagedService.environment(pg.current(), kc), WORK)
                .awaitReady(Duration.ofMinutes(3));
        fixtures();
    }

    @AfterAll
    static void stop() throws Exception {
        if (svc != null) {
            svc.close();
        }
        for (AutoCloseable c : new AutoCloseable[] {cseA, cseB, kc, pg}) {
            if (c != null) {
                c.close();
            }
        }
    }

    /** A tenant with devices (one enrols again and again, two are MAF clients), 20 keys for the target, ESCertKE. */
    static void fixtures() throws Exception {
        String t = svc.base() + "/api/v1/tenants/" + T;
        assertThat(call("POST", svc.base() + "/api/v1/tenants", Map.of("id", T, "name", "faults"))
                        .statusCode())
                .isEqualTo(201);
        HttpResponse<String> policy = call("GET", t + "/policy", null);
        Map<String, Object> doc = AdminClient.writablePolicy(policy.body());
        doc.put("allowHostMemoryKeys", true); // the test plays the devices, so it needs their Kpm
        assertThat(call("PUT", t + "/policy", doc, "If-Match", etag(policy)).statusCode())
                .isEqualTo(200);
        assertThat(call("POST", t + "/enrolment-groups", Map.of("id", "dev", "name", "devices"))
                        .statusCode())
                .isEqualTo(201);
        List<String> ids = List.of("enrolling", "source", "target");
        assertThat(call("POST", t + "/enrolment-groups/dev/devices", Map.of("deviceIds", ids))
                        .statusCode())
                .isEqualTo(200);
        devices = MafDevices.existing(T, svc.devicePort);
        for (String id : ids) {
            HttpResponse<String> export = call("POST", t + "/enrolment-groups/dev/devices/" + id + "/kpm-export", null);
            assertThat(export.statusCode()).as(export.body()).isEqualTo(200);
            JsonNode e = JSON.readTree(export.body());
            devices.kpmIds.put(id, e.get("kpmId").asText());
            devices.kpms.put(id, Base64.getDecoder().decode(e.get("kpm").asText()));
        }
        source = devices.enrolAndRegister("source");
        target = devices.enrolAndRegister("target");
        for (int i = 0; i < 20; i++) {
            OpenSsl.Answer reg = devices.maf(source, "POST", "/keyRegistration", keyRegistration());
            assertThat(reg.status()).as(reg.output()).isEqualTo(201);
            registeredForTarget.add(reg.json().getString("relativeKeyId"));
        }
        EscertkeOperators operators = new EscertkeOperators(admin, svc.base(), svc.base());
        operators.setUp(cseA, cseB);
        operators.remoteAt(svc.base());
    }

    static String keyRegistration() {
        byte[] v = new byte[32];
        new SecureRandom().nextBytes(v);
        return OpenSsl.keyRegistration(
                "mafFqdn",
                devices.maf,
                devices.admin,
                34,
                List.of(target.kpmId()),
                Base64.getEncoder().encodeToString(v),
                Instant.now().plusSeconds(3600));
    }

    static HttpResponse<String> call(String method, String url, Object body, String... headers) throws Exception {
        return admin.call(method, url, body, headers);
    }

    static String etag(HttpResponse<String> r) {
        return r.headers().firstValue("ETag").orElseThrow();
    }

    // ---------------------------------------------------------------- the load

    /** When a request started: before the fault, during it, while the service recovers, after it. */
    enum Phase {
        BEFORE,
        FAULT,
        RECOVERY,
        AFTER
    }

    /**
     * Four clients in a loop, each recording its outcomes per phase: a device enrolling over TLS-PSK (OpenSSL), the
     * MAF target retrieving its 20 keys in one batch, an admin registering pre-provisioned keys (each write appends
     * to the audit chain), and operator A's legacy AE reaching B's CSE through ESCertKE (its key revoked after each
     * success, so every round is a new handshake).
     */
    static final class Load implements AutoCloseable {
        final String tag;
        volatile Phase phase = Phase.BEFORE;
        final AtomicBoolean running = new AtomicBoolean(true);
        final Map<String, Map<Phase, Map<String, Integer>>> outcomes = new ConcurrentHashMap<>();
        final Set<String> acknowledgedKeys = ConcurrentHashMap.newKeySet();
        final Set<String> acknowledgedMafKeys = ConcurrentHashMap.newKeySet();
        final AtomicInteger acknowledgedEnrolments = new AtomicInteger();
        /** The bodies of the proxy's answers other than 2000, printed with the outcomes. */
        final Set<String> answers = ConcurrentHashMap.newKeySet();

        final ExecutorService pool = Executors.newFixedThreadPool(5);
        final List<Future<?>> workers = new ArrayList<>();

        Load(String tag, boolean escertke) {
            this.tag = tag;
            loop("enrolment", () -> {
                int s = enrol();
                if (s == 201) {
                    acknowledgedEnrolments.incrementAndGet();
                }
                return s == -1 ? "tls-refused" : Integer.toString(s);
            });
            loop("maf-batch", () -> {
                String body =
                        "{\"relativeKeyIds\":[\"" + String.join("\",\"", registeredForTarget) + "\"],\"suid\":34}";
                OpenSsl.Answer a;
                try {
                    a = devices.maf(target, "POST", "/keyRetrieval", body);
                } catch (Exception | AssertionError e) {
                    return "tls-refused";
                }
                if (a.status() == 200) {
                    assertThat(a.json().getList("results.status"))
                            .containsOnly(200)
                            .hasSize(20);
                }
                return Integer.toString(a.status());
            });
            AtomicInteger n = new AtomicInteger();
            loop("admin-write", () -> {
                String id = tag + "-" + n.incrementAndGet() + "@keys.faults.example";
                byte[] value = new byte[32];
                new SecureRandom().nextBytes(value);
                HttpResponse<String> r = call(
                        "POST",
                        svc.base() + "/api/v1/tenants/" + T + "/preprovisioned-keys",
                        AdminClient.preprovisionedKey(id, value));
                if (r.statusCode() == 201) {
                    acknowledgedKeys.add(id);
                }
                return outcome(r);
            });
            loop("maf-register", () -> {
                OpenSsl.Answer a;
                try {
                    a = devices.maf(source, "POST", "/keyRegistration", keyRegistration());
                } catch (Exception | AssertionError e) {
                    return "tls-refused";
                }
                if (a.status() == 201) {
                    acknowledgedMafKeys.add(a.json().getString("keyIdentifier"));
                }
                return Integer.toString(a.status());
            });
            if (escertke) {
                AtomicInteger ri = new AtomicInteger();
                loop("escertke", () -> {
                    HttpResponse<String> r =
                            EscertkeOperators.legacy(svc.base(), "GET", "cse-b", tag + "-e-" + ri.incrementAndGet());
                    String rsc = r.headers().firstValue("X-M2M-RSC").orElse("none");
                    if ("2000".equals(rsc)) {
                        revokeEscertkeKeys(); // the next primitive needs a new handshake
                    } else {
                        answers.add(r.statusCode() + "/" + rsc + " " + r.body());
                    }
                    return r.statusCode() + "/" + rsc;
                });
            }
        }

        interface Step {
            String run() throws Exception;
        }

        void loop(String client, Step step) {
            workers.add(pool.submit(() -> {
                while (running.get()) {
                    String outcome;
                    try {
                        outcome = step.run();
                    } catch (Exception e) {
                        outcome = "exception " + e.getClass().getSimpleName();
                        Thread.sleep(50); // the process is down: no busy loop of refused connections
                    }
                    // the phase the request ended in: one in flight when the fault began counts as during the fault
                    Phase at = phase;
                    outcomes.computeIfAbsent(client, c -> new ConcurrentHashMap<>())
                            .computeIfAbsent(at, p -> new ConcurrentHashMap<>())
                            .merge(outcome, 1, Integer::sum);
                }
                return null;
            }));
        }

        Map<String, Integer> of(String client, Phase phase) {
            return outcomes.getOrDefault(client, Map.of()).getOrDefault(phase, Map.of());
        }

        @Override
        public void close() throws Exception {
            running.set(false);
            for (Future<?> f : workers) {
                f.get(90, TimeUnit.SECONDS);
            }
            pool.shutdown();
        }

        void print(String title) {
            System.out.println("faults: " + title);
            new TreeMap<>(outcomes)
                    .forEach((client, byPhase) ->
                            System.out.println("faults:   " + client + " " + new TreeMap<>(byPhase)));
            answers.forEach(a -> System.out.println("faults:   proxy answered " + a));
        }
    }

    static int enrol() {
        try {
            return OpenSsl.pskCall(
                            svc.devicePort,
                            MEF,
                            devices.kpmIds.get("enrolling"),
                            devices.kpms.get("enrolling"),
                            "POST",
                            "/enrolment",
                            "{\"mafEnrolmentIndication\":false}")
                    .status();
        } catch (Exception | AssertionError e) {
            return -1;
        }
    }

    /** An admin answer as "status" or "status problem-type" (the last segment of the problem's type). */
    static String outcome(HttpResponse<String> r) {
        if (r.statusCode() < 300) {
            return Integer.toString(r.statusCode());
        }
        String type;
        try {
            String t = JSON.readTree(r.body()).path("type").asText("");
            type = t.substring(t.lastIndexOf(':') + 1);
        } catch (IOException notJson) {
            type = "not-json";
        }
        String retry =
                r.headers().firstValue("Retry-After").map(v -> " retry-after").orElse("");
        return r.statusCode() + " " + type + retry;
    }

    static void revokeEscertkeKeys() throws Exception {
        String keys = svc.base() + "/api/v1/tenants/" + EscertkeOperators.A + "/escertke/keys";
        HttpResponse<String> r = call("GET", keys, null);
        if (r.statusCode() != 200) {
            return;
        }
        for (JsonNode k : JSON.readTree(r.body())) {
            if (!"REVOKED".equals(k.path("status").asText())) {
                call("DELETE", keys + "/" + k.path("keyId").asText(), null);
            }
        }
    }

    // ---------------------------------------------------------------- the faults

    @Test
    @Order(1)
    void postgresql_stopped_under_load_fails_requests_clearly_writes_nothing_half_and_a_retry_succeeds()
            throws Exception {
        Load load = new Load("pg", true);
        try (load) {
            awaitSuccesses(load, Phase.BEFORE);
            load.phase = Phase.FAULT;
            pg.stop(); // a fast shutdown: open connections are terminated mid-statement
            awaitReadiness(false, Duration.ofSeconds(30));
            Thread.sleep(3_000); // the clients keep trying against the stopped database
            load.phase = Phase.RECOVERY;
            pg.startAgain();
            awaitReadiness(true, Duration.ofSeconds(60));
            load.phase = Phase.AFTER;
            awaitSuccesses(load, Phase.AFTER);
        }
        load.print("PostgreSQL stopped under load");
        for (String client : load.outcomes.keySet()) {
            assertThat(load.of(client, Phase.BEFORE).keySet())
                    .as(client + " before the fault")
                    .allMatch(FaultsIT::success);
            for (Phase p : List.of(Phase.FAULT, Phase.RECOVERY)) {
                assertThat(load.of(client, p).keySet())
                        .as(client + " during the fault: a success or a clear refusal, never a 500")
                        .allMatch(o -> success(o) || clearRefusal(o));
            }
        }
        assertThat(load.of("admin-write", Phase.FAULT))
                .as("the API says the database is unavailable and when to retry")
                .containsKey("503 database-unavailable retry-after");
        assertIntact(load);
    }

    @Test
    @Order(2)
    void killed_with_sigkill_under_load_ten_times_keeps_every_acknowledged_write_and_the_chain_verifies()
            throws Exception {
        for (int round = 1; round <= 10; round++) {
            Load load = new Load("kill" + round, false);
            try (load) {
                awaitSuccesses(load, Phase.BEFORE);
                load.phase = Phase.FAULT;
                svc.kill();
                svc.restart();
                load.phase = Phase.RECOVERY;
                svc.awaitReady(Duration.ofMinutes(2));
                load.phase = Phase.AFTER;
                awaitSuccesses(load, Phase.AFTER);
            }
            if (round == 1 || round == 10) {
                load.print("SIGKILL round " + round);
            }
            System.out.printf(
                    "faults: SIGKILL round %d: %d admin keys, %d MAF keys, %d enrolments acknowledged%n",
                    round,
                    load.acknowledgedKeys.size(),
                    load.acknowledgedMafKeys.size(),
                    load.acknowledgedEnrolments.get());
            assertIntact(load);
        }
    }

    @Test
    @Order(3)
    void keycloak_down_keeps_issued_tokens_working_and_refuses_onboarding_cleanly() throws Exception {
        String token = kc.passwordGrant("olivia", "olivia-demo-password");
        kc.close();
        String t = svc.base() + "/api/v1/tenants/" + T;
        // tokens already issued verify against the realm keys the service holds (no call to Keycloak per request)
        assertThat(AdminClient.callAs(token, "GET", t + "/policy", null).statusCode())
                .isEqualTo(200);
        byte[] value = new byte[32];
        new SecureRandom().nextBytes(value);
        HttpResponse<String> made = AdminClient.callAs(
                token,
                "POST",
                t + "/preprovisioned-keys",
                AdminClient.preprovisionedKey("while-keycloak-down@keys.faults.example", value));
        assertThat(made.statusCode()).as(made.body()).isEqualTo(201);
        // onboarding needs Keycloak: refused with a clear problem, nothing left behind
        HttpResponse<String> onboard = AdminClient.callAs(
                token, "POST", svc.base() + "/api/v1/tenants", Map.of("id", "faults-new", "name", "x"));
        assertThat(outcome(onboard)).isEqualTo("503 identity-provider-unavailable");
        assertThat(AdminClient.callAs(token, "GET", svc.base() + "/api/v1/tenants/faults-new", null)
                        .statusCode())
                .isEqualTo(404);
        // a token the service cannot verify is refused, not a server error
        String forged = token.substring(0, token.lastIndexOf('.') + 1) + "AAAA";
        assertThat(AdminClient.callAs(forged, "GET", t + "/policy", null).statusCode())
                .isEqualTo(401);
        assertThat(svc.ready()).as("readiness does not depend on Keycloak").isTrue();
    }

    // ---------------------------------------------------------------- checks

    static boolean success(String outcome) {
        return outcome.equals("200") || outcome.equals("201") || outcome.equals("200/2000");
    }

    /**
     * A refusal a client can act on: 503 with Retry-After (API: problem+json; device listener; proxy with RSC 5000),
     * a TLS handshake refused (the PSK could not be looked up), a connection refused while the process is down, or a
     * oneM2M answer of the 5xxx class from the proxy.
     */
    static boolean clearRefusal(String outcome) {
        return outcome.equals("503 database-unavailable retry-after")
                || outcome.equals("503")
                || outcome.equals("tls-refused")
                || outcome.startsWith("exception ConnectException")
                || outcome.startsWith("exception IOException")
                || outcome.matches("5\\d\\d/5\\d{3}");
    }

    /** Waits until every client has succeeded at least once in {@code phase} (a retry after a fault succeeds). */
    static void awaitSuccesses(Load load, Phase phase) throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (System.nanoTime() < end) {
            boolean all = !load.outcomes.isEmpty()
                    && load.workers.size() == load.outcomes.size()
                    && load.outcomes.keySet().stream()
                            .allMatch(c -> load.of(c, phase).keySet().stream().anyMatch(FaultsIT::success));
            if (all) {
                return;
            }
            Thread.sleep(100);
        }
        load.print("no success " + phase);
        throw new AssertionError("not every client succeeded " + phase + ":\n" + svc.tail());
    }

    static void awaitReadiness(boolean up, Duration within) throws InterruptedException {
        long end = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < end) {
            if (svc.ready() == up) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("readiness did not turn " + (up ? "UP" : "DOWN") + ":\n" + svc.tail());
    }

    /**
     * Every acknowledged write is there and has its audit event; every write there has its audit event (none half
     * done); each device has exactly one live enrolment; every ESCertKE key has its audit event; the audit
     * chains of the three tenants verify.
     */
    static void assertIntact(Load load) throws Exception {
        try (Connection c = pg.connect()) {
            Set<String> keys = strings(
                    c,
                    "select key_id from preprovisioned_key where tenant_id = ? and key_id like ?",
                    T,
                    load.tag + "-%");
            Set<String> keysAudited = new HashSet<>();
            for (String target : strings(
                    c,
                    "select target from audit_event where chain = ? and target like ?",
                    T,
                    "key/" + load.tag + "-%")) {
                keysAudited.add(target.substring("key/".length()));
            }
            assertThat(keys).containsAll(load.acknowledgedKeys);
            assertThat(keysAudited)
                    .as("pre-provisioned keys with their audit event")
                    .isEqualTo(keys);

            Set<String> mafKeys = new HashSet<>();
            for (String rel : strings(
                    c,
                    "select relative_key_id from key_registration where tenant_id = ? and registrar = ?",
                    T,
                    "MAF")) {
                mafKeys.add(rel + "@" + devices.maf);
            }
            Set<String> mafAudited = strings(
                    c,
                    "select target from audit_event where chain = ? and action = ? and outcome = ?",
                    T,
                    "maf.key.register",
                    "SUCCESS");
            assertThat(mafKeys).containsAll(load.acknowledgedMafKeys);
            assertThat(mafAudited)
                    .as("MAF key registrations with their audit event")
                    .isEqualTo(mafKeys);

            assertThat(strings(c, "select enrolee_id from enrolment where tenant_id = ? and status = ?", T, "ACTIVE"))
                    .as("each of the three devices has one live enrolment (none lost, none half-replaced)")
                    .hasSize(3);
            assertThat(strings(c, "select ke_id from enrolment where tenant_id = ? and status = ?", T, "ACTIVE"))
                    .hasSize(3);
            Set<String> enrolments = strings(c, "select ke_id from enrolment where tenant_id = ?", T);
            Set<String> enrolmentsAudited =
                    strings(c, "select target from audit_event where chain = ? and action = ?", T, "enrolment.create");
            assertThat(enrolmentsAudited)
                    .as("enrolments with their audit event")
                    .isEqualTo(enrolments);

            for (String tenant : List.of(EscertkeOperators.A, EscertkeOperators.B)) {
                Set<String> escKeys = new HashSet<>();
                for (String k : strings(c, "select key_id from escertke_key where tenant_id = ?", tenant)) {
                    escKeys.add("escertke-key/" + k);
                }
                assertThat(strings(
                                c,
                                "select target from audit_event where chain = ? and action = ?",
                                tenant,
                                "escertke.established"))
                        .as("ESCertKE keys of " + tenant + " with their audit event")
                        .isEqualTo(escKeys);
            }
        }
        for (String tenant : List.of(T, EscertkeOperators.A, EscertkeOperators.B)) {
            HttpResponse<String> verify = call("GET", svc.base() + "/api/v1/tenants/" + tenant + "/audit/verify", null);
            assertThat(verify.statusCode()).as(verify.body()).isEqualTo(200);
            assertThat(JSON.readTree(verify.body()).path("intact").asBoolean())
                    .as(tenant + ": " + verify.body())
                    .isTrue();
        }
    }

    static Set<String> strings(Connection c, String sql, String... params) throws SQLException {
        Set<String> out = new HashSet<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                ps.setString(i + 1, params[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }
}
