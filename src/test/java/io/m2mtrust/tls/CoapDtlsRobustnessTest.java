package io.m2mtrust.tls;

import static io.m2mtrust.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.cbor.CBORFactory;
import io.m2mtrust.testsupport.CoapWire;
import io.m2mtrust.testsupport.MafDevices;
import io.m2mtrust.testsupport.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.elements.AddressEndpointContext;
import org.eclipse.californium.elements.RawData;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.elements.config.UdpConfig;
import org.eclipse.californium.scandium.DTLSConnector;
import org.eclipse.californium.scandium.config.DtlsConfig;
import org.eclipse.californium.scandium.config.DtlsConnectorConfig;
import org.eclipse.californium.scandium.dtls.cipher.CipherSuite;
import org.eclipse.californium.scandium.dtls.pskstore.AdvancedSinglePskStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The DTLS/CoAP listener on a bad day (issue 20): CBOR it must refuse, block-wise transfers large and abusive,
 * datagrams garbled, truncated, oversized, replayed and reordered, a device behind a NAT that rebinds (Connection ID),
 * a suite or a tenant that policy no longer allows. Each is refused cleanly, nothing is written, and the listener
 * keeps serving. The device here is Californium's own client (Scandium), which speaks CID and block-wise; the
 * independent peers (libcoap, OpenSSL) are in {@link CoapDtlsDeviceTest}.
 */
@QuarkusTest
class CoapDtlsRobustnessTest {

    static final String T = "coap-bad";
    static final String MEF = "mef." + T + ".m2m-trust.local";
    static final ObjectMapper CBOR = new ObjectMapper(new CBORFactory());
    static final ObjectMapper JSON = new ObjectMapper();

    @Inject
    DeviceDtlsListener dtls;

    @Inject
    DeviceTlsListener tls;

    static MafDevices fleet;

    final List<CoapEndpoint> endpoints = new ArrayList<>();

    @BeforeEach
    void tenant() {
        if (fleet == null) {
            fleet = MafDevices.create(T, tls.port(), List.of("b-1", "b-2", "b-3", "b-4", "b-5", "b-6"), doc -> {});
        }
    }

    @AfterEach
    void closeClients() {
        endpoints.forEach(CoapEndpoint::destroy);
    }

    // ---------------------------------------------------------------- a Californium device

    static Configuration clientConfiguration() {
        DtlsConfig.register();
        CoapConfig.register();
        UdpConfig.register();
        Configuration c = Configuration.createStandardWithoutFile();
        c.set(DtlsConfig.DTLS_ROLE, DtlsConfig.DtlsRole.CLIENT_ONLY);
        c.set(DtlsConfig.DTLS_CONNECTION_ID_LENGTH, 0); // understands CID, asks for none itself
        c.set(CoapConfig.MAX_MESSAGE_SIZE, 512);
        c.set(CoapConfig.PREFERRED_BLOCK_SIZE, 256);
        c.set(CoapConfig.MAX_RESOURCE_BODY_SIZE, 256 * 1024);
        c.set(CoapConfig.ACK_TIMEOUT, 500, java.util.concurrent.TimeUnit.MILLISECONDS);
        c.set(CoapConfig.MAX_RETRANSMIT, 2);
        return c;
    }

    /** A device endpoint for {@code device} of the fleet (its KpmID and Kpm), offering {@code suites}. */
    CoapEndpoint device(String device, CipherSuite... suites) {
        return device(fleet.kpmIds.get(device), fleet.kpms.get(device), suites);
    }

    CoapEndpoint device(String identity, byte[] psk, CipherSuite... suites) {
        return device(identity, psk, null, suites);
    }

