package io.m2mtrust.esprim;

import static io.m2mtrust.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;

import io.m2mtrust.testsupport.IndependentEsprim;
import io.m2mtrust.testsupport.MafDevices;
import io.m2mtrust.testsupport.MiniCse;
import io.m2mtrust.testsupport.OpenSsl;
import io.m2mtrust.testsupport.Tokens;
import io.m2mtrust.tls.DeviceTlsListener;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import org.jose4j.jwe.JsonWebEncryption;
import org.jose4j.keys.AesKey;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * The MAF as source of the pairwiseESPrimKey (TS-0003 §8.4.2 A, SUID 33): an enrolled device registers a
 * key at the MAF (OpenSSL, KmID/Km) naming the CSE behind the proxy as target; the proxy takes the first half
 * of the Key Value as pairwise key, and the inner From must be the MAF client that registered it. The same for
 * a key an enrolee registers at the MEF with SUID 23 (TS-0003 §8.4.2 A, generic MEF key registration).
 */
@QuarkusTest
class EsprimMafKeyTest {

    static final String T = "esprim-maf-co";
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
    void a_maf_registered_suid_33_key_carries_an_esprim_exchange_and_binds_the_registering_client() throws Exception {
        if (cse == null) {
            cse = MiniCse.start("/id-in", "cse-in");
        }
        MafDevices fleet = MafDevices.create(T, listener.port(), List.of("meter"), doc -> {});
        MafDevices.Device meter = fleet.enrolAndRegister("meter");
        byte[] value = new byte[64];
        new SecureRandom().nextBytes(value);
        OpenSsl.Answer reg = fleet.maf(
                meter,
                "POST",
                "/keyRegistration",
                OpenSsl.keyRegistration(
                        "mafFqdn",
                        fleet.maf,
                        fleet.admin,
                        33,
                        List.of("/id-in"),
                        Base64.getEncoder().encodeToString(value),
                        Instant.now().plusSeconds(3600)));
        assertThat(reg.status()).as(reg.output()).isEqualTo(201);
        String kid = reg.json().getString("keyIdentifier");
        String client = meter.kpmId(); // the MAF Client ID is the enrolee's identity (interop profile)

        proxyFor(T);
        assertEsprimWorksWithTheFirstHalfAndBindsTheSource(T, client, kid, value, "oMaf1");
    }

    @Test
    void a_mef_registered_suid_23_key_carries_an_esprim_exchange_and_binds_the_registering_enrolee() throws Exception {
        if (cse == null) {
            cse = MiniCse.start("/id-in", "cse-in");
        }
        MafDevices fleet = MafDevices.create(T + "-mef", listener.port(), List.of("gw"), doc -> {});
        String enrolee = fleet.kpmIds.get("gw");
        byte[] kpm = fleet.kpms.get("gw");
        OpenSsl.Answer client = OpenSsl.pskCall(
                listener.port(),
                fleet.mef,
                enrolee,
                kpm,
                "POST",
                "/clientRegistration",
                "{\"mefFqdn\":\"" + fleet.mef + "\",\"expirationTime\":\""
                        + Instant.now().plusSeconds(86400) + "\",\"adminFqdn\":\"" + fleet.admin + "\"}");
        assertThat(client.status()).as(client.output()).isEqualTo(201);
        byte[] value = new byte[64];
        new SecureRandom().nextBytes(value);
        OpenSsl.Answer reg = OpenSsl.pskCall(
                listener.port(),
                fleet.mef,
                enrolee,
                kpm,
                "POST",
                "/keyRegistration",
                OpenSsl.keyRegistration(
                        "mefFqdn",
                        fleet.mef,
                        fleet.admin,
                        23,
                        List.of("/id-in"),
                        Base64.getEncoder().encodeToString(value),
                        Instant.now().plusSeconds(3600)));
        assertThat(reg.status()).as(reg.output()).isEqualTo(201);
        String kid = reg.json().getString("keyIdentifier");
        assertThat(kid).endsWith("@" + fleet.mef);

        proxyFor(fleet.tenant);
        assertEsprimWorksWithTheFirstHalfAndBindsTheSource(fleet.tenant, enrolee, kid, value, "oMef1");
    }

    private static void proxyFor(String tenant) {
        as(Tokens.tenantAdmin(tenant))
                .body(Map.of("cseUrl", cse.url(), "cseId", "/id-in", "cseBase", "cse-in"))
                .put("/api/v1/tenants/" + tenant + "/proxy")
                .then()
                .statusCode(200);
        as(Tokens.tenantAdmin(tenant))
                .body(Map.of("entityId", "/id-in", "resourcePath", "cse-in"))
                .put("/api/v1/tenants/" + tenant + "/proxy/entities")
                .then()
                .statusCode(200);
    }

    /** The registered Key Value's first half is the pairwiseESPrimKey; an inner From other than the key's source is 4116. */
    @SuppressWarnings("unchecked")
    private static void assertEsprimWorksWithTheFirstHalfAndBindsTheSource(
            String tenant, String client, String kid, byte[] value, String ori) throws Exception {
        Response rand = RestAssured.given()
                .header("X-M2M-Origin", client)
                .header("X-M2M-RI", "r-1")
                .contentType("application/json")
                .body(Map.of("m2m:seci", Map.of("sit", 3)))
                .post("/onem2m/" + tenant + "/cse-in");
        Map<String, Object> rr = (Map<String, Object>)
                ((Map<String, Object>) rand.jsonPath().getMap("").get("m2m:seci")).get("ero");
        Map<String, Object> oro = IndependentEsprim.originatorRand(ori, (String) rr.get("esrx"));
        // pairwiseESPrimKey = the first half of the registered Key Value
        byte[] session = IndependentEsprim.sessionKey(
                Arrays.copyOf(value, 32), (String) rr.get("esrv"), (String) oro.get("esrv"));

        for (String[] c : new String[][] {{client, "2000"}, {"Csomeone", "4116"}}) {
            String epo = IndependentEsprim.esprimObject(
                    session,
                    kid,
                    ori,
                    (String) rr.get("esri"),
                    oro,
                    "{\"op\":2,\"to\":\"cse-in\",\"fr\":\"" + c[0] + "\",\"rqi\":\"q-" + c[1] + "\",\"rvi\":\"3\"}");
            Response r = RestAssured.given()
                    .header("X-M2M-Origin", client)
                    .header("X-M2M-RI", "o-" + c[1])
                    .contentType("application/json")
                    .body(Map.of("m2m:seci", Map.of("sit", 5, "epo", epo)))
                    .post("/onem2m/" + tenant + "/cse-in");
            assertThat(r.header("X-M2M-RSC")).as(c[0]).isEqualTo(c[1]);
            if (c[1].equals("2000")) {
                JsonWebEncryption answer = new JsonWebEncryption();
                answer.setCompactSerialization(
                        (String) ((Map<String, Object>) r.jsonPath().getMap("").get("m2m:seci")).get("epo"));
                answer.setKey(new AesKey(session));
                assertThat(answer.getPlaintextString()).contains("\"rsc\":2000").contains("m2m:cb");
            }
        }
    }
}
