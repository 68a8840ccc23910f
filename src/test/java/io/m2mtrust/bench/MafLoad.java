package io.m2mtrust.bench;

import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.mef.EnrolmentKdf;
import org.bouncycastle.tls.TlsClientProtocol;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * MAF scenarios of the load driver (run against the same service): devices enrol at the MEF, derive Km,
 * register at the MAF with their KeID and then use the KmID; one source registers keys for the others;
 * targets retrieve them one by one over kept-alive TLS-PSK connections and in batches of 50.
 */
public final class MafLoad {

    static final int KEYS = 200;
    static final int BATCH = 50;

    private MafLoad() {}

    /** A device's MAF credentials after enrolment and registration. */
    record MafClient(String clientId, byte[] km, String kmId) {
        EnrolmentLoadDriver.Provisioned asPsk() {
            return new EnrolmentLoadDriver.Provisioned(kmId, km);
        }
    }

    /** One kept-alive HTTP/1.1 connection inside a Bouncy Castle TLS-PSK session (tests use it too). */
    public static final class Session implements AutoCloseable {
        private final Socket socket;
        private final TlsClientProtocol tls;
        private final InputStream in;
        private final OutputStream out;
        private final String host;
        public String lastBody;
        /** The head of the last answer (status line and headers). */
        public String lastHead;

        public Session(
                int port,
                String host,
                EnrolmentLoadDriver.Provisioned psk,
                String exportLabel,
                int exportLength,
                byte[][] export)
                throws IOException {
            this.host = host;
            socket = new Socket("127.0.0.1", port);
            socket.setSoTimeout(30_000);
            socket.setTcpNoDelay(true);
            tls = new TlsClientProtocol(socket.getInputStream(), socket.getOutputStream());
            tls.connect(EnrolmentLoadDriver.pskClient(host, psk, exportLabel, exportLength, export));
            in = tls.getInputStream();
            out = tls.getOutputStream();
        }

        public int exchange(String method, String path, String json) throws IOException {
            byte[] body = json == null ? new byte[0] : json.getBytes(StandardCharsets.UTF_8);
            out.write((method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\n"
                            + (json == null ? "" : "Content-Type: application/json\r\n") + "Content-Length: "
                            + body.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            int state = 0;
            while (state < 4) {
                int b = in.read();
                if (b < 0) {
                    throw new IOException("connection closed");
                }
                head.write(b);
                state = (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3))
                        ? state + 1
                        : 0;
            }
            String h = head.toString(StandardCharsets.US_ASCII);
            lastHead = h;
            Matcher m = Pattern.compile("(?i)content-length: (\\d+)").matcher(h);
            int len = m.find() ? Integer.parseInt(m.group(1)) : 0;
            byte[] b = in.readNBytes(len);
            lastBody = new String(b, StandardCharsets.UTF_8);
            return Integer.parseInt(h.substring(9, 12));
        }

        @Override
        public void close() throws IOException {
            tls.close();
            socket.close();
        }
    }

    static String field(String json, String name) {
        return EnrolmentLoadDriver.field(json, name);
    }

    static MafClient enrolAndRegister(int port, String tenant, EnrolmentLoadDriver.Provisioned device)
            throws Exception {
        String mef = "mef." + tenant + ".m2m-trust.local";
        String maf = "maf." + tenant + ".m2m-trust.local";
        byte[][] export = new byte[1][];
        String keId;
        try (Session s = new Session(port, mef, device, "EXPORTER-oneM2M-Bootstrap", 48, export)) {
            if (s.exchange("POST", "/enrolment", "{}") != 201) {
                throw new IllegalStateException("enrolment failed: " + s.lastBody);
            }
            keId = field(s.lastBody, "keId");
        }
        byte[] km;
        try (SecretBytes ke = SecretBytes.copyOf(Arrays.copyOfRange(export[0], 16, 48));
                SecretBytes k = EnrolmentKdf.usageConstrained(ke, 21, maf)) {
            km = k.copy();
        }
        try (Session s = new Session(port, maf, new EnrolmentLoadDriver.Provisioned(keId, km), null, 0, null)) {
            int st = s.exchange(
                    "POST",
                    "/clientRegistration",
                    "{\"mafFqdn\":\"" + maf + "\",\"expirationTime\":\""
                            + Instant.now().plusSeconds(3600) + "\",\"adminFqdn\":\"admin.bench.example\"}");
            if (st != 201) {
                throw new IllegalStateException("MAF registration failed: " + s.lastBody);
            }
            return new MafClient(field(s.lastBody, "mafClientId"), km, field(s.lastBody, "assignedSymmKeyId"));
        }
    }

    /** A source with {@link #KEYS} registered keys and the two targets that may retrieve them. */
    record Retrieval(String maf, MafClient source, List<MafClient> targets, String targetIds, List<String> rels) {}