    /** The same, its handshakes reported to {@code sessions} (null: none). */
    CoapEndpoint device(
            String identity,
            byte[] psk,
            org.eclipse.californium.scandium.dtls.SessionListener sessions,
            CipherSuite... suites) {
        Configuration c = clientConfiguration();
        c.setAsList(
                DtlsConfig.DTLS_CIPHER_SUITES,
                suites.length == 0 ? new CipherSuite[] {CipherSuite.TLS_PSK_WITH_AES_128_CCM_8} : suites);
        DtlsConnectorConfig.Builder builder = DtlsConnectorConfig.builder(c)
                .setAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .setAdvancedPskStore(new AdvancedSinglePskStore(identity, psk));
        if (sessions != null) {
            builder.setSessionListener(sessions);
        }
        DtlsConnectorConfig config = builder.build();
        CoapEndpoint e = new CoapEndpoint.Builder()
                .setConfiguration(c)
                .setConnector(new DTLSConnector(config))
                .build();
        endpoints.add(e);
        return e;
    }

    CoapClient client(CoapEndpoint endpoint, String path) {
        return client(endpoint, dtls.port(), path);
    }

    static CoapClient client(CoapEndpoint endpoint, int port, String path) {
        CoapClient c = new CoapClient("coaps://127.0.0.1:" + port + path);
        c.setEndpoint(endpoint);
        c.setTimeout(10_000L);
        return c;
    }

    static byte[] cbor(Object value) throws IOException {
        return CBOR.writeValueAsBytes(value);
    }

    int enrolments() {
        return as(Tokens.auditor(T))
                .get("/api/v1/tenants/" + T + "/audit?limit=1000")
                .jsonPath()
                .getList("findAll { it.action == 'enrolment.create' }")
                .size();
    }

    // ---------------------------------------------------------------- CBOR

    @Test
    void a_cbor_enrolment_is_answered_in_cbor_with_definite_lengths() throws Exception {
        CoapEndpoint e = device("b-1");
        Request post = Request.newPost();
        post.setPayload(cbor(Map.of("mafEnrolmentIndication", true)));
        post.getOptions().setContentFormat(MediaTypeRegistry.APPLICATION_CBOR);
        CoapResponse r = client(e, "/enrolment").advanced(post);
        assertThat(r.getCode()).as(r.getResponseText()).isEqualTo(CoAP.ResponseCode.CREATED);
        assertThat(r.getOptions().getContentFormat()).isEqualTo(MediaTypeRegistry.APPLICATION_CBOR);
        byte[] body = r.getPayload();
        assertThat(body[0] & 0xff).as("a definite-length map").isBetween(0xa0, 0xbb);
        CborJson.checkWellFormed(body); // no indefinite lengths anywhere
        JsonNode answer = CBOR.readTree(body);
        assertThat(answer.get("keId").asText()).endsWith("@" + MEF);
        assertThat(answer.at("/instructions/mafEnrolment/mafKeyRegistrationUri").asText())
                .isNotEmpty();

        // JSON in, CBOR out (Accept), and CBOR in, JSON out; each enrolment in a session of its own (one Ke per
        // session)
        Request accept = Request.newPost();
        accept.setPayload("{}");
        accept.getOptions()
                .setContentFormat(MediaTypeRegistry.APPLICATION_JSON)
                .setAccept(MediaTypeRegistry.APPLICATION_CBOR);
        CoapResponse ar = client(device("b-1"), "/enrolment").advanced(accept);
        assertThat(ar.getCode()).isEqualTo(CoAP.ResponseCode.CREATED);
        assertThat(ar.getOptions().getContentFormat()).isEqualTo(MediaTypeRegistry.APPLICATION_CBOR);
        Request json = Request.newPost();
        json.setPayload(cbor(Map.of()));
        json.getOptions()
                .setContentFormat(MediaTypeRegistry.APPLICATION_CBOR)
                .setAccept(MediaTypeRegistry.APPLICATION_JSON);
        CoapResponse jr = client(device("b-1"), "/enrolment").advanced(json);
        assertThat(jr.getOptions().getContentFormat()).isEqualTo(MediaTypeRegistry.APPLICATION_JSON);
        assertThat(JSON.readTree(jr.getPayload()).get("keId").asText()).endsWith("@" + MEF);
    }

