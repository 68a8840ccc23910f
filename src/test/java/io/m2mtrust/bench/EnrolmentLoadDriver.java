package io.m2mtrust.bench;

import io.m2mtrust.devstack.KeycloakServer;
import io.m2mtrust.hsm.HsmCrypto;
import io.m2mtrust.hsm.HsmKeyLabel;
import io.m2mtrust.hsm.KeyPurpose;
import io.m2mtrust.hsm.Pkcs11Token;
import io.m2mtrust.hsm.SelfSignedCertificates;
import io.m2mtrust.testsupport.TestHsm;
import io.m2mtrust.tls.TlsCryptos;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.bouncycastle.tls.BasicTlsPSKIdentity;
import org.bouncycastle.tls.CipherSuite;
import org.bouncycastle.tls.NameType;
import org.bouncycastle.tls.PSKTlsClient;
import org.bouncycastle.tls.ProtocolVersion;
import org.bouncycastle.tls.ServerName;
import org.bouncycastle.tls.TlsClientProtocol;
import org.bouncycastle.tls.TlsExtensionsUtils;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Hashtable;
import java.util.List;
import java.util.Locale;
import java.util.Vector;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Load driver for full PSK enrolments against the packaged service (never part of the test suite):
 * TLS 1.2 PSK handshake (Bouncy Castle client) + exporter + Kpm derivation in the HSM + sealed Ke + audit,
 * measured with an almost empty database and again grown to 100 tenants, 1,000,000 devices and 100,000 keys, beside the raw
 * HSM ceiling of the same three HSM operations measured in this run. Writes a section of BENCHMARKS.md.
 */
public final class EnrolmentLoadDriver {

    static final String TENANT = "bench-co";
    static final String GROUP = "meters";

    private EnrolmentLoadDriver() {}

    public record Provisioned(String kpmId, byte[] kpm) {}

    record Run(String scenario, int threads, double perSecond, double p50ms, double p99ms, long errors) {
        /** A BENCHMARKS.md row: scenario, threads, rate, p50, p99, errors, rate ÷ {@code divisor}. */
        String tableRow(double divisor) {
            return String.format(
                    Locale.ROOT,
                    "| %s | %d | %,.0f | %.1f | %.1f | %d | %.2f |%n",
                    scenario,
                    threads,
                    perSecond,
                    p50ms,
                    p99ms,
                    errors,
                    perSecond / divisor);
        }
    }