    /** Enrols and registers a source and two targets (devices 0, 1 and 2) and registers {@link #KEYS} keys. */
    static Retrieval prepare(int port, String tenant, List<EnrolmentLoadDriver.Provisioned> devices) throws Exception {
        String maf = "maf." + tenant + ".m2m-trust.local";
        System.out.println(">> MAF: enrolling and registering a source and two targets");
        MafClient source = enrolAndRegister(port, tenant, devices.get(0));
        List<MafClient> targets =
                List.of(enrolAndRegister(port, tenant, devices.get(1)), enrolAndRegister(port, tenant, devices.get(2)));
        List<String> rels = new ArrayList<>();
        String targetIds =
                "\"" + targets.get(0).clientId() + "\",\"" + targets.get(1).clientId() + "\"";
        try (Session s = new Session(port, maf, source.asPsk(), null, 0, null)) {
            for (int i = 0; i < KEYS; i++) {
                byte[] v = new byte[32];
                new java.security.SecureRandom().nextBytes(v);
                if (s.exchange("POST", "/keyRegistration", keyRequest(maf, targetIds, v)) != 201) {
                    throw new IllegalStateException("key registration failed: " + s.lastBody);
                }
                rels.add(field(s.lastBody, "relativeKeyId"));
            }
        }
        return new Retrieval(maf, source, targets, targetIds, rels);
    }

    /** Single retrievals over one kept-alive session per target, one and two client threads. */
    static List<EnrolmentLoadDriver.Run> retrievalRows(int port, Retrieval r, String scenario, int seconds)
            throws Exception {
        List<EnrolmentLoadDriver.Run> runs = new ArrayList<>();
        for (int threads : new int[] {1, 2}) {
            Session[] sessions = new Session[threads];
            int[] next = new int[threads];
            for (int t = 0; t < threads; t++) {
                sessions[t] = new Session(port, r.maf(), r.targets().get(t).asPsk(), null, 0, null);
            }
            runs.add(EnrolmentLoadDriver.load(
                    scenario,
                    threads,
                    seconds,
                    threads,
                    200,
                    i -> sessions[i].exchange(
                            "GET",
                            "/keyRetrieval/" + r.rels().get(next[i]++ % r.rels().size()),
                            null)));
            for (Session s : sessions) {
                s.close();
            }
        }
        return runs;
    }

    static List<EnrolmentLoadDriver.Run> run(
            int port, String tenant, List<EnrolmentLoadDriver.Provisioned> devices, int seconds) throws Exception {
        Retrieval prepared = prepare(port, tenant, devices);
        String maf = prepared.maf();
        MafClient source = prepared.source();
        List<MafClient> targets = prepared.targets();
        List<String> rels = prepared.rels();
        String targetIds = prepared.targetIds();
        List<EnrolmentLoadDriver.Run> runs = new ArrayList<>();
        // registrations over one kept-alive session per thread (each thread its own source key space)
        for (int threads : new int[] {1, 2}) {
            Session[] sessions = new Session[threads];
            for (int t = 0; t < threads; t++) {
                sessions[t] = new Session(port, maf, source.asPsk(), null, 0, null);
            }
            runs.add(EnrolmentLoadDriver.load(
                    "MAF key registration (kept-alive)", threads, seconds, threads, 201, i -> {
                        byte[] v = new byte[32];
                        java.util.concurrent.ThreadLocalRandom.current().nextBytes(v);
                        return sessions[i].exchange("POST", "/keyRegistration", keyRequest(maf, targetIds, v));
                    }));
            for (Session s : sessions) {
                s.close();
            }
        }
        runs.addAll(retrievalRows(port, prepared, "MAF key retrieval (kept-alive)", seconds));
        for (int threads : new int[] {1, 2}) {
            Session[] sessions = new Session[threads];
            int[] next = new int[threads];
            for (int t = 0; t < threads; t++) {
                sessions[t] = new Session(port, maf, targets.get(t).asPsk(), null, 0, null);
            }
            runs.add(EnrolmentLoadDriver.load(
                    "MAF batch retrieval (" + BATCH + " keys per call)", threads, seconds, threads, 200, i -> {
                        StringBuilder ids = new StringBuilder();
                        for (int k = 0; k < BATCH; k++) {
                            ids.append(k == 0 ? "" : ",")
                                    .append('"')
                                    .append(rels.get(next[i]++ % rels.size()))
                                    .append('"');
                        }
                        return sessions[i].exchange("POST", "/keyRetrieval", "{\"relativeKeyIds\":[" + ids + "]}");
                    }));
            for (Session s : sessions) {
                s.close();
            }
        }
        // ESData over the MAF session: 1 KiB, dir A256GCM with a registered SUID-34 key (first half of a 64-byte value)
        String esKid;
        try (Session s = new Session(port, maf, source.asPsk(), null, 0, null)) {
            byte[] v = new byte[64];
            new java.security.SecureRandom().nextBytes(v);
            if (s.exchange("POST", "/keyRegistration", keyRequest(maf, targetIds, v)) != 201) {
                throw new IllegalStateException("ESData key registration failed: " + s.lastBody);
            }
            esKid = field(s.lastBody, "keyIdentifier");
        }
        byte[] kib = new byte[1024];
        new java.security.SecureRandom().nextBytes(kib);
        String protect = "{\"payload\":\"" + Base64.getEncoder().encodeToString(kib) + "\",\"encryptFor\":[\"" + esKid
                + "\"],\"alg\":\"dir\",\"enc\":\"A256GCM\",\"contentSecurity\":1}";
        String envelope;
        try (Session s = new Session(port, maf, source.asPsk(), null, 0, null)) {
            s.exchange("POST", "/esdata/protect", protect);
            envelope = field(s.lastBody, "envelope");
        }
        String unprotect = "{\"envelope\":\"" + envelope + "\",\"contentSecurity\":1}";
        StringBuilder batch = new StringBuilder("{\"items\":[");
        for (int i = 0; i < ESDATA_BATCH; i++) {
            batch.append(i == 0 ? "" : ",").append(protect);
        }
        String protectBatch = batch.append("]}").toString();
        for (String[] op : new String[][] {
            {"ESData protect over REST (dir A256GCM, 1 KiB)", "/esdata/protect", protect},
            {"ESData unprotect over REST (dir A256GCM, 1 KiB)", "/esdata/unprotect", unprotect},
            {"ESData protect batch (" + ESDATA_BATCH + " per call)", "/esdata/protect/batch", protectBatch}
        }) {
            Session[] sessions = new Session[] {
                new Session(port, maf, (op[1].contains("unprotect") ? targets.get(0) : source).asPsk(), null, 0, null)
            };
            runs.add(EnrolmentLoadDriver.load(
                    op[0], 1, seconds, 1, 200, i -> sessions[0].exchange("POST", op[1], op[2])));
            sessions[0].close();
        }
        return runs;
    }

