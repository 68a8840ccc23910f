package io.m2mtrust.proxy;

import static io.m2mtrust.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.m2mtrust.testsupport.AcmeCse;
import io.m2mtrust.testsupport.Api;
import io.m2mtrust.testsupport.MiniCse;
import io.m2mtrust.testsupport.ProxyFixtures;
import io.m2mtrust.testsupport.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.elements.config.UdpConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import java.util.Map;

/**
 * The proxy's CoAP binding in every role (TS-0008, issue 20), over real UDP: a legacy AE speaks plain oneM2M over CoAP
 * to the originator role ({@code /onem2m-out/…}); that proxy sends ESPrim over CoAP to the receiver role of a second
 * tenant's proxy, which reaches the ACME CSE over ACME's own CoAP binding (no HTTP anywhere on the path); and two
 * operators' proxies establish a key with ESCertKE over CoAP before the first ESPrim primitive. A CoAP CSE that does
 * not answer is a oneM2M 4008, not a hang.
 */
@QuarkusTest
class ProxyCoapBothWaysTest {

    static final ObjectMapper JSON = new ObjectMapper();

    // ESPrim: originator O → receiver R → ACME over CoAP
    static final String O = "coap-orig-co";
    static final String R = "coap-recv-co";
    static final String KID = "pair-or@keys.coap-both.example";
    static final String LEGACY = "Ccoaplegacy";

    // ESCertKE: initiator A → terminator B (its CSE a MiniCse over HTTP)
    static final String A = "coap-ke-a";
    static final String B = "coap-ke-b";
    static final String SP_A = "a.coap-ke.example";
    static final String SP_B = "b.coap-ke.example";

    static AcmeCse acme;
    static MiniCse cseB;
    static CoapEndpoint endpoint;

    @Inject
    ProxyCoapBinding binding;

    @BeforeEach
    void proxies() throws Exception {
        if (acme != null) {
            return;
        }
        acme = AcmeCse.start(Path.of("target/acmecse-coap-both"), true);
        CoapConfig.register();
        UdpConfig.register();
        endpoint = new CoapEndpoint.Builder()
                .setConfiguration(Configuration.createStandardWithoutFile())
                .setOptionRegistry(ProxyCoapBinding.registry())
                .build();

        byte[] pairwise = new byte[32];
        new SecureRandom().nextBytes(pairwise);
        for (String t : List.of(O, R)) {
            Api.createTenant(t);
            ProxyFixtures.pairwiseKey(t, KID, List.of(LEGACY, AcmeCse.CSE_ID), pairwise);
        }
        // R protects ACME, which it reaches over ACME's CoAP binding
        ProxyFixtures.proxy(R, acme.coapUrl(), AcmeCse.CSE_ID, AcmeCse.CSE_BASE, null, 5000);
        as(Tokens.tenantAdmin(R))
                .body(Map.of("entityId", AcmeCse.CSE_ID, "resourcePath", AcmeCse.CSE_BASE, "esprimRequired", true))
                .put("/api/v1/tenants/" + R + "/proxy/entities")
                .then()
                .statusCode(200);
        // O's own CSE is not used; its remote is R's proxy over CoAP
        ProxyFixtures.proxy(O, "http://127.0.0.1:1", "/id-o", "cse-o", null, 5000);
        ProxyFixtures.remote(O, "r-cse", AcmeCse.CSE_ID, coap("/onem2m/" + R + "/" + AcmeCse.CSE_BASE), KID);

        cseB = MiniCse.start("/id-b", "cse-b");
        for (String[] t : List.of(new String[] {A, SP_A, "/id-a", "cse-a"}, new String[] {B, SP_B, "/id-b", "cse-b"})) {
            Api.createTenant(t[0]);
            as(Tokens.tenantAdmin(t[0]))
                    .post("/api/v1/tenants/" + t[0] + "/ca")
                    .then()
                    .statusCode(201);
            ProxyFixtures.proxy(
                    t[0], t[0].equals(B) ? cseB.url() : "http://127.0.0.1:1", t[2], t[3], "//" + t[1], 5000);
        }
        as(Tokens.tenantAdmin(B))
                .body(Map.of("entityId", "/id-b", "resourcePath", "cse-b", "esprimRequired", true))
                .put("/api/v1/tenants/" + B + "/proxy/entities")
                .then()
                .statusCode(200);
        as(Tokens.tenantAdmin(B))
                .body(Map.of("id", "cse-b", "subjectType", "CSE_ID", "subjectId", "id-b." + SP_B))
                .post("/api/v1/tenants/" + B + "/endpoints")
                .then()
                .statusCode(201);
        as(Tokens.tenantAdmin(A))
                .body(Map.of(
                        "id", "legacy", "subjectType", "AE_ID", "subjectId", "https://" + SP_A + "/id-a/" + LEGACY))
                .post("/api/v1/tenants/" + A + "/endpoints")
                .then()
                .statusCode(201);
        ProxyFixtures.trustCaOf(A, B);
        ProxyFixtures.trustCaOf(B, A);
        ProxyFixtures.remote(A, "b-cse", "//" + SP_B + "/id-b", coap("/onem2m/" + B + "/cse-b"), null);
    }

