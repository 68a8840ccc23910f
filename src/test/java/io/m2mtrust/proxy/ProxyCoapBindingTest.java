package io.m2mtrust.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.m2mtrust.testsupport.AcmeCse;
import io.m2mtrust.testsupport.Api;
import io.m2mtrust.testsupport.IndependentEsprim;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.elements.config.UdpConfig;
import org.jose4j.jwe.JsonWebEncryption;
import org.jose4j.keys.AesKey;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The proxy's oneM2M CoAP binding (TS-0008) in front of the ACME CSE, which the proxy reaches over HTTP (binding
 * translation): libcoap's {@code coap-client} sends a Retrieve with oneM2M options and decodes the answer; a Californium
 * client (which knows TS-0008's options) creates
 * and reads resources; an independent ESPrim originator (plain javax.crypto and jose4j) registers and writes at ACME
 * through the receiver role over CoAP and opens the protected answers; malformed requests get clean CoAP errors.
 */
@QuarkusTest
class ProxyCoapBindingTest {

    static final String T = "coap-proxy-co";
    static final String KID = "pair-coap@keys.coap-proxy-co.example";
    static final String SENSOR = "Ccoapsensor";
    static final ObjectMapper JSON = new ObjectMapper();
    static final SecureRandom RANDOM = new SecureRandom();
    static final byte[] PAIRWISE = new byte[32];
    static AcmeCse acme;

    @Inject
    ProxyCoapBinding binding;

    static CoapEndpoint endpoint;

    @BeforeEach
    void proxyInFrontOfAcme() throws Exception {
        if (acme != null) {
            return;
        }
        acme = AcmeCse.start(Path.of("target/acmecse-coap"));
        Api.createTenant(T);
        RANDOM.nextBytes(PAIRWISE);
        acme.putBehindProxy(T, KID, SENSOR, PAIRWISE);
        CoapConfig.register();
        UdpConfig.register();
        Configuration c = Configuration.createStandardWithoutFile();
        endpoint = new CoapEndpoint.Builder()
                .setConfiguration(c)
                .setOptionRegistry(ProxyCoapBinding.registry())
                .build();
    }

    @AfterAll
    static void stop() {
        if (acme != null) {
            acme.close();
        }
        if (endpoint != null) {
            endpoint.destroy();
        }
    }

    String uri(String path) {
        return "coap://127.0.0.1:" + binding.port() + "/onem2m/" + T + "/" + path;
    }

    /** A oneM2M request over CoAP: From, Request Identifier and release version as TS-0008 options. */
    Request request(CoAP.Code code, String origin, String path, Integer ty, Object body) throws Exception {
        return OneM2mCoap.primitive(code, uri(path), origin, "ri-" + System.nanoTime(), ty, body);
    }

    CoapResponse send(Request r) throws Exception {
        CoapClient client = new CoapClient();
        client.setEndpoint(endpoint);
        client.setTimeout(10_000L);
        return client.advanced(r);
    }

    static long rsc(CoapResponse r) {
        return OneM2mCoap.rsc(r);
    }

    @Test
    void libcoap_retrieves_the_cse_base_through_the_coap_binding_with_onem2m_options() throws Exception {
        List<String> cmd = new ArrayList<>(List.of(
                "coap-client-openssl",
                "-v",
                "7",
                "-B",
                "5",
                "-m",
                "get",
                "-O",
                "279,CAdmin",
                "-O",
                "283,libcoap-1",
                "-O",
                "271,3",
                "-A",
                "50",
                uri(AcmeCse.CSE_BASE)));
        Path out = Files.createTempFile("coap-client", ".out");
        Process p = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(out.toFile())
                .start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        String text = Files.readString(out);
        Files.deleteIfExists(out);
        // libcoap decodes the answer (its debug dump: an ACK 2.05 with our options and the CSEBase as payload) and
        // then refuses it, rightly (RFC 7252 §5.4.1): oneM2M-RSC (307) and oneM2M-RQI (283) are critical options
        // that a plain CoAP client does not know; a oneM2M client registers them
        assertThat(text).as(text).contains("c:2.05").contains("Content-Format:10001");
        assertThat(text).as("oneM2M-RSC 2000").contains("307:\\x07\\xD0");
        assertThat(text).as("oneM2M-RQI echoed").contains("283:\\x6C\\x69\\x62\\x63\\x6F\\x61\\x70\\x2D\\x31");
        assertThat(text).as("the CSEBase as payload").contains("7b226d326d3a6362223a"); // {"m2m:cb":
    }

    @Test
    void create_retrieve_and_not_found_carry_rsc_and_rqi_options_and_coap_codes() throws Exception {
        Request create = request(
                CoAP.Code.POST,
                "Ccoapplain",
                AcmeCse.CSE_BASE,
                2,
                Map.of("m2m:ae", Map.of("rn", "Ccoapplain", "api", "Ncoap", "rr", false, "srv", List.of("3"))));
        CoapResponse made = send(create);
        assertThat(made.getCode()).as(made.getResponseText()).isEqualTo(CoAP.ResponseCode.CREATED);
        assertThat(rsc(made)).isEqualTo(2001);
        assertThat(made.getOptions().getOthers(ProxyCoapBinding.RQI).get(0).getStringValue())
                .isEqualTo(create.getOptions()
                        .getOthers(ProxyCoapBinding.RQI)
                        .get(0)
                        .getStringValue());
        CoapResponse got = send(request(CoAP.Code.GET, "Ccoapplain", AcmeCse.CSE_BASE + "/Ccoapplain", null, null));
        assertThat(got.getCode()).isEqualTo(CoAP.ResponseCode.CONTENT);
        assertThat(rsc(got)).isEqualTo(2000);
        assertThat(got.getOptions().getContentFormat()).isEqualTo(ProxyCoapBinding.RES_JSON);
        assertThat(JsonPath.from(got.getResponseText()).getString("'m2m:ae'.aei"))
                .isEqualTo("Ccoapplain");
        // CBOR asked for: the same resource in CBOR
        Request cbor = request(CoAP.Code.GET, "Ccoapplain", AcmeCse.CSE_BASE + "/Ccoapplain", null, null);
        cbor.getOptions().setAccept(ProxyCoapBinding.RES_CBOR);
        CoapResponse inCbor = send(cbor);
        assertThat(inCbor.getOptions().getContentFormat()).isEqualTo(ProxyCoapBinding.RES_CBOR);
        assertThat(new ObjectMapper(new com.fasterxml.jackson.dataformat.cbor.CBORFactory())
                        .readTree(inCbor.getPayload())
                        .at("/m2m:ae/aei")
                        .asText())
                .isEqualTo("Ccoapplain");
        CoapResponse missing = send(request(CoAP.Code.GET, "Ccoapplain", AcmeCse.CSE_BASE + "/nothing", null, null));
        assertThat(missing.getCode()).isEqualTo(CoAP.ResponseCode.NOT_FOUND);
        assertThat(rsc(missing)).isEqualTo(4004);
        CoapResponse deleted =
                send(request(CoAP.Code.DELETE, "Ccoapplain", AcmeCse.CSE_BASE + "/Ccoapplain", null, null));
        assertThat(deleted.getCode()).isEqualTo(CoAP.ResponseCode.DELETED);
        assertThat(rsc(deleted)).isEqualTo(2002);
    }

    @Test
    @SuppressWarnings("unchecked")
    void an_independent_esprim_originator_registers_and_writes_at_acme_over_coap() throws Exception {
        CoapResponse randAnswer =
                send(request(CoAP.Code.POST, SENSOR, AcmeCse.CSE_BASE, null, Map.of("m2m:seci", Map.of("sit", 3))));
        assertThat(randAnswer.getCode()).as(randAnswer.getResponseText()).isEqualTo(CoAP.ResponseCode.CHANGED);
        Map<String, Object> rr = (Map<String, Object>) ((Map<String, Object>)
                        JSON.readValue(randAnswer.getPayload(), Map.class).get("m2m:seci"))
                .get("ero");
        Map<String, Object> oro =
                IndependentEsprim.originatorRand("o" + Long.toHexString(RANDOM.nextLong()), (String) rr.get("esrx"));
        byte[] session = IndependentEsprim.sessionKey(PAIRWISE, (String) rr.get("esrv"), (String) oro.get("esrv"));

        Map<String, Object> registered = exchange(
                session,
                rr,
                oro,
                inner(
                        1,
                        AcmeCse.CSE_BASE,
                        2,
                        Map.of("m2m:ae", Map.of("rn", SENSOR, "api", "Ncoap", "rr", false, "srv", List.of("3")))));
        assertThat(registered.get("rsc")).as(registered.toString()).isEqualTo(2001);
        Map<String, Object> cnt = exchange(
                session, rr, oro, inner(1, AcmeCse.CSE_BASE + "/" + SENSOR, 3, Map.of("m2m:cnt", Map.of("rn", "t"))));
        assertThat(cnt.get("rsc")).as(cnt.toString()).isEqualTo(2001);
        Map<String, Object> got =
                exchange(session, rr, oro, inner(2, AcmeCse.CSE_BASE + "/" + SENSOR + "/t", null, null));
        assertThat(got.get("rsc")).isEqualTo(2000);

        // a replayed protected request is refused by the receiver (the same ESPrim object twice)
        String epo = IndependentEsprim.esprimObject(
                session,
                KID,
                (String) oro.get("esri"),
                (String) rr.get("esri"),
                oro,
                JSON.writeValueAsString(inner(2, AcmeCse.CSE_BASE, null, null)));
        CoapResponse first = send(request(
                CoAP.Code.POST, SENSOR, AcmeCse.CSE_BASE, null, Map.of("m2m:seci", Map.of("sit", 5, "epo", epo))));
        assertThat(first.getCode()).isEqualTo(CoAP.ResponseCode.CHANGED);
        CoapResponse replay = send(request(
                CoAP.Code.POST, SENSOR, AcmeCse.CSE_BASE, null, Map.of("m2m:seci", Map.of("sit", 5, "epo", epo))));
        assertThat(replay.getCode().isSuccess()).as(replay.getResponseText()).isFalse();
    }

    static Map<String, Object> inner(int op, String to, Integer ty, Object pc) {
        return IndependentEsprim.primitive(op, to, SENSOR, "in-" + System.nanoTime(), ty, pc);
    }

    @SuppressWarnings("unchecked")
    Map<String, Object> exchange(
            byte[] session, Map<String, Object> rr, Map<String, Object> oro, Map<String, Object> in) throws Exception {
        String epo = IndependentEsprim.esprimObject(
                session, KID, (String) oro.get("esri"), (String) rr.get("esri"), oro, JSON.writeValueAsString(in));
        CoapResponse r = send(request(
                CoAP.Code.POST, SENSOR, AcmeCse.CSE_BASE, null, Map.of("m2m:seci", Map.of("sit", 5, "epo", epo))));
        assertThat(r.getCode()).as(r.getResponseText()).isEqualTo(CoAP.ResponseCode.CHANGED);
        Map<String, Object> seci =
                (Map<String, Object>) JSON.readValue(r.getPayload(), Map.class).get("m2m:seci");
        assertThat(seci.get("sit")).isEqualTo(5);
        JsonWebEncryption jwe = new JsonWebEncryption();
        jwe.setCompactSerialization((String) seci.get("epo"));
        assertThat(jwe.getHeader("ori")).isEqualTo(oro.get("esri"));
        jwe.setKey(new AesKey(session));
        return JSON.readValue(jwe.getPlaintextString(), Map.class);
    }

    @Test
    void malformed_requests_get_clean_coap_errors() throws Exception {
        Request fetch = request(CoAP.Code.FETCH, "Cx", AcmeCse.CSE_BASE, null, null);
        assertThat(send(fetch).getCode()).isEqualTo(CoAP.ResponseCode.METHOD_NOT_ALLOWED);
        Request xml = request(CoAP.Code.POST, "Cx", AcmeCse.CSE_BASE, 2, null);
        xml.setPayload("<m2m:ae/>");
        xml.getOptions().setContentFormat(MediaTypeRegistry.APPLICATION_XML);
        assertThat(send(xml).getCode()).isEqualTo(CoAP.ResponseCode.UNSUPPORTED_CONTENT_FORMAT);
        Request elsewhere = new Request(CoAP.Code.GET);
        elsewhere.setURI("coap://127.0.0.1:" + binding.port() + "/somewhere/else");
        assertThat(send(elsewhere).getCode()).isEqualTo(CoAP.ResponseCode.NOT_FOUND);
        Request twice = request(CoAP.Code.GET, "Cx", AcmeCse.CSE_BASE, null, null);
        twice.getOptions().addOption(new Option(ProxyCoapBinding.FR, "Cy"));
        assertThat(send(twice).getCode()).isEqualTo(CoAP.ResponseCode.BAD_OPTION);
        Request badCbor = request(CoAP.Code.POST, "Cx", AcmeCse.CSE_BASE, 2, null);
        badCbor.setPayload(new byte[] {(byte) 0xbf, 0x61, 0x61});
        badCbor.getOptions().setContentFormat(ProxyCoapBinding.RES_CBOR);
        assertThat(send(badCbor).getCode()).isEqualTo(CoAP.ResponseCode.BAD_REQUEST);
        // finding 2 of docs/fuzzing.md: a Block1 payload larger than the block size it announces made Californium's
        // parser throw out of the endpoint's receive path; now it is a format error, answered 4.00 like the others
        java.util.Map<Integer, java.util.List<byte[]>> o = new java.util.TreeMap<>();
        o.put(
                io.m2mtrust.testsupport.CoapWire.URI_PATH,
                java.util.List.of("onem2m".getBytes(), T.getBytes(), AcmeCse.CSE_BASE.getBytes()));
        o.put(io.m2mtrust.testsupport.CoapWire.CONTENT_FORMAT, java.util.List.of(new byte[] {50}));
        o.put(
                io.m2mtrust.testsupport.CoapWire.BLOCK1,
                java.util.List.of(io.m2mtrust.testsupport.CoapWire.block(0, true, 1)));
        byte[] token = {1, 2, 3, 4};
        byte[] oversized = io.m2mtrust.testsupport.CoapWire.request(
                2, token, io.m2mtrust.testsupport.CoapWire.nextMessageId(), o, new byte[46]); // 46 > 32
        try (java.net.DatagramSocket udp = new java.net.DatagramSocket()) {
            udp.setSoTimeout(5000);
            java.net.InetSocketAddress to = new java.net.InetSocketAddress("127.0.0.1", binding.port());
            udp.send(new java.net.DatagramPacket(oversized, oversized.length, to));
            byte[] buf = new byte[2048];
            java.net.DatagramPacket answer = new java.net.DatagramPacket(buf, buf.length);
            udp.receive(answer);
            assertThat(buf[1]).as("4.00 Bad Request").isEqualTo((byte) 0x80);
        }
        // and it still serves
        assertThat(send(request(CoAP.Code.GET, "CAdmin", AcmeCse.CSE_BASE, null, null))
                        .getCode())
                .isEqualTo(CoAP.ResponseCode.CONTENT);
    }
}
