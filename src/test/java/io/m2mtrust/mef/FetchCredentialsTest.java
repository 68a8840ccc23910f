package io.m2mtrust.mef;

import static io.m2mtrust.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;

import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.testsupport.Api;
import io.m2mtrust.testsupport.OpenSslClient;
import io.m2mtrust.testsupport.PostgresResource;
import io.m2mtrust.testsupport.Tokens;
import io.m2mtrust.tls.DeviceTlsListener;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.Statement;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * fetchCredentials (TS-0003 §8.3.2.1 f) end to end with real OpenSSL clients: an enrolee enrols, a CSE
 * registered as Enrolment Target fetches the §10.3.7 key, which equals what the enrolee derives from
 * the Ke that OpenSSL exported.
 */
@QuarkusTest
class FetchCredentialsTest {

    static final String T = "fetch-co";
    static final String MEF = "mef." + T + ".m2m-trust.local";
    static final String G = "/api/v1/tenants/" + T + "/enrolment-groups";
    static final String CIPHER = "PSK-AES128-CBC-SHA256";
    static final String CSE_FQDN = "cse-in.example.com";

    @Inject
    DeviceTlsListener listener;

    static String cseKpmId;
    static byte[] cseKpm;
    static String enroleeKpmId;
    static byte[] enroleeKpm;
    static String keId;
    static byte[] enroleeKe;

    @BeforeEach
    void enrolAndRegisterTarget() throws Exception {
        if (keId != null) {
            return;
        }
        Api.createTenant(T);
        Response policy = as(Tokens.tenantAdmin(T)).get("/api/v1/tenants/" + T + "/policy");
        Map<String, Object> doc = policy.jsonPath().getMap("");
        doc.put("allowHostMemoryKeys", true);
        as(Tokens.tenantAdmin(T))
                .header("If-Match", policy.header("ETag"))
                .body(doc)
                .put("/api/v1/tenants/" + T + "/policy")
                .then()
                .statusCode(200);
        as(Tokens.tenantAdmin(T))
                .body(Map.of("id", "fleet", "name", "fleet"))
                .post(G)
                .then()
                .statusCode(201);
        as(Tokens.tenantAdmin(T))
                .body(Map.of("deviceIds", List.of("enrolee-1", "cse-in")))
                .post(G + "/fleet/devices")
                .then()
                .statusCode(200);
        JsonPath e = as(Tokens.tenantAdmin(T))
                .post(G + "/fleet/devices/enrolee-1/kpm-export")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        enroleeKpmId = e.getString("kpmId");
        enroleeKpm = Base64.getDecoder().decode(e.getString("kpm"));
        JsonPath c = as(Tokens.tenantAdmin(T))
                .post(G + "/fleet/devices/cse-in/kpm-export")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        cseKpmId = c.getString("kpmId");
        cseKpm = Base64.getDecoder().decode(c.getString("kpm"));

        OpenSslClient.Result r = OpenSslClient.pskRequest(
                listener.port(),
                MEF,
                enroleeKpmId,
                enroleeKpm,
                CIPHER,
                "EXPORTER-oneM2M-Bootstrap",
                OpenSslClient.post(MEF, "/enrolment", "{}"));
        assertThat(r.httpStatus()).as(r.output()).isEqualTo(201);
        keId = JsonPath.from(r.httpBody()).getString("keId");
        enroleeKe = Arrays.copyOfRange(r.keyingMaterial(), 16, 48);

        as(Tokens.tenantAdmin(T))
                .body(Map.of("targetFqdn", CSE_FQDN, "allowedSuids", List.of(22)))
                .put("/api/v1/tenants/" + T + "/enrolment-targets/{identity}", cseKpmId)
                .then()
                .statusCode(200);
    }

    OpenSslClient.Result fetchAs(String kpmId, byte[] kpm, String keIdPath, String suid) throws Exception {
        return OpenSslClient.pskRequest(
                listener.port(),
                MEF,
                kpmId,
                kpm,
                CIPHER,
                null,
                OpenSslClient.get(MEF, "/fetchCredentials/" + keIdPath + "/" + suid));
    }

