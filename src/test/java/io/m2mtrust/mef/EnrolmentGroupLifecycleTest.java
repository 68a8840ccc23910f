package io.m2mtrust.mef;

import static io.m2mtrust.testsupport.Api.as;
import static io.m2mtrust.testsupport.Api.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import io.m2mtrust.hsm.HsmKeyLabel;
import io.m2mtrust.hsm.Pkcs11Token;
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

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** Group-key epochs, ranges, deny-list, concurrent and malformed enrolments, Ke expiry — with real OpenSSL clients. */
@QuarkusTest
class EnrolmentGroupLifecycleTest {

    static final String T = "rspf-groups";
    static final String MEF = "mef." + T + ".m2m-trust.local";
    static final String G = "/api/v1/tenants/" + T + "/enrolment-groups";
    static final String CIPHER = "PSK-AES128-CBC-SHA256";

    @Inject
    DeviceTlsListener listener;

    @Inject
    Pkcs11Token token;

    @Inject
    EnrolmentService enrolments;

    @BeforeEach
    void tenantWithHostMemoryExport() {
        if (as(Tokens.platformAdmin()).get("/api/v1/tenants/" + T).statusCode() == 200) {
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
    }

    record Provisioned(String kpmId, byte[] kpm) {}

    static Provisioned export(String group, String device) {
        JsonPath j = as(Tokens.tenantAdmin(T))
                .post(G + "/" + group + "/devices/" + device + "/kpm-export")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        return new Provisioned(j.getString("kpmId"), Base64.getDecoder().decode(j.getString("kpm")));
    }

    OpenSslClient.Result enrol(Provisioned p) throws Exception {
        return OpenSslClient.pskRequest(
                listener.port(),
                MEF,
                p.kpmId(),
                p.kpm(),
                CIPHER,
                "EXPORTER-oneM2M-Bootstrap",
                OpenSslClient.post(MEF, "/enrolment", "{}"));
    }

    @Test
    void rotation_issues_new_epoch_kpmids_old_ones_work_until_retired_and_hsm_objects_stay_per_epoch()
            throws Exception {
        as(Tokens.tenantAdmin(T))
                .body(Map.of("id", "rot", "name", "rotating"))
                .post(G)
                .then()
                .statusCode(201);
        as(Tokens.tenantAdmin(T))
                .body(Map.of("deviceIds", List.of("dev-a")))
                .post(G + "/rot/devices")
                .then()
                .statusCode(200);
        Provisioned e1 = export("rot", "dev-a");
        assertThat(e1.kpmId()).startsWith("dev-a~1@rot.");

        as(Tokens.tenantAdmin(T)).post(G + "/rot/rotate").then().statusCode(200);
        assertProblem(as(Tokens.tenantAdmin(T)).post(G + "/rot/keys/2/retire"), 409, "conflict");
        Provisioned e2 = export("rot", "dev-a");
        assertThat(e2.kpmId()).startsWith("dev-a~2@rot.");
        assertThat(e2.kpm()).isNotEqualTo(e1.kpm());
        assertThat(enrol(e1).httpStatus()).isEqualTo(201);
        assertThat(enrol(e2).httpStatus()).isEqualTo(201);

        as(Tokens.tenantAdmin(T)).post(G + "/rot/keys/1/retire").then().statusCode(200);
        assertThat(enrol(e1).output()).containsIgnoringCase("alert unknown psk identity");
        assertThat(enrol(e2).httpStatus()).isEqualTo(201);
        assertThat(token.labels(T))
                .extracting(HsmKeyLabel::value)
                .contains("m2m/" + T + "/group/rot/v2")
                .doesNotContain("m2m/" + T + "/group/rot/v1");
    }

    @Test
    void devices_of_a_range_enrol_without_rows_and_a_denied_one_does_not() throws Exception {
        as(Tokens.tenantAdmin(T))
                .body(Map.of("id", "fleet", "name", "fleet"))
                .post(G)
                .then()
                .statusCode(201);
        as(Tokens.tenantAdmin(T))
                .body(Map.of("prefix", "sensor-", "width", 7, "first", 0, "last", 999_999))
                .post(G + "/fleet/ranges")
                .then()
                .statusCode(201);
        assertThat(rows("select count(*) from enrolment_device where tenant_id = '" + T + "' and group_id = 'fleet'"))
                .isZero();
        Provisioned s42 = export("fleet", "sensor-0000042");
        assertThat(enrol(s42).httpStatus()).isEqualTo(201);
        as(Tokens.tenantAdmin(T))
                .post(G + "/fleet/devices/sensor-0000042/deny")
                .then()
                .statusCode(204);
        assertThat(enrol(s42).output()).containsIgnoringCase("alert unknown psk identity");
        // outside the range, or not of its shape
        assertProblem(as(Tokens.tenantAdmin(T)).post(G + "/fleet/devices/sensor-1000000/kpm-export"), 404, "not-found");
        assertProblem(as(Tokens.tenantAdmin(T)).post(G + "/fleet/devices/sensor-42/kpm-export"), 404, "not-found");
        assertThat(rows("select count(*) from enrolment_device where tenant_id = '" + T + "' and group_id = 'fleet'"))
                .isEqualTo(1);
    }

    @Test
    void concurrent_enrolments_of_one_device_leave_one_active_enrolment_and_no_duplicates() throws Exception {
        as(Tokens.tenantAdmin(T))
                .body(Map.of("id", "race", "name", "race"))
                .post(G)
                .then()
                .statusCode(201);
        as(Tokens.tenantAdmin(T))
                .body(Map.of("deviceIds", List.of("racer")))
                .post(G + "/race/devices")
                .then()
                .statusCode(200);
        Provisioned p = export("race", "racer");
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Integer> statuses = new ArrayList<>();
        try {
            List<Future<OpenSslClient.Result>> fs = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                fs.add(pool.submit(() -> enrol(p)));
            }
            for (Future<OpenSslClient.Result> f : fs) {
                statuses.add(f.get().httpStatus());
            }
        } finally {
            pool.shutdown();
        }
        // each answer is 201 or 409 (whether any overlap produces a 409 depends on timing); at least one succeeds
        assertThat(statuses).allMatch(s -> s != null && (s == 201 || s == 409)).contains(201);
        long created = statuses.stream().filter(s -> s == 201).count();
        String enrolee = "'" + p.kpmId() + "'";
        assertThat(rows("select count(*) from enrolment where enrolee_id = " + enrolee + " and status = 'ACTIVE'"))
                .isEqualTo(1);
        assertThat(rows("select count(*) from enrolment where enrolee_id = " + enrolee))
                .isEqualTo(created);
    }

