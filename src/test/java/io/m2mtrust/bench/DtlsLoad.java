package io.m2mtrust.bench;

import org.bouncycastle.tls.BasicTlsPSKIdentity;
import org.bouncycastle.tls.CipherSuite;
import org.bouncycastle.tls.DTLSClientProtocol;
import org.bouncycastle.tls.DTLSTransport;
import org.bouncycastle.tls.PSKTlsClient;
import org.bouncycastle.tls.ProtocolVersion;
import org.bouncycastle.tls.UDPTransport;
import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.elements.config.UdpConfig;
import org.eclipse.californium.scandium.DTLSConnector;
import org.eclipse.californium.scandium.config.DtlsConfig;
import org.eclipse.californium.scandium.config.DtlsConnectorConfig;
import org.eclipse.californium.scandium.dtls.ConnectionId;
import org.eclipse.californium.scandium.dtls.HandshakeResultHandler;
import org.eclipse.californium.scandium.dtls.PskPublicInformation;
import org.eclipse.californium.scandium.dtls.PskSecretResult;
import org.eclipse.californium.scandium.dtls.pskstore.AdvancedPskStore;
import org.eclipse.californium.scandium.util.SecretUtil;
import org.eclipse.californium.scandium.util.ServerNames;

import javax.crypto.SecretKey;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The constrained-device rows (issue 20): full DTLS 1.2 PSK enrolments over CoAP and MAF key retrievals over CoAP in
 * a kept DTLS session, beside the TLS rows measured in the same run and the raw HSM ceiling; and the memory an idle
 * DTLS session costs in the service, with 100,000 of them, beside the same count on a bare Scandium server (the
 * library's own state), so the difference is what the listener adds.
 */
final class DtlsLoad {

    private DtlsLoad() {}

    /** Scandium client configuration: CCM_8, what a constrained device offers. */
    static Configuration clientConfiguration() {
        DtlsConfig.register();
        CoapConfig.register();
        UdpConfig.register();
        Configuration c = Configuration.createStandardWithoutFile();
        c.set(DtlsConfig.DTLS_ROLE, DtlsConfig.DtlsRole.CLIENT_ONLY);
        c.setAsList(
                DtlsConfig.DTLS_CIPHER_SUITES,
                org.eclipse.californium.scandium.dtls.cipher.CipherSuite.TLS_PSK_WITH_AES_128_CCM_8);
        c.set(DtlsConfig.DTLS_RECEIVER_THREAD_COUNT, 1);
        c.set(DtlsConfig.DTLS_CONNECTOR_THREAD_COUNT, 1);
        return c;
    }

    /** A client PSK store whose identity the (single) thread using it switches between operations. */
    static final class SwitchablePsk implements AdvancedPskStore {
        volatile String identity;
        volatile byte[] psk;
        private HandshakeResultHandler handler;

        void use(String identity, byte[] psk) {
            this.identity = identity;
            this.psk = psk;
        }

        @Override
        public boolean hasEcdhePskSupported() {
            return false;
        }

        @Override
        public PskSecretResult requestPskSecretResult(
                ConnectionId cid,
                ServerNames serverNames,
                PskPublicInformation id,
                String hmacAlgorithm,
                SecretKey otherSecret,
                byte[] seed,
                boolean useExtendedMasterSecret) {
            return new PskSecretResult(cid, id, SecretUtil.create(psk, PskSecretResult.ALGORITHM_PSK));
        }

        @Override
        public PskPublicInformation getIdentity(InetSocketAddress peer, ServerNames serverNames) {
            return new PskPublicInformation(identity);
        }

        @Override
        public void setResultHandler(HandshakeResultHandler resultHandler) {
            this.handler = resultHandler;
        }
    }

    record Device(CoapEndpoint endpoint, DTLSConnector connector, SwitchablePsk psk) {
        void close() {
            endpoint.destroy();
        }
    }

    static Device device() {
        Configuration c = clientConfiguration();
        SwitchablePsk psk = new SwitchablePsk();
        DTLSConnector connector = new DTLSConnector(DtlsConnectorConfig.builder(c)
                .setAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .setAdvancedPskStore(psk)
                .build());
        CoapEndpoint e = new CoapEndpoint.Builder()
                .setConfiguration(c)
                .setConnector(connector)
                .build();
        return new Device(e, connector, psk);
    }

    /** A device with a certificate (its key in software, as a device holds it) for the certificate suites, with SNI. */
    record CertificateDevice(CoapEndpoint endpoint, DTLSConnector connector) {
        void close() {
            endpoint.destroy();
        }
    }

    static CertificateDevice certificateDevice(
            java.security.PrivateKey key,
            java.security.cert.X509Certificate certificate,
            java.security.cert.X509Certificate[] trusted) {
        Configuration c = clientConfiguration();
        c.setAsList(
                DtlsConfig.DTLS_CIPHER_SUITES,
                org.eclipse.californium.scandium.dtls.cipher.CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8);
        c.set(DtlsConfig.DTLS_USE_SERVER_NAME_INDICATION, true);
        DTLSConnector connector = new DTLSConnector(DtlsConnectorConfig.builder(c)
                .setAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .setCertificateIdentityProvider(
                        new org.eclipse.californium.scandium.dtls.x509.SingleCertificateProvider(
                                key,
                                new java.security.cert.Certificate[] {certificate},
                                org.eclipse.californium.scandium.dtls.CertificateType.X_509))
                .setAdvancedCertificateVerifier(
                        org.eclipse.californium.scandium.dtls.x509.StaticNewAdvancedCertificateVerifier.builder()
                                .setTrustedCertificates(trusted)
                                .build())
                .build());
        CoapEndpoint e = new CoapEndpoint.Builder()
                .setConfiguration(c)
                .setConnector(connector)
                .build();
        return new CertificateDevice(e, connector);
    }

    /** A certificate for each of the first {@code n} devices, by EST simpleenroll over TLS (the tenant has a CA). */
    record Certified(java.security.KeyPair key, java.security.cert.X509Certificate certificate) {}

    static List<Certified> certify(int tls, String tenant, List<EnrolmentLoadDriver.Provisioned> devices, int n)
            throws Exception {
        java.security.KeyPairGenerator kpg = java.security.KeyPairGenerator.getInstance("EC");
        kpg.initialize(new java.security.spec.ECGenParameterSpec("secp256r1"));
        List<Certified> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            java.security.KeyPair key = kpg.generateKeyPair();
            out.add(new Certified(
                    key,
                    EnrolmentLoadDriver.estCertificate(
                            tls,
                            "mef." + tenant + ".m2m-trust.local",
                            devices.get(devices.size() - 1 - i),
                            key,
                            // the group's certificate profile names each device {device}.in.bench.example
                            "bench-" + (devices.size() - 1 - i) + ".in.bench.example")));
        }
        return out;
    }

    /**
     * Certificate-suite rows: per operation a full {@code TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8} handshake (cookie round
     * trip, the tenant's FQDN certificate, the ServerKeyExchange signed inside the HSM, the device's certificate
     * checked against the tenant CA and its status) and {@code GET /.well-known/est/crts}.
     */
    static List<EnrolmentLoadDriver.Run> certificateRows(
            int dtls, String tenant, List<Certified> certified, java.security.cert.X509Certificate[] ca, int seconds)
            throws Exception {
        return certificateRows(
                "DTLS 1.2 certificate handshake (ECDHE_ECDSA CCM_8, HSM-signed) + GET crts",
                dtls,
                tenant,
                certified,
                ca,
                seconds);
    }

    /**
     * The same client loop against plain Scandium (a JVM of its own, {@link BareDtlsServer} in certificate mode): the
     * listener's DTLS settings, a software key, any client certificate accepted, a fixed answer.
     */
    static List<EnrolmentLoadDriver.Run> bareCertificateRows(String tenant, List<Certified> certified, int seconds)
            throws Exception {
        Path work = Path.of("target/bench-enrolment");
        Files.createDirectories(work);
        int port = EnrolmentLoadDriver.freePort();
        Path pem = work.resolve("bare-dtls-cert.pem");
        Files.deleteIfExists(pem);
        Process bare = bareServer(
                work.resolve("bare-dtls-cert.log"),
                Integer.toString(port),
                "certificate",
                "mef." + tenant + ".m2m-trust.local",
                pem.toString());
        try {
            for (int i = 0; i < 100 && !Files.exists(pem); i++) {
                Thread.sleep(100);
            }
            Thread.sleep(1000);
            java.security.cert.X509Certificate[] trusted = java.security.cert.CertificateFactory.getInstance("X.509")
                    .generateCertificates(Files.newInputStream(pem))
                    .toArray(new java.security.cert.X509Certificate[0]);
            return certificateRows(
                    "bare Scandium certificate handshake (software key, no CA checks) + GET",
                    port,
                    tenant,
                    certified,
                    trusted,
                    seconds);
        } finally {
            bare.destroy();
            bare.waitFor();
        }
    }

    /** {@link BareDtlsServer} in a JVM of its own (this one's classpath), its output in {@code log}. */
    static Process bareServer(Path log, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                BareDtlsServer.class.getName()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
    }

    static List<EnrolmentLoadDriver.Run> certificateRows(
            String scenario,
            int dtls,
            String tenant,
            List<Certified> certified,
            java.security.cert.X509Certificate[] ca,
            int seconds)
            throws Exception {
        List<EnrolmentLoadDriver.Run> runs = new ArrayList<>();
        String sni = "mef." + tenant + ".m2m-trust.local";
        InetSocketAddress server = new InetSocketAddress(InetAddress.getLoopbackAddress(), dtls);
        for (int threads : new int[] {1, 2}) {
            CertificateDevice[] clients = new CertificateDevice[threads];
            for (int t = 0; t < threads; t++) {
                clients[t] = certificateDevice(
                        certified.get(t).key().getPrivate(), certified.get(t).certificate(), ca);
                clients[t].endpoint().start();
            }
            runs.add(EnrolmentLoadDriver.load(scenario, threads, seconds, threads, 205, i -> {
                CertificateDevice d = clients[i % threads];
                d.connector().clearConnectionState(); // a new handshake per operation
                org.eclipse.californium.core.coap.Request get = org.eclipse.californium.core.coap.Request.newGet();
                get.setURI("coaps://127.0.0.1:" + dtls + "/.well-known/est/crts");
                // the SNI names the tenant: a certificate handshake has no other way to
                get.setDestinationContext(
                        new org.eclipse.californium.elements.AddressEndpointContext(server, sni, null));
                d.endpoint().sendRequest(get);
                org.eclipse.californium.core.coap.Response r = get.waitForResponse(10_000L);
                return r == null ? -1 : r.getCode().codeClass * 100 + r.getCode().codeDetail;
            }));
            for (CertificateDevice d : clients) {
                d.close();
            }
        }
        return runs;
    }

    static int coapStatus(CoapResponse r) {
        if (r == null) {
            return -1;
        }
        return switch (r.getCode()) {
            case CREATED -> 201;
            case CONTENT, CHANGED -> 200;
            default -> 400 + r.getCode().value;
        };
    }

    /** TLS rows (same run) then the DTLS rows: enrolments with a full handshake each, retrievals in a kept session. */
    static List<EnrolmentLoadDriver.Run> run(
            int tls,
            int dtls,
            String tenant,
            List<EnrolmentLoadDriver.Provisioned> devices,
            MafLoad.Retrieval retrieval,
            int seconds)
            throws Exception {
        List<EnrolmentLoadDriver.Run> runs = new ArrayList<>();
        String sni = "mef." + tenant + ".m2m-trust.local";
        for (int threads : new int[] {1, 2}) {
            runs.add(EnrolmentLoadDriver.load(
                    "TLS 1.2 PSK enrolment (HTTP; TCP + handshake + request)", threads, seconds, tls, sni, devices));
        }
        String coaps = "coaps://127.0.0.1:" + dtls;
        for (int threads : new int[] {1, 2}) {
            Device[] clients = new Device[threads];
            for (int t = 0; t < threads; t++) {
                clients[t] = device();
            }
            // the op's device index is fixed per thread by the driver (i % threads == thread), so each client is used
            // by one thread only
            runs.add(EnrolmentLoadDriver.load(
                    "DTLS 1.2 PSK enrolment (CoAP; handshake + request)", threads, seconds, devices.size(), 201, i -> {
                        Device d = clients[i % threads];
                        EnrolmentLoadDriver.Provisioned p = devices.get(i);
                        d.psk().use(p.kpmId(), p.kpm());
                        d.connector().clearConnectionState(); // a new session: one enrolment per session
                        CoapClient c = new CoapClient(coaps + "/enrolment");
                        c.setEndpoint(d.endpoint());
                        c.setTimeout(10_000L);
                        return coapStatus(c.post("{}", MediaTypeRegistry.APPLICATION_JSON));
                    }));
            for (Device d : clients) {
                d.close();
            }
        }
        runs.addAll(MafLoad.retrievalRows(tls, retrieval, "MAF key retrieval over TLS (HTTP, kept session)", seconds));
        for (int threads : new int[] {1, 2}) {
            Device[] clients = new Device[threads];
            CoapClient[] coap = new CoapClient[threads];
            int[] next = new int[threads];
            for (int t = 0; t < threads; t++) {
                clients[t] = device();
                MafLoad.MafClient target = retrieval.targets().get(t);
                clients[t].psk().use(target.kmId(), target.km());
                coap[t] = new CoapClient(coaps);
                coap[t].setEndpoint(clients[t].endpoint());
                coap[t].setTimeout(10_000L);
            }
            runs.add(EnrolmentLoadDriver.load(
                    "MAF key retrieval over CoAP/DTLS (kept session)", threads, seconds, threads, 200, i -> {
                        String rel = retrieval
                                .rels()
                                .get(next[i]++ % retrieval.rels().size());
                        coap[i].setURI(coaps + "/keyRetrieval/" + rel);
                        return coapStatus(coap[i].get());
                    }));
            for (Device d : clients) {
                d.close();
            }
        }
        return runs;
    }

    /**
     * The proxy's bindings side by side on one CSE (the MiniCse stand-in): a plain retrieve passed through over HTTP
     * (JDK client) and over CoAP (Californium client; one request datagram, one answer datagram).
     */
    static List<EnrolmentLoadDriver.Run> proxyRows(
            String base, String tenant, java.util.function.Supplier<String> tokens, int coapPort, int seconds)
            throws Exception {
        String t = base + "/api/v1/tenants/" + tenant;
        List<EnrolmentLoadDriver.Run> rows = new ArrayList<>();
        try (io.m2mtrust.testsupport.MiniCse cse = io.m2mtrust.testsupport.MiniCse.start("/id-in", "cse-in", 64)) {
            String admin = tokens.get();
            ProxyLoad.call(
                    admin,
                    "PUT",
                    t + "/proxy",
                    java.util.Map.of("cseUrl", cse.url(), "cseId", "/id-in", "cseBase", "cse-in"),
                    200);
            String proxyUrl = base + "/onem2m/" + tenant + "/cse-in";
            for (int threads : new int[] {1, 2}) {
                rows.add(EnrolmentLoadDriver.load(
                        "proxy pass-through retrieve, HTTP binding",
                        threads,
                        seconds,
                        threads,
                        200,
                        i -> ProxyLoad.onem2m(proxyUrl, "Cbench" + i, "GET", null)
                                                .statusCode()
                                        == 200
                                ? 200
                                : 500));
            }
            for (int threads : new int[] {1, 2}) {
                CoapEndpoint[] endpoints = new CoapEndpoint[threads];
                CoapClient[] clients = new CoapClient[threads];
                for (int k = 0; k < threads; k++) {
                    Configuration c = Configuration.createStandardWithoutFile();
                    endpoints[k] = new CoapEndpoint.Builder()
                            .setConfiguration(c)
                            .setOptionRegistry(io.m2mtrust.proxy.ProxyCoapBinding.registry())
                            .build();
                    clients[k] = new CoapClient();
                    clients[k].setEndpoint(endpoints[k]);
                    clients[k].setTimeout(10_000L);
                }
                String uri = "coap://127.0.0.1:" + coapPort + "/onem2m/" + tenant + "/cse-in";
                java.util.concurrent.atomic.AtomicLong rq = new java.util.concurrent.atomic.AtomicLong();
                rows.add(EnrolmentLoadDriver.load(
                        "proxy pass-through retrieve, CoAP binding (TS-0008)", threads, seconds, threads, 200, i -> {
                            org.eclipse.californium.core.coap.Request r =
                                    org.eclipse.californium.core.coap.Request.newGet();
                            r.setURI(uri);
                            r.getOptions()
                                    .addOption(new org.eclipse.californium.core.coap.Option(279, "Cbench" + i))
                                    .addOption(new org.eclipse.californium.core.coap.Option(
                                            283, "c" + rq.incrementAndGet()))
                                    .addOption(new org.eclipse.californium.core.coap.Option(271, "3"));
                            CoapResponse resp = clients[i].advanced(r);
                            return resp != null
                                            && resp.getCode()
                                                    == org.eclipse.californium.core.coap.CoAP.ResponseCode.CONTENT
                                    ? 200
                                    : 500;
                        }));
                for (CoapEndpoint e : endpoints) {
                    e.destroy();
                }
            }
        }
        return rows;
    }

    static void write(List<EnrolmentLoadDriver.Run> runs, double[] ceiling, Memory memory, int seconds)
            throws IOException {
        write(runs, ceiling, memory, List.of(), seconds);
    }

    static void write(
            List<EnrolmentLoadDriver.Run> runs,
            double[] ceiling,
            Memory memory,
            List<EnrolmentLoadDriver.Run> proxyRows,
            int seconds)
            throws IOException {
        StringBuilder t = new StringBuilder();
        t.append("Measured ")
                .append(Instant.now().toString(), 0, 16)
                .append(" UTC, same machine; the TLS and DTLS rows in one run against one service. Enrolments: a full ")
                .append("handshake per operation (TLS: Bouncy Castle client over TCP; DTLS: Scandium client, ")
                .append("`TLS_PSK_WITH_AES_128_CCM_8`, HelloVerifyRequest round trip included) and `POST /enrolment`. ")
                .append(
                        "Retrievals: one kept session per client thread (KmID/Km), `GET /keyRetrieval/<id>` back to back. ")
                .append(seconds)
                .append(" s per row after a 5 s warm-up.\n\n");
        t.append("| Operation | Client threads | Ops/s | p50 ms | p99 ms | Errors | Ratio to raw HSM ceiling |\n")
                .append("|---|---:|---:|---:|---:|---:|---:|\n");
        for (EnrolmentLoadDriver.Run r : runs) {
            if (r.scenario().startsWith("bare ")) {
                // no HSM on that side: a ratio to the HSM ceiling would mean nothing
                t.append(r.tableRow(1).replaceFirst("\\| [^|]+ \\|(\\R)$", "| — (no HSM) |$1"));
                continue;
            }
            t.append(r.tableRow(
                    r.scenario().contains("retrieval")
                            ? ceiling[4]
                            : r.scenario().contains("certificate") ? ceiling[2] : ceiling[3]));
        }
        t.append(String.format(
                Locale.ROOT,
                "%nRaw HSM ceiling in this run: an enrolment needs an HMAC, a seal and a signature (%,.0f/s in sequence); a "
                        + "retrieval opens the sealed key value (AES-GCM open %,.0f/s); a certificate handshake signs its "
                        + "ServerKeyExchange (ECDSA P-256 in the token, %,.0f/s; the device's certificate is checked in "
                        + "software and against its recorded status). The DTLS handshake has one round trip "
                        + "more than TLS (the HelloVerifyRequest cookie), and each datagram crosses Scandium's receiver and "
                        + "connection threads before our worker pool; the HSM and the database work per operation are the same "
                        + "(not profiled further yet).%n",
                ceiling[3],
                ceiling[4],
                ceiling[2]));
        List<EnrolmentLoadDriver.Run> ours = runs.stream()
                .filter(r -> r.scenario().startsWith("DTLS 1.2 certificate"))
                .toList();
        List<EnrolmentLoadDriver.Run> bare = runs.stream()
                .filter(r -> r.scenario().startsWith("bare Scandium certificate"))
                .toList();
        if (ours.size() == 2 && bare.size() == 2) {
            t.append(String.format(
                    Locale.ROOT,
                    "%nCertificate handshakes beside plain Scandium in the same run (its own JVM, the same DTLS settings and "
                            + "client, a software key, no CA checks, a fixed answer): the listener makes **%.2f×** (1 thread) "
                            + "and **%.2f×** (2 threads) of its handshakes per second. Both sides of every handshake run on "
                            + "this 2-core machine, the client's ECDSA and ECDHE included.%n",
                    ours.get(0).perSecond() / bare.get(0).perSecond(),
                    ours.get(1).perSecond() / bare.get(1).perSecond()));
        }
        if (memory != null) {
            t.append(String.format(
                    Locale.ROOT,
                    "%nMemory of idle DTLS sessions: %,d sessions opened (PSK handshakes from distinct loopback "
                            + "addresses, Bouncy Castle DTLS client, one CoAP ping each so the server retires the handshake, then silence), live heap measured with a full GC "
                            + "(`jcmd GC.class_histogram`) before and after, on the service before any load row.%n%n"
                            + "| Server | Sessions | Live heap before | after | Per session |%n|---|---:|---:|---:|---:|%n"
                            + "| m2m-trust DTLS listener | %,d | %,d KiB | %,d KiB | %,d B |%n"
                            + "| bare Scandium server, same DTLS settings (the library's own state) | %,d | %,d KiB | %,d KiB | %,d B |%n"
                            + "%nWhat the listener adds per idle session: **%,d B** (target ≤ 2 KiB). Largest growth in "
                            + "the service's histogram: %s.%n",
                    memory.service().sessions(),
                    memory.service().sessions(),
                    memory.service().before() / 1024,
                    memory.service().after() / 1024,
                    memory.service().perSession(),
                    memory.bare().sessions(),
                    memory.bare().before() / 1024,
                    memory.bare().after() / 1024,
                    memory.bare().perSession(),
                    memory.service().perSession() - memory.bare().perSession(),
                    memory.service().top()));
        }
        if (!proxyRows.isEmpty()) {
            double http1 = proxyRows.get(0).perSecond();
            t.append(
                            "\nThe proxy's two bindings on one CSE (the MiniCse stand-in in the load driver's JVM), a plain retrieve ")
                    .append("passed through (no HSM work), ")
                    .append(seconds)
                    .append(" s per row; over CoAP each request is one datagram in and one out (Californium client, ")
                    .append("TS-0008 options), over HTTP a kept-alive connection (JDK client).\n\n")
                    .append(
                            "| Binding | Client threads | Requests/s | p50 ms | p99 ms | Errors | ÷ HTTP binding, 1 thread |\n")
                    .append("|---|---:|---:|---:|---:|---:|---:|\n");
            for (EnrolmentLoadDriver.Run r : proxyRows) {
                t.append(r.tableRow(http1));
            }
        }
        EnrolmentLoadDriver.replaceSection("dtls", "## Constrained devices: CoAP over DTLS 1.2", t.toString());
        System.out.println(t);
    }

    // ---------------------------------------------------------------- memory per idle session

    record Heap(int sessions, long before, long after, String top) {
        long perSession() {
            return sessions == 0 ? 0 : (after - before) / sessions;
        }
    }

    record Memory(Heap service, Heap bare) {}

    /** Live heap bytes of {@code pid} after a full GC, and the class histogram's lines. */
    static List<String> histogram(long pid) throws Exception {
        Process p = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                        Long.toString(pid),
                        "GC.class_histogram")
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(120, TimeUnit.SECONDS);
        return out.lines().toList();
    }

    static long total(List<String> histogram) {
        for (String l : histogram) {
            Matcher m = Pattern.compile("^Total\\s+(\\d+)\\s+(\\d+)").matcher(l.strip());
            if (m.find()) {
                return Long.parseLong(m.group(2));
            }
        }
        throw new IllegalStateException("no total in the histogram");
    }

    /** The classes whose bytes grew most between two histograms, as "name +N B/session". */
    static String topGrowth(List<String> before, List<String> after, int sessions) {
        java.util.Map<String, Long> b = bytesByClass(before);
        java.util.Map<String, Long> a = bytesByClass(after);
        return a.entrySet().stream()
                .map(e -> java.util.Map.entry(e.getKey(), e.getValue() - b.getOrDefault(e.getKey(), 0L)))
                .sorted((x, y) -> Long.compare(y.getValue(), x.getValue()))
                .limit(8)
                .map(e -> String.format(Locale.ROOT, "`%s` %,d B", e.getKey(), e.getValue() / Math.max(1, sessions)))
                .reduce((x, y) -> x + ", " + y)
                .orElse("");
    }

    static java.util.Map<String, Long> bytesByClass(List<String> histogram) {
        java.util.Map<String, Long> m = new java.util.HashMap<>();
        Pattern row = Pattern.compile("^\\s*\\d+:\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)");
        for (String l : histogram) {
            Matcher x = row.matcher(l);
            if (x.find()) {
                m.merge(x.group(3), Long.parseLong(x.group(2)), Long::sum);
            }
        }
        return m;
    }

    /**
     * Opens {@code count} DTLS sessions to {@code port}, each from its own loopback address and port (127.0.0.2…,
     * explicit ports), with a Bouncy Castle DTLS 1.2 PSK client, then closes the client socket without a close_notify
     * (the server keeps the session idle). Returns how many handshakes completed.
     */
    static int openSessions(
            int port, int count, List<EnrolmentLoadDriver.Provisioned> identities, int threads, int firstAddress)
            throws Exception {
        java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger done = new java.util.concurrent.atomic.AtomicInteger();
        List<Thread> ts = new ArrayList<>();
        SecureRandom random = new SecureRandom();
        for (int t = 0; t < threads; t++) {
            Thread th = new Thread(() -> {
                int n;
                while ((n = next.getAndIncrement()) < count + count / 10 && done.get() < count) {
                    // 30,000 ports per address: 127.0.0.2, .3, .4, …
                    int a = firstAddress + n;
                    int host = 2 + a / 30_000;
                    int localPort = 20_000 + a % 30_000;
                    EnrolmentLoadDriver.Provisioned id = identities.get(n % identities.size());
                    try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(
                            InetAddress.getByAddress(new byte[] {127, 0, 0, (byte) host}), localPort))) {
                        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
                        s.setSoTimeout(5000);
                        DTLSTransport session =
                                new DTLSClientProtocol().connect(dtlsPskClient(id, random), new UDPTransport(s, 1400));
                        // one application record (a CoAP ping, RFC 7252 §4.3) confirms the handshake to the server,
                        // which
                        // then drops its handshake state (it keeps it while it may have to resend its last flight); the
                        // answer (a Reset) shows the session works
                        byte[] ping = {0x40, 0x00, (byte) (n >>> 8), (byte) n};
                        session.send(ping, 0, ping.length);
                        byte[] answer = new byte[64];
                        if (session.receive(answer, 0, answer.length, 3000) >= 4) {
                            done.incrementAndGet();
                        }
                        // no close(): a device that goes quiet leaves its session idle on the server
                    } catch (IOException e) {
                        // port in use or handshake lost: the next address is tried
                    }
                    if (done.get() % 10_000 == 0 && done.get() > 0) {
                        System.out.println(">> " + done.get() + " sessions");
                    }
                }
            });
            th.start();
            ts.add(th);
        }
        for (Thread th : ts) {
            th.join();
        }
        return done.get();
    }

    static PSKTlsClient dtlsPskClient(EnrolmentLoadDriver.Provisioned d, SecureRandom random) {
        // Bouncy Castle's lightweight crypto: the JDK providers have no AES-CCM
        return new PSKTlsClient(
                new org.bouncycastle.tls.crypto.impl.bc.BcTlsCrypto(random),
                new BasicTlsPSKIdentity(d.kpmId().getBytes(StandardCharsets.UTF_8), d.kpm())) {
            @Override
            protected ProtocolVersion[] getSupportedVersions() {
                return ProtocolVersion.DTLSv12.only();
            }

            @Override
            protected int[] getSupportedCipherSuites() {
                return new int[] {CipherSuite.TLS_PSK_WITH_AES_128_CCM_8};
            }
        };
    }

    /** Sessions on the service (its pid), then on a bare Scandium server started in a JVM of its own. */
    static Memory memory(long servicePid, int dtlsPort, List<EnrolmentLoadDriver.Provisioned> devices, int sessions)
            throws Exception {
        Heap service = heapWith(servicePid, dtlsPort, devices, sessions);
        Path work = Path.of("target/bench-enrolment");
        Files.createDirectories(work);
        int barePort = EnrolmentLoadDriver.freePort();
        byte[] psk = new byte[32];
        new SecureRandom().nextBytes(psk);
        String identity = "bare@mef.bench-co.m2m-trust.local";
        Process bare = bareServer(
                work.resolve("bare-dtls.log"),
                Integer.toString(barePort),
                identity,
                java.util.HexFormat.of().formatHex(psk));
        try {
            Thread.sleep(3000);
            Heap b = heapWith(
                    bare.pid(), barePort, List.of(new EnrolmentLoadDriver.Provisioned(identity, psk)), sessions);
            return new Memory(service, b);
        } finally {
            bare.destroy();
            bare.waitFor();
        }
    }

    static Heap heapWith(long pid, int port, List<EnrolmentLoadDriver.Provisioned> ids, int sessions) throws Exception {
        openSessions(port, 200, ids, 2, 0); // warm: classes loaded, pools sized
        List<String> before = histogram(pid);
        System.out.println(">> opening " + sessions + " idle DTLS sessions on port " + port);
        int opened = openSessions(port, sessions, ids, 2, 1000);
        List<String> after = histogram(pid);
        return new Heap(opened, total(before), total(after), topGrowth(before, after, opened));
    }
}