    @Test
    void malformed_cbor_is_refused_with_4_00_nothing_is_written_and_the_session_keeps_serving() throws Exception {
        CoapEndpoint e = device("b-2");
        int before = enrolments();
        byte[] deep = new byte[60];
        java.util.Arrays.fill(deep, (byte) 0x81); // [[[[…
        deep[deep.length - 1] = 0x01;
        Map<String, byte[]> bad = new java.util.LinkedHashMap<>();
        bad.put("unterminated indefinite-length map", HexFormat.of().parseHex("bf616101"));
        bad.put("break outside an indefinite-length item", HexFormat.of().parseHex("ff"));
        bad.put("indefinite text with a byte-string chunk", HexFormat.of().parseHex("a161617f4161ff"));
        bad.put("indefinite map key without a value", HexFormat.of().parseHex("bf6161ff"));
        bad.put("indefinite-length integer", HexFormat.of().parseHex("1f"));
        bad.put("deep nesting", deep);
        bad.put("duplicate keys", HexFormat.of().parseHex("a2616101616102"));
        bad.put("tag", HexFormat.of().parseHex("c11a514b67b0"));
        bad.put("truncated text", HexFormat.of().parseHex("a1616162"));
        bad.put("length past the end", HexFormat.of().parseHex("a161617bffffffffffffff00"));
        bad.put("bytes after the item", HexFormat.of().parseHex("a0a0"));
        bad.put("reserved additional info", HexFormat.of().parseHex("1c"));
        bad.put("integer map key", HexFormat.of().parseHex("a10101"));
        bad.put("invalid UTF-8", HexFormat.of().parseHex("a16161" + "62c328"));
        bad.put("undefined", HexFormat.of().parseHex("a16161f7"));
        for (Map.Entry<String, byte[]> b : bad.entrySet()) {
            Request post = Request.newPost();
            post.setPayload(b.getValue());
            post.getOptions().setContentFormat(MediaTypeRegistry.APPLICATION_CBOR);
            CoapResponse r = client(e, "/enrolment").advanced(post);
            assertThat(r).as(b.getKey()).isNotNull();
            assertThat(r.getCode())
                    .as(b.getKey() + ": " + r.getResponseText())
                    .isEqualTo(CoAP.ResponseCode.BAD_REQUEST);
        }
        assertThat(enrolments()).isEqualTo(before);
        // unsupported formats and methods
        Request xml = Request.newPost();
        xml.setPayload("<x/>");
        xml.getOptions().setContentFormat(MediaTypeRegistry.APPLICATION_XML);
        assertThat(client(e, "/enrolment").advanced(xml).getCode())
                .isEqualTo(CoAP.ResponseCode.UNSUPPORTED_CONTENT_FORMAT);
        Request wantsXml = Request.newGet();
        wantsXml.getOptions().setAccept(MediaTypeRegistry.APPLICATION_XML);
        assertThat(client(e, "/enrolment").advanced(wantsXml).getCode()).isEqualTo(CoAP.ResponseCode.NOT_ACCEPTABLE);
        Request fetch = new Request(CoAP.Code.FETCH);
        assertThat(client(e, "/enrolment").advanced(fetch).getCode()).isEqualTo(CoAP.ResponseCode.METHOD_NOT_ALLOWED);
        // the same session still enrols
        Request ok = Request.newPost();
        ok.setPayload(cbor(Map.of()));
        ok.getOptions().setContentFormat(MediaTypeRegistry.APPLICATION_CBOR);
        assertThat(client(e, "/enrolment").advanced(ok).getCode()).isEqualTo(CoAP.ResponseCode.CREATED);
        assertThat(enrolments()).isEqualTo(before + 1);
    }

    // ---------------------------------------------------------------- block-wise