    @AfterAll
    static void stop() {
        if (acme != null) {
            acme.close();
        }
        if (cseB != null) {
            cseB.close();
        }
        if (endpoint != null) {
            endpoint.destroy();
        }
    }

    // ---------------------------------------------------------------- the tests

    @Test
    void a_legacy_ae_on_coap_reaches_acme_on_coap_through_esprim_between_two_proxies_on_coap() throws Exception {
        String ae = "Ccoapboth" + System.nanoTime() % 100000;
        CoapResponse created = send(request(
                CoAP.Code.POST,
                "/onem2m-out/" + O + "/r-cse/cse-in",
                "create-1",
                2,
                Map.of("m2m:ae", Map.of("rn", ae, "api", "Nlegacy", "rr", false, "srv", List.of("3")))));
        assertThat(created.getCode()).as(created.getResponseText()).isEqualTo(CoAP.ResponseCode.CREATED);
        assertThat(rsc(created)).isEqualTo(2001);
        assertThat(rqi(created)).isEqualTo("create-1");
        assertThat(JsonPath.from(created.getResponseText()).getString("'m2m:ae'.api"))
                .isEqualTo("Nlegacy");

        CoapResponse got =
                send(request(CoAP.Code.GET, "/onem2m-out/" + O + "/r-cse/cse-in/" + ae, "get-1", null, null));
        assertThat(got.getCode()).as(got.getResponseText()).isEqualTo(CoAP.ResponseCode.CONTENT);
        assertThat(rsc(got)).isEqualTo(2000);
        assertThat(JsonPath.from(got.getResponseText()).getString("'m2m:ae'.rn"))
                .isEqualTo(ae);

        // ACME itself holds it (read over its HTTP binding, past the proxies)
        HttpResponse<String> direct = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create(acme.url() + "/cse-in/" + ae))
                                .header("X-M2M-Origin", "CAdmin")
                                .header("X-M2M-RI", "check")
                                .header("X-M2M-RVI", "3")
                                .header("Accept", "application/json")
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(direct.statusCode()).as(direct.body()).isEqualTo(200);

