package io.m2mtrust.esprim;

import static io.m2mtrust.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;

import io.m2mtrust.testsupport.IndependentEsprim;
import io.m2mtrust.testsupport.MafDevices;
import io.m2mtrust.testsupport.MiniCse;
import io.m2mtrust.testsupport.OpenSslClient;
import io.m2mtrust.testsupport.Tokens;
import io.m2mtrust.tls.DeviceTlsListener;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * An RSPF-provisioned pairwiseESPrimKey (SUID 23): a device enrols at the MEF with OpenSSL and derives
 * §10.3.7 from its Ke with the CSE as Enrolment Target; the CSE behind the proxy is that target, so the proxy
 * uses the key {@code fetchCredentials/<KeID>/23} would give it ({@code kid} = {@code <KeID>/23}), bound to
 * the enrolee.
 */
@QuarkusTest
class EsprimRspfKeyTest {

    static final String T = "esprim-rspf-co";
    static final String MEF = "mef." + T + ".m2m-trust.local";
    static final String CSE_FQDN = "cse-in.esprim-rspf.example";
    static MiniCse cse;

    @Inject
    DeviceTlsListener listener;

    @AfterAll
    static void stop() {
        if (cse != null) {
            cse.close();
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void the_key_an_enrolee_derives_for_the_cse_carries_esprim_and_binds_the_enrolee() throws Exception {
        cse = MiniCse.start("/id-in", "cse-in");
        MafDevices fleet = MafDevices.create(T, listener.port(), List.of("meter-9"), doc -> {});
        String enrolee = fleet.kpmIds.get("meter-9");
        OpenSslClient.Result r = OpenSslClient.pskRequest(
                listener.port(),
                MEF,
                enrolee,
                fleet.kpms.get("meter-9"),
                "PSK-AES128-CBC-SHA256",
                "EXPORTER-oneM2M-Bootstrap",
                OpenSslClient.post(MEF, "/enrolment", "{}"));
        assertThat(r.httpStatus()).as(r.output()).isEqualTo(201);
        String keId = JsonPath.from(r.httpBody()).getString("keId");
        byte[] ke = Arrays.copyOfRange(r.keyingMaterial(), 16, 48);
        // the CSE behind the proxy is the Enrolment Target for SUID 23, under its FQDN
        as(Tokens.tenantAdmin(T))
                .body(Map.of("targetFqdn", CSE_FQDN, "allowedSuids", List.of(23)))
                .put("/api/v1/tenants/" + T + "/enrolment-targets/{identity}", CSE_FQDN)
                .then()
                .statusCode(200);
        as(Tokens.tenantAdmin(T))
                .body(Map.of("cseUrl", cse.url(), "cseId", "/id-in", "cseBase", "cse-in"))
                .put("/api/v1/tenants/" + T + "/proxy")
                .then()
                .statusCode(200);
        // the protected entity is named by the identity it has as Enrolment Target: the CSE's FQDN (TS-0003 §10.3.7)
        as(Tokens.tenantAdmin(T))
                .body(Map.of("entityId", CSE_FQDN, "resourcePath", "cse-in"))
                .put("/api/v1/tenants/" + T + "/proxy/entities")
                .then()
                .statusCode(200);

        // §10.3.7 on the enrolee's side with plain javax.crypto: HMAC-SHA256(Ke, label || "23" || target FQDN)
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(ke, "HmacSHA256"));
        ByteArrayOutputStream in = new ByteArrayOutputStream();
        in.writeBytes("oneM2M Enrolment Key to Usage-Constrained Symmetric Key derivation"
                .getBytes(StandardCharsets.US_ASCII));
        in.writeBytes("23".getBytes(StandardCharsets.US_ASCII));
        in.writeBytes(CSE_FQDN.getBytes(StandardCharsets.UTF_8));
        byte[] pairwise = mac.doFinal(in.toByteArray());

        Response rand = RestAssured.given()
                .header("X-M2M-Origin", enrolee)
                .header("X-M2M-RI", "r-1")
                .contentType("application/json")
                .body(Map.of("m2m:seci", Map.of("sit", 3)))
                .post("/onem2m/" + T + "/cse-in");
        Map<String, Object> rr = (Map<String, Object>)
                ((Map<String, Object>) rand.jsonPath().getMap("").get("m2m:seci")).get("ero");
        Map<String, Object> oro = IndependentEsprim.originatorRand("oRspf", (String) rr.get("esrx"));
        byte[] session = IndependentEsprim.sessionKey(pairwise, (String) rr.get("esrv"), (String) oro.get("esrv"));
        for (String[] c : new String[][] {{enrolee, "2000"}, {"Cintruder", "4116"}}) {
            String epo = IndependentEsprim.esprimObject(
                    session,
                    keId + "/23",
                    "oRspf",
                    (String) rr.get("esri"),
                    oro,
                    "{\"op\":2,\"to\":\"cse-in\",\"fr\":\"" + c[0] + "\",\"rqi\":\"q-" + c[1] + "\",\"rvi\":\"3\"}");
            Response answer = RestAssured.given()
                    .header("X-M2M-Origin", enrolee)
                    .header("X-M2M-RI", "o-" + c[1])
                    .contentType("application/json")
                    .body(Map.of("m2m:seci", Map.of("sit", 5, "epo", epo)))
                    .post("/onem2m/" + T + "/cse-in");
            assertThat(answer.header("X-M2M-RSC")).as(c[0]).isEqualTo(c[1]);
        }
        // the target's rule no longer lists 23: the key is gone for ESPrim (4112)
        as(Tokens.tenantAdmin(T))
                .body(Map.of("targetFqdn", CSE_FQDN, "allowedSuids", List.of(22)))
                .put("/api/v1/tenants/" + T + "/enrolment-targets/{identity}", CSE_FQDN)
                .then()
                .statusCode(200);
        Map<String, Object> oro2 = IndependentEsprim.originatorRand("oRspf2", (String) rr.get("esrx"));
        String epo2 = IndependentEsprim.esprimObject(
                IndependentEsprim.sessionKey(pairwise, (String) rr.get("esrv"), (String) oro2.get("esrv")),
                keId + "/23",
                "oRspf2",
                (String) rr.get("esri"),
                oro2,
                "{\"op\":2,\"to\":\"cse-in\",\"fr\":\"" + enrolee + "\",\"rqi\":\"q-3\",\"rvi\":\"3\"}");
        Response gone = RestAssured.given()
                .header("X-M2M-Origin", enrolee)
                .header("X-M2M-RI", "o-3")
                .contentType("application/json")
                .body(Map.of("m2m:seci", Map.of("sit", 5, "epo", epo2)))
                .post("/onem2m/" + T + "/cse-in");
        assertThat(gone.header("X-M2M-RSC")).isEqualTo("4112");
    }
}