    @Test
    void a_body_in_many_blocks_is_reassembled_and_one_over_the_limit_is_4_13() throws Exception {
        CoapEndpoint e = device("b-3");
        // 3 KB of JSON (whitespace is JSON) travels as 12 blocks of 256 bytes (RFC 7959 Block1)
        String padded = "{\"mafEnrolmentIndication\":true" + " ".repeat(3000) + "}";
        CoapResponse r = client(e, "/enrolment").post(padded, MediaTypeRegistry.APPLICATION_JSON);
        assertThat(r.getCode()).as(r.getResponseText()).isEqualTo(CoAP.ResponseCode.CREATED);

        int before = enrolments();
        String huge = "{\"mafEnrolmentIndication\":true" + " ".repeat(70_000) + "}";
        CoapResponse tooLarge = client(e, "/enrolment").post(huge, MediaTypeRegistry.APPLICATION_JSON);
        assertThat(tooLarge.getCode()).isEqualTo(CoAP.ResponseCode.REQUEST_ENTITY_TOO_LARGE);
        assertThat(enrolments()).isEqualTo(before);
    }

    /** CoAP messages written by hand inside a Scandium client session: for block options no client library sends. */
    static final class RawCoap implements AutoCloseable {
        final DTLSConnector connector;
        final BlockingQueue<byte[]> received = new LinkedBlockingQueue<>();
        final InetSocketAddress server;

        RawCoap(String identity, byte[] psk, int port) throws IOException {
            Configuration c = clientConfiguration();
            c.setAsList(DtlsConfig.DTLS_CIPHER_SUITES, CipherSuite.TLS_PSK_WITH_AES_128_CCM_8);
            connector = new DTLSConnector(DtlsConnectorConfig.builder(c)
                    .setAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                    .setAdvancedPskStore(new AdvancedSinglePskStore(identity, psk))
                    .build());
            connector.setRawDataReceiver(raw -> received.add(raw.getBytes()));
            connector.start();
            server = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
        }

        /** Sends one CoAP message and returns the response carrying {@code token} (null after 10 s). */
        CoapWire.Response call(byte[] message, byte[] token) throws InterruptedException {
            connector.send(RawData.outbound(message, new AddressEndpointContext(server), null, false));
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < end) {
                byte[] d = received.poll(200, TimeUnit.MILLISECONDS);
                if (d != null) {
                    CoapWire.Response r = CoapWire.findResponse(new String(d, StandardCharsets.ISO_8859_1), token);
                    if (r != null) {
                        return r;
                    }
                }
            }
            return null;
        }