    @Test
    void garbage_and_truncated_tls_records_close_the_connection_and_write_nothing() throws Exception {
        long before = rows("select count(*) from enrolment");
        byte[] garbage = new byte[512];
        new SecureRandom().nextBytes(garbage);
        garbage[0] = 0x16; // looks like a handshake record, then nonsense
        assertThat(sendRaw(garbage))
                .as("alert record or plain close")
                .satisfiesAnyOf(
                        b -> assertThat(b).isEmpty(), b -> assertThat(b[0]).isEqualTo((byte) 0x15));
        byte[] truncated = {0x16, 0x03, 0x03, 0x00, 0x40, 0x01, 0x00};
        assertThat(sendRaw(truncated)).isEmpty(); // waits for the rest, then the handshake deadline closes it
        assertThat(rows("select count(*) from enrolment")).isEqualTo(before);
    }

    @Test
    void an_expired_ke_is_no_longer_usable() throws Exception {
        as(Tokens.tenantAdmin(T))
                .body(Map.of("id", "expiry", "name", "expiry"))
                .post(G)
                .then()
                .statusCode(201);
        as(Tokens.tenantAdmin(T))
                .body(Map.of("deviceIds", List.of("old-timer")))
                .post(G + "/expiry/devices")
                .then()
                .statusCode(200);
        OpenSslClient.Result r = enrol(export("expiry", "old-timer"));
        String keId = JsonPath.from(r.httpBody()).getString("keId");
        assertThat(enrolments.liveKe(T, keId)).isPresent();
        rows("update enrolment set expires_at = now() - interval '1 second' where ke_id = '" + keId + "'");
        assertThat(enrolments.liveKe(T, keId)).isEmpty();
    }

    @Test
    void a_retired_or_unknown_epoch_and_a_deleted_group_do_not_enrol() throws Exception {
        as(Tokens.tenantAdmin(T))
                .body(Map.of("id", "gone", "name", "gone"))
                .post(G)
                .then()
                .statusCode(201);
        as(Tokens.tenantAdmin(T))
                .body(Map.of("deviceIds", List.of("ghost")))
                .post(G + "/gone/devices")
                .then()
                .statusCode(200);
        Provisioned p = export("gone", "ghost");
        OpenSslClient.Result future = OpenSslClient.pskRequest(
                listener.port(),
                MEF,
                p.kpmId().replace("~1@", "~7@"),
                p.kpm(),
                CIPHER,
                null,
                OpenSslClient.post(MEF, "/enrolment", "{}"));
        assertThat(future.output()).containsIgnoringCase("alert unknown psk identity");
        as(Tokens.tenantAdmin(T)).delete(G + "/gone").then().statusCode(204);
        assertThat(enrol(p).output()).containsIgnoringCase("alert unknown psk identity");
        assertThat(token.labels(T)).extracting(HsmKeyLabel::value).noneMatch(l -> l.contains("/group/gone/"));
        assertProblem(as(Tokens.tenantAdmin(T)).get(G + "/gone"), 410, "gone");
    }

    private byte[] sendRaw(byte[] bytes) throws Exception {
        try (Socket s = new Socket("127.0.0.1", listener.port())) {
            s.setSoTimeout(20_000);
            OutputStream out = s.getOutputStream();
            out.write(bytes);
            out.flush();
            InputStream in = s.getInputStream();
            return in.readAllBytes();
        }
    }

    private static long rows(String sql) throws Exception {
        try (Connection c = PostgresResource.postgres()
                        .getDatabase("postgres", "m2mtrust")
                        .getConnection();
                Statement st = c.createStatement()) {
            if (sql.startsWith("update")) {
                return st.executeUpdate(sql);
            }
            try (ResultSet rs = st.executeQuery(sql)) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }
}
