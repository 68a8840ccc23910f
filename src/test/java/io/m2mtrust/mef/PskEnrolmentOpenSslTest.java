package io.m2mtrust.mef;

import static io.m2mtrust.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;

import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.testsupport.Api;
import io.m2mtrust.testsupport.OpenSslClient;
import io.m2mtrust.testsupport.Tokens;
import io.m2mtrust.tls.DeviceTlsListener;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * PPSK RSPF against a real OpenSSL client: the Kpm exported for factory provisioning is the PSK,
 * OpenSSL exports EXPORTER-oneM2M-Bootstrap itself, and the KeID and Ke the MEF stored match.
 */
@QuarkusTest
class PskEnrolmentOpenSslTest {

    static final String T = "rspf-co";
    static final String MEF = "mef.rspf-co.m2m-trust.local";

    @Inject
    DeviceTlsListener listener;

    @Inject
    EnrolmentService enrolments;

    static String kpmId;
    static byte[] kpm;

    @BeforeEach
    void provisionOneDevice() {
        if (kpm != null) {
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
                .body(Map.of("id", "meters", "name", "Smart meters"))
                .post("/api/v1/tenants/" + T + "/enrolment-groups")
                .then()
                .statusCode(201);
        as(Tokens.tenantAdmin(T))
                .body(Map.of("deviceIds", List.of("meter-1", "meter-2")))
                .post("/api/v1/tenants/" + T + "/enrolment-groups/meters/devices")
                .then()
                .statusCode(200);
        JsonPath export = as(Tokens.tenantAdmin(T))
                .post("/api/v1/tenants/" + T + "/enrolment-groups/meters/devices/meter-1/kpm-export")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        kpmId = export.getString("kpmId");
        kpm = Base64.getDecoder().decode(export.getString("kpm"));
    }

    @Test
    void openssl_enrols_with_the_exported_kpm_and_both_sides_hold_the_same_ke() throws Exception {
        assertThat(kpmId).isEqualTo("meter-1~1@meters." + MEF);
        OpenSslClient.Result r = OpenSslClient.pskRequest(
                listener.port(),
                MEF,
                kpmId,
                kpm,
                "PSK-AES128-CBC-SHA256",
                "EXPORTER-oneM2M-Bootstrap",
                OpenSslClient.post(MEF, "/enrolment", "{\"mafEnrolmentIndication\":true}"));
        assertThat(r.httpStatus()).as(r.output()).isEqualTo(201);
        byte[] exported = r.keyingMaterial();
        assertThat(exported).as(r.output()).hasSize(48);

        JsonPath body = JsonPath.from(r.httpBody());
        String keId = body.getString("keId");
        assertThat(keId).isEqualTo(HexFormat.of().formatHex(exported, 0, 16) + "@" + MEF);
        assertThat(body.getString("instructions.mafEnrolment.mafKeyRegistrationUri"))
                .startsWith("https://maf.rspf-co.");

        // compare by deriving Km both ways: from OpenSSL's Ke, and from the Ke the MEF sealed in PostgreSQL
        try (SecretBytes opensslKe = SecretBytes.copyOf(Arrays.copyOfRange(exported, 16, 48));
                SecretBytes mefKe = enrolments.liveKe(T, keId).orElseThrow()) {
            assertThat(EnrolmentKdf.km(mefKe, "maf.example.com")
                            .equalsSecret(EnrolmentKdf.km(opensslKe, "maf.example.com")))
                    .isTrue();
        }
        List<String> actions = as(Tokens.auditor(T))
                .get("/api/v1/tenants/" + T + "/audit?limit=1000")
                .jsonPath()
                .getList("action");
        assertThat(actions).contains("device.kpm.export", "enrolment.create");
    }

    @Test
    void a_suspension_refuses_the_very_next_handshake_and_a_policy_change_applies_to_the_next_one() throws Exception {
        // the tenant status and the policy are cached for the handshake path: a change here must reach the next one
        assertThat(enrolWith("PSK-AES128-CBC-SHA256").httpStatus()).isEqualTo(201);
        setStatus("SUSPENDED");
        try {
            OpenSslClient.Result refused = enrolWith("PSK-AES128-CBC-SHA256");
            assertThat(refused.httpStatus()).isNull();
            assertThat(refused.output()).containsIgnoringCase("alert");
        } finally {
            setStatus("ACTIVE");
        }
        assertThat(enrolWith("PSK-AES128-CBC-SHA256").httpStatus()).isEqualTo(201);

        Response policy = as(Tokens.tenantAdmin(T)).get("/api/v1/tenants/" + T + "/policy");
        Map<String, Object> doc = policy.jsonPath().getMap("");
        List<String> before = policy.jsonPath().getList("tlsCipherSuites", String.class);
        // the mandatory PSK suite off (the certificate one keeps the policy valid): the next PSK-CBC handshake fails
        doc.put(
                "tlsCipherSuites",
                List.of("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "TLS_PSK_WITH_AES_128_GCM_SHA256"));
        String etag = as(Tokens.tenantAdmin(T))
                .header("If-Match", policy.header("ETag"))
                .body(doc)
                .put("/api/v1/tenants/" + T + "/policy")
                .then()
                .statusCode(200)
                .extract()
                .header("ETag");
        try {
            assertThat(enrolWith("PSK-AES128-CBC-SHA256").httpStatus()).isNull();
            assertThat(enrolWith("PSK-AES128-GCM-SHA256").httpStatus()).isEqualTo(201);
        } finally {
            doc.put("tlsCipherSuites", before);
            as(Tokens.tenantAdmin(T))
                    .header("If-Match", etag)
                    .body(doc)
                    .put("/api/v1/tenants/" + T + "/policy")
                    .then()
                    .statusCode(200);
        }
    }

    private static OpenSslClient.Result enrolWith(String cipher) throws Exception {
        return OpenSslClient.pskRequest(
                io.quarkus.arc.Arc.container()
                        .instance(DeviceTlsListener.class)
                        .get()
                        .port(),
                MEF,
                kpmId,
                kpm,
                cipher,
                null,
                OpenSslClient.post(MEF, "/enrolment", "{}"));
    }

    private static void setStatus(String status) {
        Response t = as(Tokens.platformAdmin()).get("/api/v1/tenants/" + T);
        as(Tokens.platformAdmin())
                .header("If-Match", t.header("ETag"))
                .body(Map.of("name", t.jsonPath().getString("name"), "status", status))
                .put("/api/v1/tenants/" + T)
                .then()
                .statusCode(200);
    }

    @Test
    void unknown_kpm_identity_gets_an_alert_and_writes_nothing() throws Exception {
        long before = enrolmentCount();
        OpenSslClient.Result r = OpenSslClient.pskRequest(
                listener.port(),
                MEF,
                "meter-9~1@meters." + MEF,
                kpm,
                "PSK-AES128-CBC-SHA256",
                null,
                OpenSslClient.post(MEF, "/enrolment", "{}"));
        assertThat(r.output()).containsIgnoringCase("alert unknown psk identity");
        assertThat(r.httpStatus()).isNull();
        assertThat(enrolmentCount()).isEqualTo(before);
    }

    @Test
    void wrong_psk_for_a_known_identity_fails_the_handshake() throws Exception {
        byte[] wrong = kpm.clone();
        wrong[0] ^= 1;
        OpenSslClient.Result r = OpenSslClient.pskRequest(
                listener.port(),
                MEF,
                kpmId,
                wrong,
                "PSK-AES128-CBC-SHA256",
                null,
                OpenSslClient.post(MEF, "/enrolment", "{}"));
        assertThat(r.output()).containsIgnoringCase("alert");
        assertThat(r.httpStatus()).isNull();
    }

    @Test
    void missing_or_unknown_sni_is_unrecognized_name() throws Exception {
        OpenSslClient.Result none =
                OpenSslClient.pskRequest(listener.port(), null, kpmId, kpm, "PSK-AES128-CBC-SHA256", null, null);
        assertThat(none.output()).containsIgnoringCase("unrecognized name");
        OpenSslClient.Result other = OpenSslClient.pskRequest(
                listener.port(), "mef.nobody-here.m2m-trust.local", kpmId, kpm, "PSK-AES128-CBC-SHA256", null, null);
        assertThat(other.output()).containsIgnoringCase("unrecognized name");
    }

    @Test
    void denied_device_cannot_enrol_and_re_allowed_device_can() throws Exception {
        as(Tokens.tenantAdmin(T))
                .post("/api/v1/tenants/" + T + "/enrolment-groups/meters/devices/meter-1/deny")
                .then()
                .statusCode(204);
        try {
            OpenSslClient.Result r = OpenSslClient.pskRequest(
                    listener.port(),
                    MEF,
                    kpmId,
                    kpm,
                    "PSK-AES128-CBC-SHA256",
                    null,
                    OpenSslClient.post(MEF, "/enrolment", "{}"));
            assertThat(r.output()).containsIgnoringCase("alert unknown psk identity");
        } finally {
            as(Tokens.tenantAdmin(T))
                    .post("/api/v1/tenants/" + T + "/enrolment-groups/meters/devices/meter-1/allow")
                    .then()
                    .statusCode(204);
        }
        OpenSslClient.Result ok = OpenSslClient.pskRequest(
                listener.port(),
                MEF,
                kpmId,
                kpm,
                "PSK-AES128-CBC-SHA256",
                null,
                OpenSslClient.post(MEF, "/enrolment", "{}"));
        assertThat(ok.httpStatus()).as(ok.output()).isEqualTo(201);
    }

    @Test
    void malformed_json_inside_the_session_is_400() throws Exception {
        OpenSslClient.Result r = OpenSslClient.pskRequest(
                listener.port(),
                MEF,
                kpmId,
                kpm,
                "PSK-AES128-CBC-SHA256",
                null,
                OpenSslClient.post(MEF, "/enrolment", "{\"mafEnrolmentIndication\": tru"));
        assertThat(r.httpStatus()).as(r.output()).isEqualTo(400);
        OpenSslClient.Result unknown = OpenSslClient.pskRequest(
                listener.port(),
                MEF,
                kpmId,
                kpm,
                "PSK-AES128-CBC-SHA256",
                null,
                OpenSslClient.post(MEF, "/enrolment", "{\"becomeAdmin\": true}"));
        assertThat(unknown.httpStatus()).as(unknown.output()).isEqualTo(400);
    }

    @Test
    void an_individually_imported_kpm_enrols_and_is_stored_only_sealed() throws Exception {
        byte[] legacy = new byte[32];
        new java.security.SecureRandom().nextBytes(legacy);
        String id = "legacy-7@" + MEF;
        String path = "/api/v1/tenants/" + T + "/imported-kpms";
        as(Tokens.tenantAdmin(T))
                .body(Map.of("kpmId", id, "kpm", Base64.getEncoder().encodeToString(legacy)))
                .post(path)
                .then()
                .statusCode(201);
        Api.assertProblem(
                as(Tokens.tenantAdmin(T))
                        .body(Map.of("kpmId", id, "kpm", Base64.getEncoder().encodeToString(legacy)))
                        .post(path),
                409,
                "conflict");
        Api.assertProblem(
                as(Tokens.tenantAdmin(T))
                        .body(Map.of(
                                "kpmId",
                                "x~1@" + MEF,
                                "kpm",
                                Base64.getEncoder().encodeToString(legacy)))
                        .post(path),
                400,
                "validation");
        Api.assertProblem(
                as(Tokens.tenantAdmin(T))
                        .body(Map.of(
                                "kpmId",
                                "x@mef.other.m2m-trust.local",
                                "kpm",
                                Base64.getEncoder().encodeToString(legacy)))
                        .post(path),
                400,
                "validation");
        Api.assertProblem(
                as(Tokens.tenantAdmin(T))
                        .body(Map.of(
                                "kpmId",
                                "short@" + MEF,
                                "kpm",
                                Base64.getEncoder().encodeToString(new byte[8]) + "AAAAAAAAAAAA"))
                        .post(path),
                400,
                "validation");
        Api.assertProblem(
                as(Tokens.tenantAdmin(T))
                        .body(Map.of("kpmId", "bad@" + MEF, "kpm", "!!!not base64!!!!!!!!!!!!"))
                        .post(path),
                400,
                "validation");
        assertThat(as(Tokens.auditor(T)).get(path).asString())
                .contains(id)
                .doesNotContain(Base64.getEncoder().encodeToString(legacy));

        try (var c = io.m2mtrust.testsupport.PostgresResource.postgres()
                        .getDatabase("postgres", "m2mtrust")
                        .getConnection();
                var st = c.prepareStatement("select sealed_kpm from imported_kpm where kpm_id = ?")) {
            st.setString(1, id);
            var rs = st.executeQuery();
            assertThat(rs.next()).isTrue();
            assertThat(HexFormat.of().formatHex(rs.getBytes(1)))
                    .doesNotContain(HexFormat.of().formatHex(legacy));
        }
        OpenSslClient.Result r = OpenSslClient.pskRequest(
                listener.port(),
                MEF,
                id,
                legacy,
                "PSK-AES128-CBC-SHA256",
                null,
                OpenSslClient.post(MEF, "/enrolment", "{}"));
        assertThat(r.httpStatus()).as(r.output()).isEqualTo(201);
        as(Tokens.tenantAdmin(T)).delete(path + "/{id}", id).then().statusCode(204);
        OpenSslClient.Result gone = OpenSslClient.pskRequest(
                listener.port(),
                MEF,
                id,
                legacy,
                "PSK-AES128-CBC-SHA256",
                null,
                OpenSslClient.post(MEF, "/enrolment", "{}"));
        assertThat(gone.output()).containsIgnoringCase("alert unknown psk identity");
    }

    @Test
    void kpm_export_happens_once() {
        as(Tokens.tenantAdmin(T))
                .post("/api/v1/tenants/" + T + "/enrolment-groups/meters/devices/meter-1/kpm-export")
                .then()
                .statusCode(409);
    }

    private long enrolmentCount() {
        return as(Tokens.auditor(T))
                .get("/api/v1/tenants/" + T + "/audit?limit=1000")
                .jsonPath()
                .getList("action")
                .stream()
                .filter("enrolment.create"::equals)
                .count();
    }
}