        // R requires ESPrim: the same retrieve sent plain over CoAP is refused
        CoapResponse plain = send(request(CoAP.Code.GET, "/onem2m/" + R + "/cse-in/" + ae, "get-2", null, null));
        assertThat(rsc(plain)).isEqualTo(4107);
    }

    @Test
    void two_operators_establish_a_key_with_escertke_over_coap_then_talk_esprim_under_it() throws Exception {
        CoapResponse created = send(request(
                CoAP.Code.POST,
                "/onem2m-out/" + A + "/b-cse/cse-b",
                "ke-create-1",
                2,
                Map.of("m2m:ae", Map.of("rn", LEGACY, "api", "Nlegacy", "rr", false, "srv", List.of("3")))));
        assertThat(created.getCode()).as(created.getResponseText()).isEqualTo(CoAP.ResponseCode.CREATED);
        assertThat(rsc(created)).isEqualTo(2001);
        MiniCse.Seen seen = cseB.seen().get(cseB.seen().size() - 1);
        assertThat(seen.origin()).isEqualTo("//" + SP_A + "/id-a/" + LEGACY);
        assertThat(seen.requestId()).isEqualTo("ke-create-1");

        List<Map<String, Object>> keysA = as(Tokens.auditor(A))
                .get("/api/v1/tenants/" + A + "/escertke/keys")
                .jsonPath()
                .getList("");
        List<Map<String, Object>> keysB = as(Tokens.auditor(B))
                .get("/api/v1/tenants/" + B + "/escertke/keys")
                .jsonPath()
                .getList("");
        assertThat(keysA).hasSize(1);
        assertThat(keysA.get(0)).containsEntry("role", "INITIATOR");
        assertThat(keysB).hasSize(1);
        assertThat(keysB.get(0))
                .containsEntry("role", "TERMINATOR")
                .containsEntry("keyId", keysA.get(0).get("keyId"));

        CoapResponse got =
                send(request(CoAP.Code.GET, "/onem2m-out/" + A + "/b-cse/cse-b/" + LEGACY, "ke-get-1", null, null));
        assertThat(rsc(got)).as(got.getResponseText()).isEqualTo(2000);
        assertThat(as(Tokens.auditor(A))
                        .get("/api/v1/tenants/" + A + "/escertke/keys")
                        .jsonPath()
                        .getList(""))
                .as("the second primitive reuses the key")
                .hasSize(1);
    }

    @Test
    void a_coap_cse_that_does_not_answer_is_a_request_timeout() throws Exception {
        String t = "coap-silent-co";
        Api.createTenant(t);
        int silent;
        try (java.net.DatagramSocket s = new java.net.DatagramSocket(0)) {
            silent = s.getLocalPort(); // bound now, so nothing answers while this test runs
            ProxyFixtures.proxy(t, "coap://127.0.0.1:" + silent, "/id-s", "cse-s", null, 1000);
            long t0 = System.nanoTime();
            io.restassured.response.Response r = RestAssured.given()
                    .header("X-M2M-Origin", "Csilent")
                    .header("X-M2M-RI", "silent-1")
                    .header("X-M2M-RVI", "3")
                    .get("/onem2m/" + t + "/cse-s");
            assertThat(r.header("X-M2M-RSC")).as(r.asString()).isEqualTo("4008");
            assertThat(r.header("X-M2M-RI")).isEqualTo("silent-1");
            assertThat(System.nanoTime() - t0).as("answered, not hung").isLessThan(30_000_000_000L);
        }
        // a URL of another scheme is refused at configuration
        as(Tokens.tenantAdmin(t))
                .body(Map.of("cseUrl", "coaps+ws://127.0.0.1:1", "cseId", "/id-s", "cseBase", "cse-s"))
                .put("/api/v1/tenants/" + t + "/proxy")
                .then()
                .statusCode(400);
    }

    // ---------------------------------------------------------------- helpers

    String coap(String path) {
        return "coap://127.0.0.1:" + binding.port() + path;
    }

    /** A primitive of the legacy AE over CoAP: From, Request Identifier, release version (and TY) as options. */
    Request request(CoAP.Code code, String path, String ri, Integer ty, Object body) throws Exception {
        return OneM2mCoap.primitive(code, coap(path), LEGACY, ri, ty, body);
    }

    static CoapResponse send(Request r) throws Exception {
        CoapClient client = new CoapClient();
        client.setEndpoint(endpoint);
        client.setTimeout(30_000L);
        CoapResponse response = client.advanced(r);
        assertThat(response).as("a CoAP answer to " + r.getURI()).isNotNull();
        return response;
    }

    static long rsc(CoapResponse r) {
        return OneM2mCoap.rsc(r);
    }

    static String rqi(CoapResponse r) {
        return OneM2mCoap.rqi(r);
    }
}
