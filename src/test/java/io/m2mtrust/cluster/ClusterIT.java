package io.m2mtrust.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.m2mtrust.devstack.KeycloakServer;
import io.m2mtrust.testsupport.AdminClient;
import io.m2mtrust.testsupport.EscertkeOperators;
import io.m2mtrust.testsupport.Haproxy;
import io.m2mtrust.testsupport.IndependentEsprim;
import io.m2mtrust.testsupport.MiniCse;
import io.m2mtrust.testsupport.PackagedService;
import io.m2mtrust.testsupport.RestartablePostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Three packaged replicas on one embedded PostgreSQL and one SoftHSM2 token, a real Keycloak for the admin API, the
 * test CSE behind the proxy, and Debian's HAProxy in front (ADR 0023). Keys made through one replica work through the
 * others; a revocation and a policy change through one reach the others (the delay is measured and printed); one
 * replica is the job leader and another takes over when it is killed; a replica killed with SIGKILL under load loses
 * no acknowledged write, leaves nothing half-written, and the audit chain verifies.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterIT {

    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = AdminClient.HTTP;
    static final String T = "cluster-co";
    static final String KEY_ID = "cluster-1@keys.cluster.example";

    static RestartablePostgres pg;
    static KeycloakServer kc;
    static MiniCse cse;
    static Haproxy lb;
    static final List<PackagedService> replicas = new ArrayList<>();
    static AdminClient adminClient;

    @BeforeAll
    static void start() throws Exception {
        // the same data directory and port each time: the database survives its own restart
        pg = RestartablePostgres.start(Path.of("target/cluster-it/pgdata"));
        kc = KeycloakServer.startForTests(Path.of("target/keycloak-cluster-it"));
        cse = MiniCse.start("/id-in", "cse-in");
        adminClient = new AdminClient(kc);
        Map<String, String> env = PackagedService.environment(pg.current(), kc);
        env.put("QUARKUS_LOG_CATEGORY__IO_M2MTRUST_CLUSTER__LEVEL", "DEBUG");
        Path logs = Path.of("target/cluster-it");
        // all three at once, as a Deployment starts them: the shared HSM objects are made once (ClusterLocks)
        for (String name : List.of("replica-a", "replica-b", "replica-c")) {
            replicas.add(PackagedService.start(name, env, logs));
        }
        for (PackagedService r : replicas) {
            r.awaitReady(Duration.ofMinutes(3));
        }
        lb = Haproxy.start(logs, replicas);
    }

    @AfterAll
    static void stop() throws Exception {
        if (lb != null) {
            lb.close();
        }
        for (PackagedService r : replicas) {
            r.close();
        }
        if (cse != null) {
            cse.close();
        }
        if (kc != null) {
            kc.close();
        }
        if (pg != null) {
            pg.close();
        }
    }

    static PackagedService a() {
        return replicas.get(0);
    }

    static PackagedService b() {
        return replicas.get(1);
    }

    static PackagedService c() {
        return replicas.get(2);
    }

    static HttpResponse<String> admin(String method, String url, Object body, String... headers) throws Exception {
        return adminClient.call(method, url, body, headers);
    }

    static HttpResponse<String> notify(PackagedService via, Object seci, String ri) throws Exception {
        return AdminClient.esprimNotify(via.base(), T, seci, ri);
    }

    static String rsc(HttpResponse<String> r) {
        return AdminClient.rsc(r);
    }

    static List<Integer> esf(PackagedService via) throws Exception {
        HttpResponse<String> r = HTTP.send(
                HttpRequest.newBuilder(URI.create(via.base() + "/onem2m/" + T + "/cse-in"))
                        .header("X-M2M-Origin", "Cany")
                        .header("X-M2M-RI", "cb-" + System.nanoTime())
                        .header("X-M2M-RVI", "3")
                        .GET()
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        List<Integer> out = new ArrayList<>();
        JSON.readTree(r.body()).path("m2m:cb").path("esi").path("esf").forEach(n -> out.add(n.asInt()));
        return out;
    }

    static byte[] pairwise = new byte[32];
    static byte[] session;
    static JsonNode receiverRand;
    static Map<String, Object> originatorRand;
    static final AtomicInteger rqi = new AtomicInteger();

    static String object() {
        return IndependentEsprim.esprimObject(
                session,
                KEY_ID,
                "oCluster",
                receiverRand.get("esri").asText(),
                originatorRand,
                "{\"op\":2,\"to\":\"cse-in\",\"fr\":\"Csensor\",\"rqi\":\"q-" + rqi.incrementAndGet()
                        + "\",\"rvi\":\"3\"}");
    }

    @Test
    @Order(1)
    void keys_made_through_one_replica_work_through_the_others_and_its_revocation_is_refused_by_all() throws Exception {
        String t = a().base() + "/api/v1/tenants/" + T;
        // through replica A: the tenant (its HSM keys), the proxy, a pre-provisioned key sealed under them
        assertThat(admin("POST", a().base() + "/api/v1/tenants", Map.of("id", T, "name", "cluster"))
                        .statusCode())
                .isEqualTo(201);
        assertThat(admin("PUT", t + "/proxy", Map.of("cseUrl", cse.url(), "cseId", "/id-in", "cseBase", "cse-in"))
                        .statusCode())
                .isEqualTo(200);
        assertThat(admin("PUT", t + "/proxy/entities", Map.of("entityId", "/id-in", "resourcePath", "cse-in"))
                        .statusCode())
                .isEqualTo(200);
        new SecureRandom().nextBytes(pairwise);
        HttpResponse<String> created =
                admin("POST", t + "/preprovisioned-keys", AdminClient.preprovisionedKey(KEY_ID, pairwise));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);

        // a receiver rand object from B, a session opened on C with the key A sealed, and a replay refused on B
        receiverRand = JSON.readTree(notify(b(), Map.of("sit", 3), "r-1").body())
                .get("m2m:seci")
                .get("ero");
        originatorRand = IndependentEsprim.originatorRand(
                "oCluster", receiverRand.get("esrx").asText());
        session = IndependentEsprim.sessionKey(
                pairwise, receiverRand.get("esrv").asText(), (String) originatorRand.get("esrv"));
        String first = object();
        HttpResponse<String> onC = notify(c(), Map.of("sit", 5, "epo", first), "o-1");
        assertThat(rsc(onC)).as(onC.body()).isEqualTo("2000");
        HttpResponse<String> replayOnB = notify(b(), Map.of("sit", 5, "epo", first), "o-2");
        assertThat(rsc(replayOnB)).as(replayOnB.body()).isEqualTo("4000");
        assertThat(replayOnB.body()).contains("replayed");

        // sessions live in B's and C's memory now
        assertThat(rsc(notify(b(), Map.of("sit", 5, "epo", object()), "o-3"))).isEqualTo("2000");
        assertThat(rsc(notify(c(), Map.of("sit", 5, "epo", object()), "o-4"))).isEqualTo("2000");

        // revoked through A: its answer comes once every live replica applied the revocation (ADR 0023), so the very
        // next object is refused on B and on C
        HttpResponse<String> revoked = admin("DELETE", t + "/preprovisioned-keys/" + KEY_ID, null);
        assertThat(revoked.statusCode()).as(revoked.body()).isEqualTo(204);
        for (PackagedService other : List.of(b(), c())) {
            HttpResponse<String> next = notify(other, Map.of("sit", 5, "epo", object()), "o-after-" + other.name);
            assertThat(rsc(next)).as(other.name + ": " + next.body()).isEqualTo("4112");
            assertThat(next.body()).contains(KEY_ID);
        }
    }

    @Test
    @Order(2)
    void a_policy_change_through_one_replica_is_seen_by_every_replica() throws Exception {
        for (PackagedService r : replicas) {
            assertThat(esf(r)).as(r.name).contains(13, 23, 33);
        }
        String policyUrl = a().base() + "/api/v1/tenants/" + T + "/policy";
        HttpResponse<String> current = admin("GET", policyUrl, null);
        Map<String, Object> doc = AdminClient.writablePolicy(current.body());
        List<Integer> suids = new ArrayList<>((List<Integer>) doc.get("allowedSuids"));
        suids.remove(Integer.valueOf(23));
        doc.put("allowedSuids", suids);
        HttpResponse<String> put = admin(
                "PUT",
                policyUrl,
                doc,
                "If-Match",
                current.headers().firstValue("ETag").orElseThrow());
        assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
        for (PackagedService r : List.of(b(), c())) {
            assertThat(esf(r)).as(r.name + ", at once").contains(13, 33).doesNotContain(23);
        }

        // propagation measured: 100 more changes through A, each answered once B and C applied it
        String etag = put.headers().firstValue("ETag").orElseThrow();
        for (int i = 0; i < 100; i++) {
            List<Integer> next = new ArrayList<>(suids);
            if (i % 2 == 0) {
                next.add(23);
            }
            doc.put("allowedSuids", next);
            HttpResponse<String> r = admin("PUT", policyUrl, doc, "If-Match", etag);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            etag = r.headers().firstValue("ETag").orElseThrow();
        }
        assertThat(esf(c())).doesNotContain(23); // the last change (odd) removed it again
        HttpResponse<String> metrics = HTTP.send(
                HttpRequest.newBuilder(URI.create(a().base() + "/q/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        metrics.body()
                .lines()
                .filter(l ->
                        l.startsWith("m2m_cluster_propagation_seconds") || l.startsWith("m2m_cluster_unacknowledged"))
                .forEach(l -> System.out.println("cluster: " + a().name + " " + l));
    }

    static String kpmId;
    static byte[] kpm;

    static final String MEF = "mef." + T + ".m2m-trust.local";

    /** One MEF enrolment over TLS-PSK with OpenSSL on {@code port}; the HTTP status, or -1 when the handshake failed. */
    static int enrol(int port) {
        try {
            return io.m2mtrust.testsupport.OpenSsl.pskCall(
                            port, MEF, kpmId, kpm, "POST", "/enrolment", "{\"mafEnrolmentIndication\":false}")
                    .status();
        } catch (Exception | AssertionError e) {
            return -1;
        }
    }

    static HttpResponse<String> setTenantStatus(String status) throws Exception {
        String url = a().base() + "/api/v1/tenants/" + T;
        HttpResponse<String> current = admin("GET", url, null);
        return admin(
                "PUT",
                url,
                Map.of("name", "cluster", "status", status),
                "If-Match",
                current.headers().firstValue("ETag").orElseThrow());
    }

    @Test
    @Order(3)
    void a_device_enrols_through_the_sni_balancer_and_a_suspension_through_one_replica_refuses_it_everywhere()
            throws Exception {
        String t = a().base() + "/api/v1/tenants/" + T;
        HttpResponse<String> policy = admin("GET", t + "/policy", null);
        Map<String, Object> doc = AdminClient.writablePolicy(policy.body());
        doc.put("allowHostMemoryKeys", true); // the test plays the device, so it needs its Kpm
        assertThat(admin(
                                "PUT",
                                t + "/policy",
                                doc,
                                "If-Match",
                                policy.headers().firstValue("ETag").orElseThrow())
                        .statusCode())
                .isEqualTo(200);
        assertThat(admin("POST", t + "/enrolment-groups", Map.of("id", "dev", "name", "devices"))
                        .statusCode())
                .isEqualTo(201);
        assertThat(admin("POST", t + "/enrolment-groups/dev/devices", Map.of("deviceIds", List.of("d1")))
                        .statusCode())
                .isEqualTo(200);
        HttpResponse<String> export = admin("POST", t + "/enrolment-groups/dev/devices/d1/kpm-export", null);
        assertThat(export.statusCode()).as(export.body()).isEqualTo(200);
        JsonNode e = JSON.readTree(export.body());
        kpmId = e.get("kpmId").asText();
        kpm = Base64.getDecoder().decode(e.get("kpm").asText());

        // through the balancer (routed by SNI, TLS passed through) and on each replica: the group key A made works
        assertThat(enrol(lb.devicePort)).isEqualTo(201);
        for (PackagedService r : replicas) {
            assertThat(enrol(r.devicePort)).as(r.name).isEqualTo(201);
        }
        // an unknown SNI gets no server at the balancer
        assertThat(enrolAs("mef.unknown.example", lb.devicePort)).isEqualTo(-1);

        // suspended through A: the next handshake fails on B and on C; active again, it works at once
        assertThat(setTenantStatus("SUSPENDED").statusCode()).isEqualTo(200);
        assertThat(enrol(b().devicePort)).as("B after the suspension").isEqualTo(-1);
        assertThat(enrol(c().devicePort)).as("C after the suspension").isEqualTo(-1);
        assertThat(setTenantStatus("ACTIVE").statusCode()).isEqualTo(200);
        assertThat(enrol(c().devicePort)).as("C after the reactivation").isEqualTo(201);
    }

    static int enrolAs(String sni, int port) {
        try {
            return io.m2mtrust.testsupport.OpenSsl.pskCall(port, sni, kpmId, kpm, "POST", "/enrolment", "{}")
                    .status();
        } catch (Exception | AssertionError e) {
            return -1;
        }
    }

    static final String ESC_A = EscertkeOperators.A;
    static final String SP_A = EscertkeOperators.SP_A;

    static EscertkeOperators operators() {
        return new EscertkeOperators(adminClient, a().base(), b().base());
    }

    static HttpResponse<String> legacy(PackagedService via, String method, String path, String ri) throws Exception {
        return EscertkeOperators.legacy(via.base(), method, path, ri);
    }

    @Test
    @Order(4)
    void escertke_completes_across_replicas_when_the_balancer_routes_by_originator_and_fails_cleanly_otherwise()
            throws Exception {
        try (MiniCse cseB = MiniCse.start("/id-b", "cse-b")) {
            operators().setUp(cse, cseB);
            // a plain balancer: message 1 and message 3 reach different replicas; message 3 finds no handshake there
            // and the initiator gets a clean oneM2M error, never a hang or a wrong key (ADR 0024)
            operators().remoteAt(lb.roundRobinBase());
            HttpResponse<String> split = legacy(b(), "POST", "cse-b", "split-1");
            System.out.printf(
                    "cluster: ESCertKE through a round-robin balancer: %d %s %s%n",
                    split.statusCode(), rsc(split), split.body());
            assertThat(split.statusCode()).as(split.body()).isBetween(400, 599);
            assertThat(rsc(split)).as(split.body()).matches("[456]\\d{3}");
            // hashing on X-M2M-Origin: the handshake stays on one replica and completes; the initiator runs on B with
            // the CA and end-point keys A made
            operators().remoteAt(lb.base());
            HttpResponse<String> created = legacy(b(), "POST", "cse-b", "create-1");
            assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
            assertThat(rsc(created)).isEqualTo("2001");
            assertThat(cseB.seen().get(cseB.seen().size() - 1).origin()).isEqualTo("//" + SP_A + "/id-a/Clegacy");
            // the established key is a row every replica uses: the next primitive, originated on C, needs no handshake
            HttpResponse<String> got = legacy(c(), "GET", "cse-b/Clegacy", "get-1");
            assertThat(rsc(got)).as(got.body()).isEqualTo("2000");
            JsonNode keys = JSON.readTree(admin("GET", a().base() + "/api/v1/tenants/" + ESC_A + "/escertke/keys", null)
                    .body());
            long usable = 0;
            for (JsonNode k : keys) {
                if (!"REVOKED".equals(k.path("status").asText())) {
                    usable++;
                }
            }
            assertThat(usable).as(keys.toString()).isEqualTo(1);
        }
    }

    @Test
    @Order(5)
    void one_replica_runs_the_jobs_and_another_takes_over_when_it_is_killed() throws Exception {
        PackagedService leader = awaitOneLeader(replicas);
        leader.kill();
        List<PackagedService> survivors = new ArrayList<>(replicas);
        survivors.remove(leader);
        PackagedService next = awaitOneLeader(survivors);
        assertThat(next).isNotSameAs(leader);
        leader.restart();
        leader.awaitReady(Duration.ofMinutes(2));
        assertThat(leader.readinessData("cluster").path("jobLeader").asBoolean())
                .as("the restarted replica does not take the lock from the running leader")
                .isFalse();
    }

    static PackagedService awaitOneLeader(List<PackagedService> among) throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < end) {
            List<PackagedService> leaders = new ArrayList<>();
            for (PackagedService r : among) {
                JsonNode d = r.readinessData("cluster");
                if (d != null && d.path("jobLeader").asBoolean()) {
                    leaders.add(r);
                }
            }
            assertThat(leaders.size()).as("job leaders at once").isLessThanOrEqualTo(1);
            if (leaders.size() == 1) {
                return leaders.get(0);
            }
            Thread.sleep(200);
        }
        throw new AssertionError(
                "no job leader among " + among.stream().map(r -> r.name).toList());
    }

    @Test
    @Order(6)
    void a_replica_killed_under_load_loses_no_acknowledged_write_and_the_audit_chain_verifies() throws Exception {
        String keys = lb.base() + "/api/v1/tenants/" + T + "/preprovisioned-keys";
        Set<String> acknowledged = ConcurrentHashMap.newKeySet();
        AtomicInteger failed = new AtomicInteger();
        AtomicInteger afterKill = new AtomicInteger();
        AtomicBoolean killed = new AtomicBoolean();
        AtomicBoolean running = new AtomicBoolean(true);
        ExecutorService load = Executors.newFixedThreadPool(5);
        List<Future<?>> workers = new ArrayList<>();
        for (int w = 0; w < 4; w++) {
            int worker = w;
            workers.add(load.submit(() -> {
                int i = 0;
                while (running.get()) {
                    String id = "load-" + worker + "-" + i++ + "@keys.cluster.example";
                    byte[] value = new byte[32];
                    new SecureRandom().nextBytes(value);
                    try {
                        HttpResponse<String> r = admin("POST", keys, AdminClient.preprovisionedKey(id, value));
                        if (r.statusCode() == 201) {
                            acknowledged.add(id);
                            if (killed.get()) {
                                afterKill.incrementAndGet();
                            }
                        } else {
                            failed.incrementAndGet();
                        }
                    } catch (Exception e) {
                        failed.incrementAndGet();
                    }
                }
                return null;
            }));
        }
        // and a device enrolling again and again through the balancer's TCP frontend
        AtomicInteger enrolled = new AtomicInteger();
        long enrolmentsBefore;
        try (Connection c = pg.connect();
                Statement st = c.createStatement()) {
            enrolmentsBefore = count(st, "select count(*) from enrolment where tenant_id = '" + T + "'");
        }
        workers.add(load.submit(() -> {
            while (running.get()) {
                if (enrol(lb.devicePort) == 201) {
                    enrolled.incrementAndGet();
                } else {
                    failed.incrementAndGet();
                }
            }
            return null;
        }));
        Thread.sleep(3_000);
        PackagedService victim = b();
        victim.kill();
        killed.set(true);
        Thread.sleep(5_000);
        running.set(false);
        for (Future<?> f : workers) {
            f.get(60, TimeUnit.SECONDS);
        }
        load.shutdown();
        System.out.printf(
                "cluster: %d writes acknowledged (%d after the kill), %d failed%n",
                acknowledged.size(), afterKill.get(), failed.get());
        assertThat(afterKill.get()).as("the survivors keep answering").isGreaterThan(0);
        assertThat(failed.get())
                .as("only requests in flight on the killed replica fail")
                .isLessThanOrEqualTo(5);

        // every acknowledged key is there, and every key there has its audit event (nothing half-written)
        Set<String> stored = new HashSet<>();
        Set<String> audited = new HashSet<>();
        try (Connection c = pg.connect()) {
            try (PreparedStatement ps = c.prepareStatement(
                            "select key_id from preprovisioned_key where tenant_id = ? and key_id like 'load-%'");
                    ResultSet rs = bind(ps, T).executeQuery()) {
                while (rs.next()) {
                    stored.add(rs.getString(1));
                }
            }
            try (PreparedStatement ps = c.prepareStatement(
                            "select target from audit_event where chain = ? and target like 'key/load-%'");
                    ResultSet rs = bind(ps, T).executeQuery()) {
                while (rs.next()) {
                    audited.add(rs.getString(1).substring("key/".length()));
                }
            }
        }
        assertThat(stored).containsAll(acknowledged);
        assertThat(audited).isEqualTo(stored);
        // every acknowledged enrolment is a row, and the device has exactly one live enrolment (none half-replaced)
        try (Connection c = pg.connect();
                Statement st = c.createStatement()) {
            long rows = count(st, "select count(*) from enrolment where tenant_id = '" + T + "'") - enrolmentsBefore;
            assertThat(rows).as("enrolment rows made under load").isGreaterThanOrEqualTo(enrolled.get());
            assertThat(count(st, "select count(*) from enrolment where tenant_id = '" + T + "' and status = 'ACTIVE'"))
                    .isEqualTo(1);
        }
        System.out.printf("cluster: %d device enrolments acknowledged under the kill%n", enrolled.get());
        HttpResponse<String> verify = admin("GET", lb.base() + "/api/v1/tenants/" + T + "/audit/verify", null);
        assertThat(verify.statusCode()).as(verify.body()).isEqualTo(200);
        assertThat(JSON.readTree(verify.body()).path("intact").asBoolean())
                .as(verify.body())
                .isTrue();

        victim.restart();
        victim.awaitReady(Duration.ofMinutes(2));
    }

    /** Requests through the balancer from a few threads; counts what succeeded and what failed, and how. */
    static final class Load implements AutoCloseable {
        final AtomicInteger ok = new AtomicInteger();
        final AtomicInteger failed = new AtomicInteger();
        final Set<String> failures = ConcurrentHashMap.newKeySet();
        final Set<String> created = ConcurrentHashMap.newKeySet();
        final AtomicBoolean running = new AtomicBoolean(true);
        final ExecutorService pool = Executors.newFixedThreadPool(4);
        final AtomicInteger enrolments = new AtomicInteger();
        final List<Future<?>> workers = new ArrayList<>();

        Load(String tag) {
            String api = lb.base() + "/api/v1/tenants/" + T;
            for (int w = 0; w < 3; w++) {
                int worker = w;
                workers.add(pool.submit(() -> {
                    int i = 0;
                    while (running.get()) {
                        try {
                            HttpResponse<String> r;
                            String id = null;
                            if (worker == 0) {
                                id = tag + "-" + i++ + "@keys.cluster.example";
                                byte[] value = new byte[32];
                                new SecureRandom().nextBytes(value);
                                r = admin(
                                        "POST", api + "/preprovisioned-keys", AdminClient.preprovisionedKey(id, value));
                            } else {
                                r = admin("GET", api + "/policy", null);
                            }
                            if (r.statusCode() / 100 == 2) {
                                ok.incrementAndGet();
                                if (id != null) {
                                    created.add(id);
                                }
                            } else {
                                failed.incrementAndGet();
                                failures.add(r.statusCode() + " " + r.body());
                            }
                        } catch (Exception e) {
                            failed.incrementAndGet();
                            failures.add(e.toString());
                        }
                    }
                    return null;
                }));
            }
            // a device enrolling again and again through the balancer's TCP frontend (one TLS session each)
            workers.add(pool.submit(() -> {
                while (running.get()) {
                    int status = enrol(lb.devicePort);
                    if (status == 201) {
                        ok.incrementAndGet();
                        enrolments.incrementAndGet();
                    } else {
                        failed.incrementAndGet();
                        failures.add("device enrolment: " + status);
                    }
                }
                return null;
            }));
        }

        @Override
        public void close() throws Exception {
            running.set(false);
            for (Future<?> f : workers) {
                f.get(60, TimeUnit.SECONDS);
            }
            pool.shutdown();
        }
    }

    @Test
    @Order(7)
    void a_rolling_restart_of_every_replica_under_load_fails_no_request_at_the_balancer() throws Exception {
        Load load = new Load("rolling");
        try (load) {
            Thread.sleep(1_000);
            for (PackagedService r : replicas) {
                long t0 = System.nanoTime();
                int code = r.stop(); // SIGTERM: readiness DOWN, requests served through the delay, then drained
                long stopped = (System.nanoTime() - t0) / 1_000_000;
                r.restart();
                r.awaitReady(Duration.ofMinutes(2));
                Thread.sleep(1_000); // the balancer's checks see it UP (rise 2 × 300 ms)
                System.out.printf("cluster: %s stopped in %d ms (exit %d) and is back%n", r.name, stopped, code);
            }
        }
        System.out.printf(
                "cluster: rolling restart: %d requests answered (%d device enrolments), %d failed%n",
                load.ok.get(), load.enrolments.get(), load.failed.get());
        assertThat(load.failures).as("failed requests at the balancer").isEmpty();
        assertThat(load.ok.get()).isGreaterThan(0);
    }

    @Test
    @Order(8)
    void postgresql_restarted_takes_every_replica_down_and_up_again_and_nothing_is_lost() throws Exception {
        long keysBefore;
        long eventsBefore;
        try (Connection c = pg.connect();
                Statement s = c.createStatement()) {
            keysBefore = count(s, "select count(*) from preprovisioned_key");
            eventsBefore = count(s, "select count(*) from audit_event");
        }
        pg.stop();
        for (PackagedService r : replicas) {
            awaitReadiness(r, false, Duration.ofSeconds(30));
        }
        pg.startAgain();
        for (PackagedService r : replicas) {
            awaitReadiness(r, true, Duration.ofSeconds(60));
        }
        awaitBalancer(Duration.ofSeconds(10)); // its checks see them UP again (rise 2 × 300 ms)
        try (Connection c = pg.connect();
                Statement s = c.createStatement()) {
            assertThat(count(s, "select count(*) from preprovisioned_key")).isEqualTo(keysBefore);
            assertThat(count(s, "select count(*) from audit_event")).isEqualTo(eventsBefore);
        }
        HttpResponse<String> verify = admin("GET", lb.base() + "/api/v1/tenants/" + T + "/audit/verify", null);
        assertThat(JSON.readTree(verify.body()).path("intact").asBoolean())
                .as(verify.body())
                .isTrue();
        // and every replica works again: a write through each
        for (PackagedService r : replicas) {
            byte[] value = new byte[32];
            new SecureRandom().nextBytes(value);
            HttpResponse<String> made = admin(
                    "POST",
                    r.base() + "/api/v1/tenants/" + T + "/preprovisioned-keys",
                    AdminClient.preprovisionedKey("after-pg-" + r.name + "@keys.cluster.example", value));
            assertThat(made.statusCode()).as(r.name + ": " + made.body()).isEqualTo(201);
        }
    }

    static void awaitReadiness(PackagedService r, boolean up, Duration within) throws InterruptedException {
        long end = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < end) {
            if (r.ready() == up) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError(r.name + " readiness did not turn " + (up ? "UP" : "DOWN") + ":\n" + r.tail());
    }

    static void awaitBalancer(Duration within) throws Exception {
        long end = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < end) {
            try {
                if (HTTP.send(
                                        HttpRequest.newBuilder(URI.create(lb.base() + "/q/health/ready"))
                                                .build(),
                                        HttpResponse.BodyHandlers.discarding())
                                .statusCode()
                        == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // the balancer answers 503 without a server; a refused connection is not expected but retried
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the balancer has no server UP");
    }

    static long count(Statement s, String sql) throws java.sql.SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static PreparedStatement bind(PreparedStatement ps, String tenant) throws java.sql.SQLException {
        ps.setString(1, tenant);
        return ps;
    }
}