    public static void main(String[] args) throws Exception {
        int seconds = Integer.parseInt(System.getProperty("bench.seconds", "20"));
        Path work = Path.of("target/bench-enrolment");
        Files.createDirectories(work);
        EmbeddedPostgres.Builder pgBuilder = EmbeddedPostgres.builder()
                .setDataDirectory(work.resolve("pgdata"))
                .setCleanDataDirectory(true);
        if (Boolean.getBoolean("bench.pg.async-commit")) {
            // experiment only (-Dbench.pg.async-commit=true): how much of an enrolment is waiting for WAL flushes
            pgBuilder.setServerConfig("synchronous_commit", "off");
        }
        EmbeddedPostgres pg = pgBuilder.start();
        try (Connection c = pg.getPostgresDatabase().getConnection();
                Statement s = c.createStatement()) {
            s.execute("create database m2mtrust");
        }
        KeycloakServer kc = KeycloakServer.start(
                Path.of("target/keycloak"),
                KeycloakServer.javaHome().orElseThrow(),
                Path.of(System.getProperty("m2m.keycloak.zip")),
                System.getProperty("m2m.keycloak.version"));
        int http = freePort();
        int tls = freePort();
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-opens=jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED"));
        if (System.getProperty("bench.jfr") != null) {
            // -Dbench.jfr=<file>: profile the service while the driver loads it
            cmd.add("-XX:StartFlightRecording=settings=profile,filename=" + System.getProperty("bench.jfr"));
        }
        cmd.addAll(List.of("-jar", "target/quarkus-app/quarkus-run.jar"));
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(work.resolve("service.log").toFile());
        pb.environment().put("M2M_DB_URL", pg.getJdbcUrl("postgres", "m2mtrust"));
        pb.environment().put("M2M_DB_USER", "postgres");
        // quotas stay on (their cost is part of every number), set high enough not to be what is measured (ADR 0026)
        pb.environment().put("M2M_POLICY_DEFAULT_REQUEST_QUOTA", "1000000");
        pb.environment().put("M2M_POLICY_DEFAULT_HSM_QUOTA", "1000000");
        pb.environment().put("M2M_OIDC_URL", kc.realmUrl());
        pb.environment().put("M2M_KEYCLOAK_URL", kc.baseUrl());
        pb.environment().put("M2M_KEYCLOAK_PROVISIONER_SECRET", kc.provisionerSecret());
        pb.environment().put("M2M_HTTP_PORT", Integer.toString(http));
        pb.environment().put("M2M_DEVICE_TLS_PORT", Integer.toString(tls));
        int dtls = freePort();
        pb.environment().put("M2M_DEVICE_DTLS_PORT", Integer.toString(dtls));
        // room for the 100,000 idle sessions of the memory row on top of the load rows
        pb.environment().put("M2M_DEVICE_DTLS_MAX_CONNECTIONS", "150000");
        int proxyCoap = freePort();
        pb.environment().put("M2M_PROXY_COAP_ENABLED", "true");
        pb.environment().put("M2M_PROXY_COAP_PORT", Integer.toString(proxyCoap));
        Process service = pb.start();
        try {
            String base = "http://localhost:" + http;
            await(base + "/q/health/ready");
            String admin = kc.passwordGrant("olivia", "olivia-demo-password");
            call(admin, "POST", base + "/api/v1/tenants", "{\"id\":\"" + TENANT + "\",\"name\":\"bench\"}", 201);
            String policyUrl = base + "/api/v1/tenants/" + TENANT + "/policy";
            HttpResponse<String> pol = send(admin, "GET", policyUrl, null);
            String body = pol.body().replace("\"allowHostMemoryKeys\":false", "\"allowHostMemoryKeys\":true");
            send(admin, "PUT", policyUrl, body, pol.headers().firstValue("ETag").orElseThrow());
            String groups = base + "/api/v1/tenants/" + TENANT + "/enrolment-groups";
            call(admin, "POST", groups, "{\"id\":\"" + GROUP + "\",\"name\":\"bench meters\"}", 201);
            List<Provisioned> devices = new ArrayList<>();
            StringBuilder ids = new StringBuilder();
            for (int i = 0; i < 64; i++) {
                ids.append(i == 0 ? "" : ",").append("\"bench-").append(i).append('"');
            }
            call(admin, "POST", groups + "/" + GROUP + "/devices", "{\"deviceIds\":[" + ids + "]}", 200);
            for (int i = 0; i < 64; i++) {
                HttpResponse<String> r =
                        send(admin, "POST", groups + "/" + GROUP + "/devices/bench-" + i + "/kpm-export", null);
                devices.add(new Provisioned(
                        field(r.body(), "kpmId"), Base64.getDecoder().decode(field(r.body(), "kpm"))));
            }
            Supplier<String> tokens = () -> {
                try {
                    return kc.passwordGrant("olivia", "olivia-demo-password");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            };
            int shortRows = Integer.getInteger("bench.esdata.seconds", 5);
            if ("onboarding".equals(System.getProperty("bench.only"))) {
                List<ProxyLoad.Row> rows =
                        OnboardingLoad.run(base, kc, tokens, Integer.getInteger("bench.proxy.seconds", 10));
                OnboardingLoad.write(
                        rows, OnboardingLoad.rawKeyTriplesPerSecond(), Integer.getInteger("bench.proxy.seconds", 10));
                return;
            }
            if ("escertke".equals(System.getProperty("bench.only"))) {
                List<ProxyLoad.Row> rows =
                        EscertkeLoad.run(base, tokens, Integer.getInteger("bench.proxy.seconds", 10));
                EscertkeLoad.write(rows, rawCeiling(), Integer.getInteger("bench.proxy.seconds", 10));
                return;
            }
            if ("proxy".equals(System.getProperty("bench.only"))) {
                List<ProxyLoad.Row> rows =
                        ProxyLoad.run(base, TENANT, tokens, Integer.getInteger("bench.proxy.seconds", 10));
                ProxyLoad.write(rows, rawCeiling(), Integer.getInteger("bench.proxy.seconds", 10));
                NginxSideBySide.write(ProxyLoad.sideBySide, Integer.getInteger("bench.proxy.seconds", 10));
                NginxSideBySide.writeOverload(Integer.getInteger("bench.proxy.seconds", 10));
                return;
            }
            if ("quota".equals(System.getProperty("bench.only"))) {
                // the noisy neighbour (issue 21): a calm tenant's p99 alone and beside a tenant at 10x its quota
                List<QuotaLoad.Phase> phases = QuotaLoad.run(base, tls, TENANT, devices, tokens, seconds);
                QuotaLoad.write(phases, seconds);
                return;
            }
            if ("device".equals(System.getProperty("bench.only"))) {
                // development loop only (BENCH_ONLY=device, with -Dbench.jfr=<file> to profile): the device-listener
                // rows on the empty database, printed, BENCHMARKS.md unchanged
                deviceRowsOnly(admin, base, groups, tls, devices, seconds);
                return;
            }
            if ("dtls".equals(System.getProperty("bench.only"))) {
                // the constrained-device rows (issue 20): TLS and DTLS side by side, then idle-session memory
                MafLoad.Retrieval retrieval = MafLoad.prepare(tls, TENANT, devices);
                // memory first, on a service that has done nothing else yet (the load rows leave caches and pools
                // behind that a later full GC would count against the sessions); the rows then run with 100,000 idle
                // sessions in the store, as a listener in production would
                DtlsLoad.Memory memory = Integer.getInteger("bench.dtls.sessions", 100_000) > 0
                        ? DtlsLoad.memory(
                                service.pid(), dtls, devices, Integer.getInteger("bench.dtls.sessions", 100_000))
                        : null;
                System.out.println(">> warming the service up (JIT) for 20 s");
                load("warm-up", 2, 20, tls, "mef." + TENANT + ".m2m-trust.local", devices);
                List<Run> rows = DtlsLoad.run(tls, dtls, TENANT, devices, retrieval, seconds);
                // the certificate suites: the tenant's CA, a certificate profile, two devices certified over EST
                // (a fresh token: the rows above outlast the first one)
                certificateAuthority(tokens.get(), base, groups);
                List<DtlsLoad.Certified> certified = DtlsLoad.certify(tls, TENANT, devices, 2);
                java.security.cert.X509Certificate[] ca = java.security.cert.CertificateFactory.getInstance("X.509")
                        .generateCertificates(new java.io.ByteArrayInputStream(HttpClient.newHttpClient()
                                .send(
                                        HttpRequest.newBuilder(URI.create(base + "/pki/" + TENANT + "/ca.pem"))
                                                .build(),
                                        HttpResponse.BodyHandlers.ofByteArray())
                                .body()))
                        .toArray(new java.security.cert.X509Certificate[0]);
                rows.addAll(DtlsLoad.certificateRows(dtls, TENANT, certified, ca, seconds));
                rows.addAll(DtlsLoad.bareCertificateRows(TENANT, certified, seconds));
                List<Run> proxyRows = DtlsLoad.proxyRows(base, TENANT, tokens, proxyCoap, seconds);
                DtlsLoad.write(rows, rawCeiling(), memory, proxyRows, seconds);
                return;
            }
            if ("esdata".equals(System.getProperty("bench.only"))) {
                // only the ESData REST rows (BENCH_ONLY=esdata): they need the tenant CA and nothing else
                call(admin, "POST", base + "/api/v1/tenants/" + TENANT + "/ca", null, 201);
                List<EsDataRestLoad.Row> rows = EsDataRestLoad.run(
                        base,
                        TENANT,
                        () -> {
                            try {
                                return kc.passwordGrant("olivia", "olivia-demo-password");
                            } catch (Exception e) {
                                throw new IllegalStateException(e);
                            }
                        },
                        Integer.getInteger("bench.esdata.seconds", 5));
                EsDataRestLoad.write(rows, rawCeiling(), Integer.getInteger("bench.esdata.seconds", 5));
                return;
            }

            List<Run> runs = new ArrayList<>();
            String sni = "mef." + TENANT + ".m2m-trust.local";
            System.out.println(">> warming the service up (JIT) for 20 s");
            load("warm-up", 2, 20, tls, sni, devices);
            for (int threads : new int[] {1, 2}) {
                runs.add(load("empty database", threads, seconds, tls, sni, devices));
            }
            // growth (issue 18): retrieval on the empty database, then 100 tenants, 1,000,000 devices and 100,000
            // registered keys, then retrieval and enrolment again (retrieval first: the enrolment rows re-enrol the
            // devices whose MAF registrations it uses)
            MafLoad.Retrieval retrieval = MafLoad.prepare(tls, TENANT, devices);
            List<Run> retrievals = new ArrayList<>(MafLoad.retrievalRows(tls, retrieval, "empty database", seconds));
            String objectsBefore = grow(base, tokens, pg, retrieval.rels().get(0));
            retrievals.addAll(MafLoad.retrievalRows(tls, retrieval, GROWN, seconds));
            for (int threads : new int[] {1, 2}) {
                runs.add(load(GROWN, threads, seconds, tls, sni, devices));
            }
            String admin2 = kc.passwordGrant("olivia", "olivia-demo-password");
            String objectsAfter =
                    field(send(admin2, "GET", base + "/api/v1/hsm", null).body(), "objects");

            // EST: the tenant CA (key in the HSM) issues a certificate per request; each device renews its own
            certificateAuthority(admin2, base, groups);
            java.security.KeyPairGenerator kpg = java.security.KeyPairGenerator.getInstance("EC");
            kpg.initialize(new java.security.spec.ECGenParameterSpec("secp256r1"));
            List<java.security.KeyPair> keys = new ArrayList<>();
            for (int i = 0; i < devices.size(); i++) {
                keys.add(kpg.generateKeyPair());
            }
            List<Run> estRuns = new ArrayList<>();
            for (int threads : new int[] {1, 2}) {
                estRuns.add(load(
                        "EST simpleenroll",
                        threads,
                        seconds,
                        devices.size(),
                        200,
                        i -> est(tls, sni, devices.get(i), keys.get(i), "bench-" + i + ".in.bench.example")));
            }
            List<Run> mafRuns = MafLoad.run(tls, TENANT, devices, seconds);
            List<EsDataRestLoad.Row> esdataRows = EsDataRestLoad.run(
                    base,
                    TENANT,
                    () -> {
                        try {
                            return kc.passwordGrant("olivia", "olivia-demo-password");
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    },
                    Integer.getInteger("bench.esdata.seconds", 5));
            List<ProxyLoad.Row> proxyRows =
                    ProxyLoad.run(base, TENANT, tokens, Integer.getInteger("bench.proxy.seconds", 10));
            List<ProxyLoad.Row> escertkeRows =
                    EscertkeLoad.run(base, tokens, Integer.getInteger("bench.proxy.seconds", 10));
            List<ProxyLoad.Row> onboardingRows =
                    OnboardingLoad.run(base, kc, tokens, Integer.getInteger("bench.proxy.seconds", 10));
            double keyTriples = OnboardingLoad.rawKeyTriplesPerSecond();
            // constrained devices last: the 100,000 idle DTLS sessions of the memory row stay in the service's heap
            List<Run> dtlsRows = DtlsLoad.run(tls, dtls, TENANT, devices, retrieval, seconds);
            List<Run> coapProxyRows = DtlsLoad.proxyRows(base, TENANT, tokens, proxyCoap, seconds);
            DtlsLoad.Memory dtlsMemory =
                    DtlsLoad.memory(service.pid(), dtls, devices, Integer.getInteger("bench.dtls.sessions", 100_000));
            double[] ceiling = rawCeiling();
            if (Boolean.getBoolean("bench.pg.async-commit")) {
                System.out.println("synchronous_commit=off: results printed only, BENCHMARKS.md unchanged");
                runs.forEach(System.out::println);
                estRuns.forEach(System.out::println);
            } else {
                write(runs, objectsBefore, objectsAfter, ceiling, seconds);
                writeGrowth(runs, retrievals, seconds);
                writeEst(estRuns, ceiling, seconds);
                MafLoad.write(mafRuns, ceiling, seconds);
                EsDataRestLoad.write(esdataRows, ceiling, shortRows);
                ProxyLoad.write(proxyRows, ceiling, Integer.getInteger("bench.proxy.seconds", 10));
                NginxSideBySide.write(ProxyLoad.sideBySide, Integer.getInteger("bench.proxy.seconds", 10));
                NginxSideBySide.writeOverload(Integer.getInteger("bench.proxy.seconds", 10));
                EscertkeLoad.write(escertkeRows, ceiling, Integer.getInteger("bench.proxy.seconds", 10));
                OnboardingLoad.write(onboardingRows, keyTriples, Integer.getInteger("bench.proxy.seconds", 10));
                DtlsLoad.write(dtlsRows, ceiling, dtlsMemory, coapProxyRows, seconds);
            }
        } finally {
            service.destroy();
            service.waitFor();
            kc.close();
            pg.close();
        }
    }

    static final String GROWN = "100 tenants, 1,000,000 devices, 100,000 keys";

    /**
     * Grows the database to the size the growth target names: 99 more tenants made through the API (keys in the HSM,
     * Keycloak group, first admin), 1,000,000 devices in the bench tenant's group and 100,000 more key registrations
     * (copies of a real one under new identifiers; their sealed values are never opened), then {@code analyze}.
     */
    static String grow(String base, Supplier<String> tokens, EmbeddedPostgres pg, String registeredRel)
            throws Exception {
        System.out.println(">> growing: 99 more tenants, 1,000,000 devices, 100,000 registered keys");
        String admin = tokens.get();
        for (int i = 1; i < 100; i++) {
            if (i % 25 == 0) {
                admin = tokens.get(); // tokens live minutes, the tenants take about one
            }
            call(admin, "POST", base + "/api/v1/tenants", "{\"id\":\"growth-" + i + "\",\"name\":\"growth\"}", 201);
        }
        String objectsWithTenants =
                field(send(admin, "GET", base + "/api/v1/hsm", null).body(), "objects");
        try (Connection c = pg.getDatabase("postgres", "m2mtrust").getConnection();
                Statement s = c.createStatement()) {
            s.execute("insert into enrolment_device (tenant_id, group_id, device_id, status, created_at, updated_at) "
                    + "select '" + TENANT + "', '" + GROUP
                    + "', 'fleet-' || lpad(g::text, 7, '0'), 'ALLOWED', now(), now() "
                    + "from generate_series(1, 1000000) g");
            s.execute("insert into key_registration (tenant_id, registrar, relative_key_id, source_client_id,"
                    + " source_reg_id, admin_fqdn, labels, suid, target_ids, key_source, sealed_key, expires_at,"
                    + " created_at, updated_at) select k.tenant_id, k.registrar, md5('growth-' || g), k.source_client_id,"
                    + " k.source_reg_id, k.admin_fqdn, k.labels, k.suid, k.target_ids, k.key_source, k.sealed_key,"
                    + " k.expires_at, k.created_at, k.updated_at from key_registration k, generate_series(1, 100000) g"
                    + " where k.tenant_id = '" + TENANT + "' and k.relative_key_id = '" + registeredRel + "'");
            s.execute("analyze");
            try (var r = s.executeQuery("select (select count(*) from tenant), (select count(*) from enrolment_device),"
                    + " (select count(*) from key_registration)")) {
                r.next();
                System.out.printf(
                        Locale.ROOT,
                        ">> grown: %d tenants, %d devices, %d key registrations%n",
                        r.getLong(1),
                        r.getLong(2),
                        r.getLong(3));
            }
        }
        return objectsWithTenants;
    }

    /** Enrolment and retrieval latency on the grown database against the empty one (target: p50 and p99 ≤ 1.2×). */
    static void writeGrowth(List<Run> enrolments, List<Run> retrievals, int seconds) throws IOException {
        StringBuilder t = new StringBuilder();
        t.append("Measured ")
                .append(Instant.now().toString(), 0, 16)
                .append(" UTC, same run as the MEF and MAF sections. Each path runs ")
                .append(seconds)
                .append(" s per row on the empty database (the bench tenant, its 64 devices and ")
                .append(MafLoad.KEYS)
                .append(" registered keys), then again after 99 more tenants were onboarded through the API, 1,000,000")
                .append(" devices were added to the bench tenant's group and 100,000 key registrations to its MAF.")
                .append(" Enrolment: full TLS-PSK handshake + `POST /enrolment`; retrieval: `GET /keyRetrieval/…` over")
                .append(" a kept-alive MAF session.\n\n")
                .append(
                        "| Path | Client threads | Empty p50 ms | Empty p99 ms | Grown p50 ms | Grown p99 ms | p50 grown ÷ empty")
                .append(" | p99 grown ÷ empty |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (List<Run> rows : List.of(enrolments, retrievals)) {
            String path = rows == enrolments ? "PSK enrolment" : "MAF key retrieval (kept-alive)";
            for (Run empty : rows) {
                if (!empty.scenario().equals("empty database")) {
                    continue;
                }
                Run grown = rows.stream()
                        .filter(r -> r.scenario().equals(GROWN) && r.threads() == empty.threads())
                        .findFirst()
                        .orElseThrow();
                t.append(String.format(
                        Locale.ROOT,
                        "| %s | %d | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |%n",
                        path,
                        empty.threads(),
                        empty.p50ms(),
                        empty.p99ms(),
                        grown.p50ms(),
                        grown.p99ms(),
                        grown.p50ms() / empty.p50ms(),
                        grown.p99ms() / empty.p99ms()));
            }
        }
        replaceSection("growth", "## Growth: 100 tenants, 1,000,000 devices, 100,000 registered keys", t.toString());
        System.out.println(t);
    }

    static void deviceRowsOnly(
            String admin, String base, String groups, int tls, List<Provisioned> devices, int seconds)
            throws Exception {
        String sni = "mef." + TENANT + ".m2m-trust.local";
        load("warm-up", 2, 10, tls, sni, devices);
        List<Run> runs = new ArrayList<>();
        for (int threads : new int[] {1, 2}) {
            runs.add(load("PSK enrolment", threads, seconds, tls, sni, devices));
        }
        call(admin, "POST", base + "/api/v1/tenants/" + TENANT + "/ca", null, 201);
        call(
                admin,
                "PUT",
                groups + "/" + GROUP + "/certificate-profile",
                "{\"subjectType\":\"CSE_ID\",\"subjectTemplate\":\"{device}.in.bench.example\"}",
                200);
        java.security.KeyPairGenerator kpg = java.security.KeyPairGenerator.getInstance("EC");
        kpg.initialize(new java.security.spec.ECGenParameterSpec("secp256r1"));
        List<java.security.KeyPair> keys = new ArrayList<>();
        for (int i = 0; i < devices.size(); i++) {
            keys.add(kpg.generateKeyPair());
        }
        for (int threads : new int[] {1, 2}) {
            runs.add(load(
                    "EST simpleenroll",
                    threads,
                    seconds,
                    devices.size(),
                    200,
                    i -> est(tls, sni, devices.get(i), keys.get(i), "bench-" + i + ".in.bench.example")));
        }
        runs.addAll(MafLoad.run(tls, TENANT, devices, seconds));
        double[] ceiling = rawCeiling();
        System.out.printf(
                Locale.ROOT,
                "ceiling: hmac %.0f seal %.0f sign %.0f enrolment %.0f open %.0f%n",
                ceiling[0],
                ceiling[1],
                ceiling[2],
                ceiling[3],
                ceiling[4]);
        for (Run r : runs) {
            System.out.printf(
                    Locale.ROOT,
                    "ROW %-45s %d  %8.0f/s  p50 %.1f  p99 %.1f  err %d%n",
                    r.scenario(),
                    r.threads(),
                    r.perSecond(),
                    r.p50ms(),
                    r.p99ms(),
                    r.errors());
        }
    }

    /** Single-thread raw SunPKCS11 ops/s of HMAC, AES-GCM seal and ECDSA sign, and the sequential ceiling. */
    /** The bench tenant's CA and a certificate profile naming each device {@code <device>.in.bench.example}. */
    static void certificateAuthority(String token, String base, String groups) throws Exception {
        call(token, "POST", base + "/api/v1/tenants/" + TENANT + "/ca", null, 201);
        call(
                token,
                "PUT",
                groups + "/" + GROUP + "/certificate-profile",
                "{\"subjectType\":\"CSE_ID\",\"subjectTemplate\":\"{device}.in.bench.example\"}",
                200);
    }

    static double[] rawCeiling() throws Exception {
        try (Pkcs11Token token = new Pkcs11Token(TestHsm.settings())) {
            HsmCrypto crypto = new HsmCrypto(token, new SimpleMeterRegistry());
            HsmKeyLabel h = HsmKeyLabel.of("bench-raw", KeyPurpose.DERIVE, 1);
            HsmKeyLabel a = HsmKeyLabel.of("bench-raw", KeyPurpose.KEK, 1);
            HsmKeyLabel s = HsmKeyLabel.of("bench-raw", KeyPurpose.SIGN, 1);
            for (HsmKeyLabel l : List.of(h, a, s)) {
                if (!token.exists(l)) {
                    token.generate(l, new SelfSignedCertificates());
                }
            }
            double hmac = rate(() -> crypto.hmacSha256(h, new byte[96]).close());
            long[] iv = {0};
            double seal = rate(() -> crypto.sealAesGcm(
                    a, java.nio.ByteBuffer.allocate(12).putLong(++iv[0]).array(), new byte[32], new byte[64]));
            double sign = rate(() -> crypto.signEcdsaP256(s, new byte[100]));
            byte[] openIv = new byte[12];
            byte[] sealed = crypto.sealAesGcm(a, openIv, new byte[32], new byte[64]);
            double open = rate(
                    () -> crypto.openAesGcm(a, openIv, sealed, new byte[64]).close());
            // ECDH P-256 derive on the token (what unwrapping an ECDH-ES envelope for a service-held end-point costs)
            io.m2mtrust.hsm.EcdhInToken ecdh = new io.m2mtrust.hsm.EcdhInToken(crypto);
            ecdh.allowDerive(s);
            java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("EC");
            g.initialize(new java.security.spec.ECGenParameterSpec("secp256r1"));
            java.security.interfaces.ECPublicKey peer =
                    (java.security.interfaces.ECPublicKey) g.generateKeyPair().getPublic();
            double derive = rate(() -> java.util.Arrays.fill(ecdh.sharedSecret(s, peer), (byte) 0));
            for (HsmKeyLabel l : List.of(h, a, s)) {
                token.destroy(l);
            }
            return new double[] {hmac, seal, sign, 1.0 / (1.0 / hmac + 1.0 / seal + 1.0 / sign), open, derive};
        }
    }

    static double rate(Runnable op) {
        for (int i = 0; i < 2000; i++) {
            op.run();
        }
        long end = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        long n = 0;
        long start = System.nanoTime();
        while (System.nanoTime() < end) {
            op.run();
            n++;
        }
        return n / ((System.nanoTime() - start) / 1e9);
    }

    @FunctionalInterface
    interface Op {
        /** One operation for device {@code i}; returns the HTTP status. */
        int run(int i) throws Exception;
    }

    static Run load(String scenario, int threads, int seconds, int port, String sni, List<Provisioned> devices)
            throws Exception {
        return load(scenario, threads, seconds, devices.size(), 201, i -> enrol(port, sni, devices.get(i)));
    }

    static Run load(String scenario, int threads, int seconds, int deviceCount, int expected, Op op) throws Exception {
        System.out.println(">> " + scenario + ", " + threads + " thread(s), " + seconds + " s");
        ConcurrentLinkedQueue<Long> latencies = new ConcurrentLinkedQueue<>();
        AtomicBoolean stop = new AtomicBoolean();
        long[] errors = new long[threads];
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int me = t;
            Thread th = new Thread(() -> {
                int i = me;
                while (!stop.get()) {
                    int device = i % deviceCount;
                    i += threads; // each thread uses its own devices: no concurrent enrolment of one device
                    long t0 = System.nanoTime();
                    try {
                        if (op.run(device) == expected) {
                            latencies.add(System.nanoTime() - t0);
                        } else {
                            errors[me]++;
                        }
                    } catch (Exception e) {
                        errors[me]++;
                    }
                }
            });
            ts.add(th);
        }
        // warm-up
        long warm = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (System.nanoTime() < warm) {
            op.run(0);
        }
        ts.forEach(Thread::start);
        long start = System.nanoTime();
        Thread.sleep(seconds * 1000L);
        stop.set(true);
        for (Thread th : ts) {
            th.join();
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        long[] sorted = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
        return new Run(
                scenario,
                threads,
                sorted.length / elapsed,
                pct(sorted, 0.50) / 1e6,
                pct(sorted, 0.99) / 1e6,
                Arrays.stream(errors).sum());
    }

    static double pct(long[] sorted, double p) {
        return sorted.length == 0
                ? Double.NaN
                : sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)];
    }