    static final int ESDATA_BATCH = 20;

    static String keyRequest(String maf, String targetIds, byte[] value) {
        return "{\"mafFqdn\":\"" + maf + "\",\"expirationTime\":\""
                + Instant.now().plusSeconds(3600)
                + "\",\"adminFqdn\":\"admin.bench.example\",\"suid\":34,\"targetIds\":[" + targetIds
                + "],\"keyValue\":\""
                + Base64.getEncoder().encodeToString(value) + "\"}";
    }

    static void write(List<EnrolmentLoadDriver.Run> runs, double[] ceiling, int seconds) throws IOException {
        double open = ceiling[4];
        StringBuilder t = new StringBuilder();
        t.append("Measured ")
                .append(Instant.now().toString(), 0, 16)
                .append(" UTC, same run and machine as above. Each client thread keeps one ")
                .append("TLS 1.2 PSK session (KmID/Km, Bouncy Castle client) open and sends requests back to back for ")
                .append(seconds)
                .append(" s after a 5 s warm-up; ")
                .append(KEYS)
                .append(" registered ESData keys (SUID 34, 32-byte values) rotate through the ")
                .append(
                        "retrievals. A retrieval unseals one Key Value in the HSM (AES-256-GCM open) and appends an audit event; a batch call ")
                .append("unseals ")
                .append(BATCH)
                .append(" and appends one event. Keys/s for the batch rows = calls/s × ")
                .append(BATCH)
                .append(
                        ". The ESData rows protect or unprotect a 1 KiB payload over the same kind of session; each envelope unseals ")
                .append("its key in the HSM once (batch: ")
                .append(ESDATA_BATCH)
                .append(" envelopes per call).\n\n");
        t.append(
                        "| Operation | Client threads | Calls/s | Keys or envelopes/s | p50 ms | p99 ms | Errors | per second ÷ raw GCM-open ceiling |\n")
                .append("|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (EnrolmentLoadDriver.Run r : runs) {
            int per = r.scenario().startsWith("MAF batch")
                    ? BATCH
                    : r.scenario().startsWith("ESData protect batch") ? ESDATA_BATCH : 1;
            t.append(String.format(
                    Locale.ROOT,
                    "| %s | %d | %,.0f | %,.0f | %.1f | %.1f | %d | %.2f |%n",
                    r.scenario(),
                    r.threads(),
                    r.perSecond(),
                    r.perSecond() * per,
                    r.p50ms(),
                    r.p99ms(),
                    r.errors(),
                    r.perSecond() * per / open));
        }
        t.append(String.format(
                Locale.ROOT,
                "%nRaw HSM ceiling in this run: AES-256-GCM open %,.0f ops/s (one thread, SunPKCS11 on SoftHSM2); "
                        + "a registration seals once (seal %,.0f ops/s).%n",
                open,
                ceiling[1]));
        EnrolmentLoadDriver.replaceSection("maf-keys", "## MAF: key registration and retrieval", t.toString());
        System.out.println(t);
    }
}