        @Override
        public void close() {
            connector.destroy();
        }
    }

    static byte[] blockPost(byte[] token, String path, int num, boolean more, int szx, byte[] body) {
        Map<Integer, List<byte[]>> o = new TreeMap<>();
        o.put(CoapWire.URI_PATH, CoapWire.segments(path));
        o.put(CoapWire.CONTENT_FORMAT, List.of(CoapWire.uint(50)));
        o.put(CoapWire.BLOCK1, List.of(CoapWire.block(num, more, szx)));
        return CoapWire.request(2, token, CoapWire.nextMessageId(), o, body);
    }

    @Test
    void block_wise_abuse_out_of_order_blocks_and_changing_sizes_are_refused() throws Exception {
        int before = enrolments();
        try (RawCoap raw = new RawCoap(fleet.kpmIds.get("b-3"), fleet.kpms.get("b-3"), dtls.port())) {
            // a transfer that starts at block 5: 4.08 Request Entity Incomplete (RFC 7959 §2.9.2)
            byte[] t1 = "blk1".getBytes(StandardCharsets.US_ASCII);
            CoapWire.Response r1 = raw.call(blockPost(t1, "/enrolment", 5, true, 4, new byte[256]), t1);
            assertThat(r1).isNotNull();
            assertThat(r1.code()).isEqualTo("4.08");

            // block 0 of 256 bytes, then block 1 announced with 64-byte blocks: not glued into a body
            byte[] t2 = "blk2".getBytes(StandardCharsets.US_ASCII);
            byte[] head = ("{\"mafEnrolmentIndication\":true" + " ".repeat(256 - 30)).getBytes(StandardCharsets.UTF_8);
            CoapWire.Response c1 = raw.call(blockPost(t2, "/enrolment", 0, true, 4, head), t2);
            assertThat(c1).isNotNull();
            assertThat(c1.code()).isEqualTo("2.31");
            byte[] t3 = "blk3".getBytes(StandardCharsets.US_ASCII);
            CoapWire.Response c2 =
                    raw.call(blockPost(t3, "/enrolment", 1, false, 2, " }".getBytes(StandardCharsets.UTF_8)), t3);
            assertThat(c2).isNotNull();
            assertThat(c2.code()).as(c2.text()).startsWith("4.");

            // a block that says more follow but is shorter than its size: refused too
            byte[] t4 = "blk4".getBytes(StandardCharsets.US_ASCII);
            CoapWire.Response c3 = raw.call(blockPost(t4, "/enrolment", 0, true, 4, new byte[100]), t4);
            assertThat(c3).isNotNull();
            assertThat(c3.code()).as(c3.text()).startsWith("4.");
        }
        assertThat(enrolments()).isEqualTo(before);
        // and the listener serves the next device
        assertThat(client(device("b-3"), "/enrolment")
                        .post("{}", MediaTypeRegistry.APPLICATION_JSON)
                        .getCode())
                .isEqualTo(CoAP.ResponseCode.CREATED);
    }

    // ---------------------------------------------------------------- datagrams

    @Test
    void a_client_hello_from_a_spoofed_source_gets_only_a_cookie_no_larger_than_itself() throws Exception {
        byte[] hello = DtlsExporterInteropTest.clientHelloWithoutCookie();
        try (DatagramSocket spoofed = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            spoofed.setSoTimeout(3000);
            spoofed.send(new DatagramPacket(hello, hello.length, InetAddress.getLoopbackAddress(), dtls.port()));
            byte[] buf = new byte[2048];
            DatagramPacket answer = new DatagramPacket(buf, buf.length);
            spoofed.receive(answer);
            assertThat(buf[0]).isEqualTo((byte) 22);
            assertThat(buf[13]).as("hello_verify_request").isEqualTo((byte) 3);
            assertThat(answer.getLength()).as("no amplification").isLessThanOrEqualTo(hello.length);
            assertThat(receiveAnything(spoofed, 500))
                    .as("nothing but the cookie")
                    .isNull();
        }
    }

    @Test
    void garbage_truncated_and_oversized_datagrams_get_no_answer_and_the_listener_keeps_serving() throws Exception {
        SecureRandom random = new SecureRandom();
        byte[] garbage = new byte[300];
        random.nextBytes(garbage);
        byte[] hello = DtlsExporterInteropTest.clientHelloWithoutCookie();
        byte[] truncated = java.util.Arrays.copyOf(hello, 20);
        byte[] lying = hello.clone();
        lying[11] = (byte) 0x3e; // the record claims 16,000 bytes it does not carry
        lying[12] = (byte) 0x80;
        byte[] oversized = new byte[60_000];
        random.nextBytes(oversized);
        oversized[0] = 22; // a handshake record header, then noise
        oversized[1] = (byte) 0xfe;
        oversized[2] = (byte) 0xfd;
        byte[] appDataEpoch1 = HexFormat.of().parseHex("17fefd0001000000000001001000112233445566778899aabbccddeeff");
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            for (byte[] d :
                    List.of(garbage, truncated, lying, oversized, appDataEpoch1, new byte[0], new byte[] {22})) {
                s.send(new DatagramPacket(d, d.length, InetAddress.getLoopbackAddress(), dtls.port()));
            }
            assertThat(receiveAnything(s, 1000)).as("no answer to any of them").isNull();
        }
        CoapEndpoint e = device("b-4");
        assertThat(client(e, "/enrolment")
                        .post("{}", MediaTypeRegistry.APPLICATION_JSON)
                        .getCode())
                .isEqualTo(CoAP.ResponseCode.CREATED);
    }

    static byte[] receiveAnything(DatagramSocket s, int millis) throws IOException {
        s.setSoTimeout(millis);
        byte[] buf = new byte[65536];
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        try {
            s.receive(p);
            return java.util.Arrays.copyOf(buf, p.getLength());
        } catch (SocketTimeoutException none) {
            return null;
        }
    }

    /**
     * A UDP relay between the device and the listener that plays a NAT: it forwards from one source port until told
     * to rebind, then from a fresh one; it remembers the last datagram the device sent so a test can replay it.
     */
    static final class NatRelay implements AutoCloseable {
        final DatagramSocket front;
        final InetSocketAddress server;
        volatile DatagramSocket back;
        volatile InetSocketAddress device;
        final AtomicReference<byte[]> lastFromDevice = new AtomicReference<>();
        final List<Thread> threads = new ArrayList<>();
        volatile boolean open = true;

        NatRelay(int serverPort) throws IOException {
            front = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            server = new InetSocketAddress(InetAddress.getLoopbackAddress(), serverPort);
            back = newBack();
            Thread t = new Thread(this::deviceToServer, "nat-relay-front");
            t.setDaemon(true);
            t.start();
            threads.add(t);
        }

        int port() {
            return front.getLocalPort();
        }

        private DatagramSocket newBack() throws IOException {
            DatagramSocket b = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            Thread t = new Thread(() -> serverToDevice(b), "nat-relay-back");
            t.setDaemon(true);
            t.start();
            threads.add(t);
            return b;
        }

        /** The NAT gives the device a new public port: later datagrams leave from a new socket. */
        void rebind() throws IOException {
            DatagramSocket old = back;
            back = newBack();
            old.close();
        }

        void replayLast() throws IOException {
            byte[] d = lastFromDevice.get();
            back.send(new DatagramPacket(d, d.length, server));
        }

        private void deviceToServer() {
            byte[] buf = new byte[65536];
            while (open) {
                try {
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    front.receive(p);
                    device = (InetSocketAddress) p.getSocketAddress();
                    byte[] d = java.util.Arrays.copyOf(buf, p.getLength());
                    lastFromDevice.set(d);
                    if (swapNext) {
                        byte[] first = held;
                        if (first == null) {
                            held = d; // kept back until the next datagram has gone out
                            continue;
                        }
                        held = null;
                        swapNext = false;
                        back.send(new DatagramPacket(d, d.length, server));
                        back.send(new DatagramPacket(first, first.length, server));
                        swapped.incrementAndGet();
                        continue;
                    }
                    back.send(new DatagramPacket(d, d.length, server));
                } catch (IOException e) {
                    if (!open) {
                        return;
                    }
                }
            }
        }

        final java.util.concurrent.atomic.AtomicInteger toDevice = new java.util.concurrent.atomic.AtomicInteger();

        /** When set, the next two datagrams from the device reach the server in the opposite order. */
        volatile boolean swapNext;

        private volatile byte[] held;
        final java.util.concurrent.atomic.AtomicInteger swapped = new java.util.concurrent.atomic.AtomicInteger();

        private void serverToDevice(DatagramSocket b) {
            byte[] buf = new byte[65536];
            while (open && !b.isClosed()) {
                try {
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    b.receive(p);
                    toDevice.incrementAndGet();
                    front.send(new DatagramPacket(buf, p.getLength(), device));
                } catch (IOException e) {
                    return;
                }
            }
        }

        @Override
        public void close() {
            open = false;
            front.close();
            back.close();
        }
    }

    /** A device endpoint (PSK, CCM_8, with CID) whose handshakes are counted. */
    CoapEndpoint countedDevice(String device, java.util.concurrent.atomic.AtomicInteger handshakes) {
        return device(fleet.kpmIds.get(device), fleet.kpms.get(device), new CountingSessions(handshakes));
    }

    /**
     * RFC 6347 §4.1.2.6: records that arrive out of order inside the replay window are accepted (only duplicates and
     * records left of the window are dropped). Two requests reach the listener in the opposite order: both answered,
     * in the same session, and nothing written twice.
     */
    @Test
    void records_that_arrive_out_of_order_inside_the_replay_window_are_both_served() throws Exception {
        java.util.concurrent.atomic.AtomicInteger handshakes = new java.util.concurrent.atomic.AtomicInteger();
        try (NatRelay nat = new NatRelay(dtls.port())) {
            CoapClient viaNat = client(countedDevice("b-6", handshakes), nat.port(), "/enrolment");
            assertThat(viaNat.post("{}", MediaTypeRegistry.APPLICATION_JSON).getCode())
                    .isEqualTo(CoAP.ResponseCode.CREATED);
            int before = enrolments();

            nat.swapNext = true;
            java.util.concurrent.CompletableFuture<CoapResponse> first = new java.util.concurrent.CompletableFuture<>();
            java.util.concurrent.CompletableFuture<CoapResponse> second =
                    new java.util.concurrent.CompletableFuture<>();
            viaNat.post(handlerOf(first), "{}", MediaTypeRegistry.APPLICATION_JSON);
            viaNat.post(handlerOf(second), "{}", MediaTypeRegistry.APPLICATION_JSON);
            // the session has enrolled already: each request, whichever arrives first, is 4.09 and writes nothing
            assertThat(first.get(10, java.util.concurrent.TimeUnit.SECONDS).getCode())
                    .isEqualTo(CoAP.ResponseCode.CONFLICT);
            assertThat(second.get(10, java.util.concurrent.TimeUnit.SECONDS).getCode())
                    .isEqualTo(CoAP.ResponseCode.CONFLICT);
            assertThat(nat.swapped.get()).as("the two records crossed").isEqualTo(1);
            assertThat(handshakes.get()).isEqualTo(1);
            assertThat(enrolments()).isEqualTo(before);
        }
    }

    static org.eclipse.californium.core.CoapHandler handlerOf(
            java.util.concurrent.CompletableFuture<CoapResponse> answered) {
        return new org.eclipse.californium.core.CoapHandler() {
            @Override
            public void onLoad(CoapResponse response) {
                answered.complete(response);
            }

            @Override
            public void onError() {
                answered.completeExceptionally(new AssertionError("no CoAP answer"));
            }
        };
    }

    @Test
    void with_a_connection_id_a_device_whose_nat_rebinds_keeps_its_session() throws Exception {
        java.util.concurrent.atomic.AtomicInteger handshakes = new java.util.concurrent.atomic.AtomicInteger();
        try (NatRelay nat = new NatRelay(dtls.port())) {
            CoapClient viaNat = client(countedDevice("b-5", handshakes), nat.port(), "/enrolment");
            assertThat(viaNat.post("{}", MediaTypeRegistry.APPLICATION_JSON).getCode())
                    .isEqualTo(CoAP.ResponseCode.CREATED);
            assertThat(handshakes.get()).isEqualTo(1);

            // replay: the last request datagram again, byte for byte; the replay window drops it (CoAP deduplication
            // would have answered a duplicate the DTLS layer let through) and no second enrolment is written
            int before = enrolments();
            int answered = nat.toDevice.get();
            nat.replayLast();
            Thread.sleep(500);
            assertThat(nat.toDevice.get()).as("no answer to a replayed record").isEqualTo(answered);
            assertThat(enrolments()).isEqualTo(before);

            // the NAT rebinds: the next records come from a new port, carry the CID, and the session follows them
            nat.rebind();
            // the same session answers: its Bootstrap export is already a KeID, so a second enrolment in it is 4.09
            // (a new session would have enrolled: 2.01)
            assertThat(viaNat.post("{}", MediaTypeRegistry.APPLICATION_JSON).getCode())
                    .isEqualTo(CoAP.ResponseCode.CONFLICT);
            assertThat(handshakes.get())
                    .as("no new handshake after the rebinding")
                    .isEqualTo(1);
        }
    }

    /** Counts the handshakes a client makes. */
    record CountingSessions(java.util.concurrent.atomic.AtomicInteger count)
            implements org.eclipse.californium.scandium.dtls.SessionListener {
        @Override
        public void handshakeStarted(org.eclipse.californium.scandium.dtls.Handshaker h) {
            count.incrementAndGet();
        }

        @Override
        public void contextEstablished(
                org.eclipse.californium.scandium.dtls.Handshaker h,
                org.eclipse.californium.scandium.dtls.DTLSContext ctx) {}

        @Override
        public void handshakeCompleted(org.eclipse.californium.scandium.dtls.Handshaker h) {}

        @Override
        public void handshakeFailed(org.eclipse.californium.scandium.dtls.Handshaker h, Throwable cause) {}

        @Override
        public void handshakeFlightRetransmitted(org.eclipse.californium.scandium.dtls.Handshaker h, int flight) {}
    }

    // ---------------------------------------------------------------- policy

    @Test
    void a_suite_the_tenant_does_not_allow_fails_the_handshake_and_a_policy_change_ends_open_sessions()
            throws Exception {
        // GCM is not in the default policy: a device offering only GCM gets no session
        CoapEndpoint gcmOnly = device("b-1", CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256);
        CoapClient refused = client(gcmOnly, "/enrolment");
        refused.setTimeout(4000L);
        CoapResponse none;
        try {
            none = refused.post("{}", MediaTypeRegistry.APPLICATION_JSON);
        } catch (org.eclipse.californium.elements.exception.ConnectorException | IOException e) {
            none = null;
        }
        assertThat(none).as("no answer without a session").isNull();

        // an open CCM_8 session; then the policy drops CCM_8 (keeping a TCP suite): the next request is 4.03
        CoapEndpoint ccm = device("b-2");
        CoapClient open = client(ccm, "/enrolment");
        assertThat(open.post("{}", MediaTypeRegistry.APPLICATION_JSON).getCode())
                .isEqualTo(CoAP.ResponseCode.CREATED);
        List<String> before = setSuites(List.of("TLS_PSK_WITH_AES_128_CBC_SHA256", "TLS_PSK_WITH_AES_128_GCM_SHA256"));
        try {
            int writes = enrolments();
            CoapResponse ended = open.post("{}", MediaTypeRegistry.APPLICATION_JSON);
            assertThat(ended.getCode()).isEqualTo(CoAP.ResponseCode.FORBIDDEN);
            assertThat(enrolments()).isEqualTo(writes);
            // now GCM is allowed: the GCM-only device gets its session
            assertThat(client(device("b-1", CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256), "/enrolment")
                            .post("{}", MediaTypeRegistry.APPLICATION_JSON)
                            .getCode())
                    .isEqualTo(CoAP.ResponseCode.CREATED);
        } finally {
            setSuites(before);
        }
    }

    private static List<String> setSuites(List<String> suites) {
        Response policy = as(Tokens.tenantAdmin(T)).get("/api/v1/tenants/" + T + "/policy");
        Map<String, Object> doc = policy.jsonPath().getMap("");
        List<String> before = policy.jsonPath().getList("tlsCipherSuites", String.class);
        doc.put("tlsCipherSuites", suites);
        as(Tokens.tenantAdmin(T))
                .header("If-Match", policy.header("ETag"))
                .body(doc)
                .put("/api/v1/tenants/" + T + "/policy")
                .then()
                .statusCode(200);
        return before;
    }
}