    /** One full enrolment with a Bouncy Castle TLS 1.2 PSK client; returns the HTTP status. */
    static int enrol(int port, String sni, Provisioned d) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(30_000);
            socket.setTcpNoDelay(true); // a device stack would too; otherwise Nagle + delayed ACK add ~40 ms per flight
            TlsClientProtocol proto = new TlsClientProtocol(socket.getInputStream(), socket.getOutputStream());
            proto.connect(pskClient(sni, d, null, null));
            byte[] req = ("POST /enrolment HTTP/1.1\r\nHost: " + sni
                            + "\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
                            + "Connection: close\r\n\r\n{}")
                    .getBytes(StandardCharsets.US_ASCII);
            OutputStream out = proto.getOutputStream();
            out.write(req);
            out.flush();
            return readStatus(proto);
        }
    }

    /** A Bouncy Castle TLS 1.2 PSK client with SNI; if {@code exportLabel} is set, its 32-byte export lands in {@code export[0]}. */
    static PSKTlsClient pskClient(String sni, Provisioned d, String exportLabel, byte[][] export) {
        return pskClient(sni, d, exportLabel, 32, export);
    }

    static PSKTlsClient pskClient(String sni, Provisioned d, String exportLabel, int exportLength, byte[][] export) {
        return new PSKTlsClient(
                TlsCryptos.create(new SecureRandom()),
                new BasicTlsPSKIdentity(d.kpmId().getBytes(StandardCharsets.UTF_8), d.kpm())) {
            @Override
            protected ProtocolVersion[] getSupportedVersions() {
                return ProtocolVersion.TLSv12.only();
            }

            @Override
            protected int[] getSupportedCipherSuites() {
                return new int[] {CipherSuite.TLS_PSK_WITH_AES_128_CBC_SHA256};
            }

            @Override
            public Hashtable getClientExtensions() throws IOException {
                Hashtable ext = super.getClientExtensions();
                if (ext == null) {
                    ext = new Hashtable();
                }
                Vector<ServerName> names = new Vector<>();
                names.add(new ServerName(NameType.host_name, sni.getBytes(StandardCharsets.US_ASCII)));
                TlsExtensionsUtils.addServerNameExtensionClient(ext, names);
                return ext;
            }

            @Override
            public void notifyHandshakeComplete() throws IOException {
                super.notifyHandshakeComplete();
                if (exportLabel != null) {
                    export[0] = context.exportKeyingMaterial(exportLabel, null, exportLength);
                }
            }
        };
    }

    /**
     * One EST simpleenroll (RFC 7030) inside a PSK session: the CSR (a P-256 key of the device, made in
     * advance) is signed after the handshake with the session's channel binding as challengePassword.
     */
    static int est(int port, String sni, Provisioned d, java.security.KeyPair key, String san) throws Exception {
        return estExchange(port, sni, d, key, san, EnrolmentLoadDriver::readStatus);
    }

    /** The certificate an EST simpleenroll answers (the PKCS#7 certs-only body's leaf), for the rows that need one. */
    static java.security.cert.X509Certificate estCertificate(
            int port, String sni, Provisioned d, java.security.KeyPair key, String san) throws Exception {
        byte[] response = estExchange(port, sni, d, key, san, EnrolmentLoadDriver::readUntilClosed);
        String text = new String(response, StandardCharsets.ISO_8859_1);
        if (!text.startsWith("HTTP/1.1 200")) {
            throw new IllegalStateException(
                    "EST refused: " + text.lines().findFirst().orElse(""));
        }
        String body = text.substring(text.indexOf("\r\n\r\n") + 4).replaceAll("\\s", "");
        org.bouncycastle.cms.CMSSignedData p7 =
                new org.bouncycastle.cms.CMSSignedData(Base64.getDecoder().decode(body));
        org.bouncycastle.cert.X509CertificateHolder leaf =
                p7.getCertificates().getMatches(null).iterator().next();
        return new org.bouncycastle.cert.jcajce.JcaX509CertificateConverter().getCertificate(leaf);
    }

    /** Everything the server sends until it closes (with or without close_notify). */
    static byte[] readUntilClosed(TlsClientProtocol proto) throws IOException {
        java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        try {
            for (int n; (n = proto.getInputStream().read(buf)) > 0; ) {
                all.write(buf, 0, n);
            }
        } catch (IOException closedWithoutNotify) {
            if (all.size() == 0) {
                throw closedWithoutNotify;
            }
        }
        return all.toByteArray();
    }

    interface Answer<T> {
        T read(TlsClientProtocol proto) throws IOException;
    }

    static <T> T estExchange(
            int port, String sni, Provisioned d, java.security.KeyPair key, String san, Answer<T> answer)
            throws Exception {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(30_000);
            socket.setTcpNoDelay(true);
            byte[][] binding = new byte[1][];
            TlsClientProtocol proto = new TlsClientProtocol(socket.getInputStream(), socket.getOutputStream());
            proto.connect(pskClient(sni, d, "EXPORTER-Channel-Binding", binding));
            org.bouncycastle.pkcs.PKCS10CertificationRequestBuilder b =
                    new org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder(
                            new org.bouncycastle.asn1.x500.X500Name("CN=" + san), key.getPublic());
            b.addAttribute(
                    org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.pkcs_9_at_challengePassword,
                    new org.bouncycastle.asn1.DERPrintableString(
                            Base64.getEncoder().encodeToString(binding[0])));
            org.bouncycastle.asn1.x509.ExtensionsGenerator eg = new org.bouncycastle.asn1.x509.ExtensionsGenerator();
            eg.addExtension(
                    org.bouncycastle.asn1.x509.Extension.subjectAlternativeName,
                    false,
                    new org.bouncycastle.asn1.x509.GeneralNames(new org.bouncycastle.asn1.x509.GeneralName(
                            org.bouncycastle.asn1.x509.GeneralName.dNSName, san)));
            b.addAttribute(org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, eg.generate());
            byte[] csr = b.build(new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder("SHA256withECDSA")
                            .build(key.getPrivate()))
                    .getEncoded();
            byte[] body = Base64.getEncoder().encode(csr);
            byte[] head = ("POST /.well-known/est/simpleenroll HTTP/1.1\r\nHost: " + sni
                            + "\r\nContent-Type: application/pkcs10\r\n" + "Content-Length: " + body.length
                            + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII);
            OutputStream out = proto.getOutputStream();
            out.write(head);
            out.write(body);
            out.flush();
            return answer.read(proto);
        }
    }

    static int readStatus(TlsClientProtocol proto) throws IOException {
        InputStream in = proto.getInputStream();
        byte[] head = new byte[12];
        int n = 0;
        while (n < 12) {
            int r = in.read(head, n, 12 - n);
            if (r < 0) {
                break;
            }
            n += r;
        }
        proto.close();
        return n == 12 ? Integer.parseInt(new String(head, 9, 3, StandardCharsets.US_ASCII)) : -1;
    }

    static void write(List<Run> runs, String before, String after, double[] ceiling, int seconds) throws IOException {
        StringBuilder t = new StringBuilder();
        t.append("Measured ")
                .append(Instant.now().toString(), 0, 16)
                .append(" UTC, ")
                .append(Runtime.getRuntime().availableProcessors())
                .append(
                        " cores; each client thread runs full enrolments (TCP + TLS 1.2 PSK handshake with a Bouncy Castle client, ")
                .append("`POST /enrolment`, connection close) for ")
                .append(seconds)
                .append(" s after a 5 s warm-up; the service, PostgreSQL ")
                .append("and the client share the machine.\n\n");
        t.append(
                "| Scenario | Client threads | Enrolments/s | p50 ms | p99 ms | Errors | Ratio to raw HSM ceiling |\n|---|---:|---:|---:|---:|---:|---:|\n");
        for (Run r : runs) {
            t.append(r.tableRow(ceiling[3]));
        }
        Run e1 = runs.get(0);
        Run m1 = runs.get(2); // the grown database, one thread
        t.append(String.format(
                Locale.ROOT,
                "%nLatency on the grown database (100 tenants, 1,000,000 devices, 100,000 keys) vs the empty one (1 thread): "
                        + "p50 × %.2f, p99 × %.2f (section \"Growth\"). HSM objects with the 100 tenants: %s, after the"
                        + " 1,000,000 devices and the enrolment rows on them: %s.%n%n"
                        + "Raw HSM ceiling in this run (one thread, SunPKCS11 on SoftHSM2): HMAC-SHA256 %,.0f ops/s (Kpm derivation), "
                        + "AES-256-GCM seal %,.0f ops/s (Ke sealing), ECDSA P-256 %,.0f ops/s (audit head); one enrolment needs one of each, "
                        + "so the sequential ceiling is %,.0f enrolments/s.%n",
                m1.p50ms() / e1.p50ms(),
                m1.p99ms() / e1.p99ms(),
                before,
                after,
                ceiling[0],
                ceiling[1],
                ceiling[2],
                ceiling[3]));
        String section = "<!-- mef-enrolment:start -->\n" + t + "<!-- mef-enrolment:end -->";
        Path md = Path.of("BENCHMARKS.md");
        String text = Files.readString(md);
        int a = text.indexOf("<!-- mef-enrolment:start -->");
        int b = text.indexOf("<!-- mef-enrolment:end -->");
        text = a >= 0 && b > a
                ? text.substring(0, a) + section + text.substring(b + "<!-- mef-enrolment:end -->".length())
                : text + "\n## MEF: full PSK enrolments\n\n" + section + "\n";
        Files.writeString(md, text);
        System.out.println(t);
    }

    /** EST rows: each issue signs the certificate and the audit head in the HSM (two ECDSA signatures). */
    static void writeEst(List<Run> runs, double[] ceiling, int seconds) throws IOException {
        double estCeiling = ceiling[2] / 2;
        StringBuilder t = new StringBuilder();
        t.append("Measured ")
                .append(Instant.now().toString(), 0, 16)
                .append(" UTC, same run and machine as above. Each operation: TCP + ")
                .append(
                        "TLS 1.2 PSK handshake (Bouncy Castle client) exporting `EXPORTER-Channel-Binding`, a P-256 CSR signed by the client ")
                .append(
                        "with it as challengePassword, `POST /.well-known/est/simpleenroll`, the certificate (signed in the HSM) back; each ")
                .append("device re-enrols its own identity, so every issue also supersedes the previous certificate. ")
                .append(seconds)
                .append(" s per row after a 5 s warm-up.\n\n");
        t.append(
                "| Operation | Client threads | Certificates/s | p50 ms | p99 ms | Errors | Ratio to raw HSM ceiling |\n|---|---:|---:|---:|---:|---:|---:|\n");
        for (Run r : runs) {
            t.append(r.tableRow(estCeiling));
        }
        t.append(String.format(
                Locale.ROOT,
                "%nRaw HSM ceiling: ECDSA P-256 %,.0f signatures/s in this run; an EST issue needs two "
                        + "(certificate, audit head), so %,.0f issues/s.%n",
                ceiling[2],
                estCeiling));
        replaceSection("est-enrolment", "## MEF: EST certificate enrolments", t.toString());
        System.out.println(t);
    }

    static void replaceSection(String name, String heading, String body) throws IOException {
        String start = "<!-- " + name + ":start -->";
        String end = "<!-- " + name + ":end -->";
        String section = start + "\n" + body + end;
        Path md = Path.of("BENCHMARKS.md");
        String text = Files.readString(md);
        int a = text.indexOf(start);
        int b = text.indexOf(end);
        text = a >= 0 && b > a
                ? text.substring(0, a) + section + text.substring(b + end.length())
                : text + "\n" + heading + "\n\n" + section + "\n";
        Files.writeString(md, text);
    }

    static void await(String url) throws Exception {
        HttpClient c = HttpClient.newHttpClient();
        long end = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while (System.nanoTime() < end) {
            try {
                if (c.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.discarding())
                                .statusCode()
                        == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // starting
            }
            Thread.sleep(500);
        }
        throw new IllegalStateException("service not ready; see target/bench-enrolment/service.log");
    }

    static HttpResponse<String> send(String token, String method, String url, String json, String... ifMatch)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url))
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json")
                .method(
                        method,
                        json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        if (ifMatch.length > 0) {
            b.header("If-Match", ifMatch[0]);
        }
        return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static void call(String token, String method, String url, String json, int expected) throws Exception {
        HttpResponse<String> r = send(token, method, url, json);
        if (r.statusCode() != expected) {
            throw new IllegalStateException(method + " " + url + " answered " + r.statusCode() + ": " + r.body());
        }
    }

    static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":\"?([^\",}]*)").matcher(json);
        if (!m.find()) {
            throw new IllegalStateException("no " + name + " in " + json);
        }
        return m.group(1);
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