    @Test
    void registered_target_fetches_the_usage_constrained_key_the_enrolee_derives_from_its_own_ke() throws Exception {
        OpenSslClient.Result r = fetchAs(cseKpmId, cseKpm, keId, "22");
        assertThat(r.httpStatus()).as(r.output()).isEqualTo(200);
        JsonPath j = JsonPath.from(r.httpBody());
        assertThat(j.getBoolean("status")).isTrue();
        assertThat(j.getString("enroleeId")).isEqualTo(enroleeKpmId);
        assertThat(j.getString("lifetime")).isNotBlank();
        byte[] credential = Base64.getDecoder().decode(j.getString("credential"));
        try (SecretBytes ke = SecretBytes.copyOf(enroleeKe);
                SecretBytes expected = EnrolmentKdf.usageConstrained(ke, 22, CSE_FQDN)) {
            assertThat(HexFormat.of().formatHex(credential))
                    .isEqualTo(HexFormat.of().formatHex(expected.copy()));
        }
        // the @ of the KeID may also arrive percent-encoded
        assertThat(fetchAs(cseKpmId, cseKpm, keId.replace("@", "%40"), "22").httpStatus())
                .isEqualTo(200);
    }

    @Test
    void a_suid_outside_the_targets_rule_or_outside_2x_is_refused() throws Exception {
        OpenSslClient.Result other = fetchAs(cseKpmId, cseKpm, keId, "23");
        assertThat(other.httpStatus()).isEqualTo(403);
        assertThat(JsonPath.from(other.httpBody()).getBoolean("status")).isFalse();
        assertThat(fetchAs(cseKpmId, cseKpm, keId, "12").httpStatus()).isEqualTo(400);
        assertThat(fetchAs(cseKpmId, cseKpm, keId, "2x").httpStatus()).isEqualTo(400);
    }

    @Test
    void an_authenticated_peer_that_is_not_a_registered_target_is_refused() throws Exception {
        OpenSslClient.Result r = fetchAs(enroleeKpmId, enroleeKpm, keId, "22");
        assertThat(r.httpStatus()).isEqualTo(403);
        assertThat(r.httpBody()).doesNotContain("credential");
    }

    @Test
    void unknown_malformed_and_expired_keids_are_refused() throws Exception {
        assertThat(fetchAs(cseKpmId, cseKpm, "00112233445566778899aabbccddeeff@" + MEF, "22")
                        .httpStatus())
                .isEqualTo(404);
        assertThat(fetchAs(cseKpmId, cseKpm, "not-a-keid", "22").httpStatus()).isEqualTo(400);
        // an enrolment that expired
        OpenSslClient.Result again = OpenSslClient.pskRequest(
                listener.port(), MEF, cseKpmId, cseKpm, CIPHER, null, OpenSslClient.post(MEF, "/enrolment", "{}"));
        String cseKeId = JsonPath.from(again.httpBody()).getString("keId");
        sql("update enrolment set expires_at = now() - interval '1 second' where ke_id = '" + cseKeId + "'");
        assertThat(fetchAs(cseKpmId, cseKpm, cseKeId, "22").httpStatus()).isEqualTo(410);
    }

    @Test
    void every_fetch_and_refusal_is_audited() {
        List<String> actions = as(Tokens.auditor(T))
                .get("/api/v1/tenants/" + T + "/audit?limit=1000")
                .jsonPath()
                .getList("action");
        assertThat(actions).contains("target.put");
        Response audit = as(Tokens.auditor(T)).get("/api/v1/tenants/" + T + "/audit?limit=1000");
        assertThat(audit.jsonPath().getString("")).doesNotContain(HexFormat.of().formatHex(enroleeKe));
        assertThat(as(Tokens.auditor(T))
                        .get("/api/v1/tenants/" + T + "/audit/verify")
                        .jsonPath()
                        .getBoolean("intact"))
                .isTrue();
    }

    private static void sql(String s) throws Exception {
        try (Connection c = PostgresResource.postgres()
                        .getDatabase("postgres", "m2mtrust")
                        .getConnection();
                Statement st = c.createStatement()) {
            st.execute(s);
        }
    }
}
