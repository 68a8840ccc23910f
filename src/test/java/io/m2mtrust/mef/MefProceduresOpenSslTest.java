package io.m2mtrust.mef;

import static io.m2mtrust.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;

import io.m2mtrust.testsupport.Api;
import io.m2mtrust.testsupport.OpenSsl;
import io.m2mtrust.testsupport.OpenSsl.Answer;
import io.m2mtrust.testsupport.Tokens;
import io.m2mtrust.tls.DeviceTlsListener;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * The generic MEF procedures (TS-0003 §8.3.5.2) and client commands (§8.3.9) with real OpenSSL clients
 * as MEF Clients: registration, configuration, update, de-registration; key registration from the
 * session exporter (compared with what OpenSSL exported) and with a supplied Key Value; retrieval only by
 * named targets and for the registered SUID; update/de-registration only by the source; CERT_PROV.
 */
@QuarkusTest
class MefProceduresOpenSslTest {

    static final String T = "mefproc-co";
    static final String MEF = "mef.mefproc-co.m2m-trust.local";
    static final String ADMIN = "admin.mefproc-co.example";

    @Inject
    DeviceTlsListener listener;

    @Inject
    io.m2mtrust.registration.RegistrationProcedures procedures;

    static final Map<String, String> kpmIds = new HashMap<>();
    static final Map<String, byte[]> kpms = new HashMap<>();

    @BeforeEach
    void setUp() {
        if (!kpms.isEmpty()) {
            return;
        }
        Api.createTenant(T);
        Response policy = as(Tokens.tenantAdmin(T)).get("/api/v1/tenants/" + T + "/policy");
        Map<String, Object> doc = policy.jsonPath().getMap("");
        doc.put("allowHostMemoryKeys", true);
        doc.put("maxEsdataTargets", 3);
        as(Tokens.tenantAdmin(T))
                .header("If-Match", policy.header("ETag"))
                .body(doc)
                .put("/api/v1/tenants/" + T + "/policy")
                .then()
                .statusCode(200);
        as(Tokens.tenantAdmin(T))
                .body(Map.of("id", "dev", "name", "devices"))
                .post("/api/v1/tenants/" + T + "/enrolment-groups")
                .then()
                .statusCode(201);
        as(Tokens.tenantAdmin(T))
                .body(Map.of("deviceIds", List.of("d-1", "d-2", "d-3", "d-4", "d-5", "d-6")))
                .post("/api/v1/tenants/" + T + "/enrolment-groups/dev/devices")
                .then()
                .statusCode(200);
        as(Tokens.tenantAdmin(T))
                .body(Map.of(
                        "subjectType", "AE_ID", "subjectTemplate", "https://in.mefproc-co.example/cse-in/C{device}"))
                .put("/api/v1/tenants/" + T + "/enrolment-groups/dev/certificate-profile")
                .then()
                .statusCode(200);
        for (String d : List.of("d-1", "d-2", "d-3", "d-4", "d-5", "d-6")) {
            JsonPath e = as(Tokens.tenantAdmin(T))
                    .post("/api/v1/tenants/" + T + "/enrolment-groups/dev/devices/" + d + "/kpm-export")
                    .then()
                    .statusCode(200)
                    .extract()
                    .jsonPath();
            kpmIds.put(d, e.getString("kpmId"));
            kpms.put(d, Base64.getDecoder().decode(e.getString("kpm")));
        }
    }

    private Answer call(String device, String method, String path, String json) throws Exception {
        return OpenSsl.pskCall(listener.port(), MEF, kpmIds.get(device), kpms.get(device), method, path, json);
    }

    private String register(String device) throws Exception {
        Answer a = call(
                device,
                "POST",
                "/clientRegistration",
                "{\"mefFqdn\":\"" + MEF + "\",\"expirationTime\":\""
                        + Instant.now().plusSeconds(86400) + "\",\"labels\":[\"site-7\"],\"adminFqdn\":\"" + ADMIN
                        + "\"}");
        assertThat(a.status()).as(a.output()).isEqualTo(201);
        assertThat(a.json().getString("mefClientId")).isEqualTo(kpmIds.get(device));
        return a.json().getString("mefClientRegId");
    }

    private String keyRequest(int suid, List<String> targets, String keyValue, Instant expires) {
        return OpenSsl.keyRegistration("mefFqdn", MEF, ADMIN, suid, targets, keyValue, expires);
    }

    @Test
    void client_registration_life_cycle() throws Exception {
        String reg = register("d-1");
        Answer cfg = call("d-1", "GET", "/clientRegistration/" + reg, null);
        assertThat(cfg.status()).isEqualTo(200);
        assertThat(cfg.json().getString("mefClientCfg.fqdn")).isEqualTo(MEF);
        assertThat(cfg.json().getString("mefClientCfg.adminFqdn")).isEqualTo(ADMIN);

        // another client cannot see or change it
        assertThat(call("d-2", "GET", "/clientRegistration/" + reg, null).status())
                .isEqualTo(404);
        assertThat(call("d-2", "DELETE", "/clientRegistration/" + reg, null).status())
                .isEqualTo(404);

        // update echoes only what was asked
        Answer upd = call("d-1", "PUT", "/clientRegistration/" + reg, "{\"labels\":[\"site-8\",\"floor-2\"]}");
        assertThat(upd.status()).isEqualTo(200);
        assertThat(upd.json().getList("labels")).containsExactly("site-8", "floor-2");
        assertThat(upd.json().getMap("")).doesNotContainKey("expirationTime");
        // an expiration far beyond policy is capped
        Answer far = call("d-1", "PUT", "/clientRegistration/" + reg, "{\"expirationTime\":\"2099-01-01T00:00:00Z\"}");
        assertThat(Instant.parse(far.json().getString("expirationTime")))
                .isBefore(Instant.parse("2099-01-01T00:00:00Z"));

        // bad input
        assertThat(call("d-1", "PUT", "/clientRegistration/" + reg, "{}").status())
                .isEqualTo(400);
        assertThat(call("d-1", "PUT", "/clientRegistration/" + reg, "{\"labels\":[\"has space\"]}")
                        .status())
                .isEqualTo(400);
        assertThat(call(
                                "d-1",
                                "POST",
                                "/clientRegistration",
                                "{\"mefFqdn\":\"mef.other.m2m-trust.local\",\"expirationTime\":\""
                                        + Instant.now().plusSeconds(60) + "\",\"adminFqdn\":\"" + ADMIN + "\"}")
                        .status())
                .isEqualTo(400);
        assertThat(call(
                                "d-1",
                                "POST",
                                "/clientRegistration",
                                "{\"mefFqdn\":\"" + MEF
                                        + "\",\"expirationTime\":\"2001-01-01T00:00:00Z\",\"adminFqdn\":\"" + ADMIN
                                        + "\"}")
                        .status())
                .isEqualTo(400);
        assertThat(call("d-1", "POST", "/clientRegistration", "{\"mefFqdn\":\"" + MEF + "\",\"bogus\":1}")
                        .status())
                .isEqualTo(400);
        assertThat(call("d-1", "POST", "/clientRegistration", "{not json").status())
                .isEqualTo(400);
        assertThat(call("d-1", "GET", "/clientRegistration/../../etc", null).status())
                .isIn(404, 405);

        // the admin API sees the registration; de-registration removes it
        assertThat(as(Tokens.auditor(T))
                        .get("/api/v1/tenants/" + T + "/mef-clients")
                        .asString())
                .contains(reg);
        assertThat(call("d-1", "DELETE", "/clientRegistration/" + reg, null).status())
                .isEqualTo(204);
        assertThat(call("d-1", "GET", "/clientRegistration/" + reg, null).status())
                .isEqualTo(404);
    }

    @Test
    void exporter_keyed_registration_is_retrieved_only_by_its_target_for_its_suid() throws Exception {
        register("d-1");
        register("d-2");
        // d-1 registers without a Key Value: both sides take EXPORTER-oneM2M-Connection of this session
        List<String> session = OpenSsl.withExport(
                OpenSsl.withPsk(OpenSsl.sClient(listener.port(), MEF), kpmIds.get("d-1"), kpms.get("d-1")),
                "EXPORTER-oneM2M-Connection",
                48);
        byte[] exported;
        Answer reg;
        try (OpenSsl.Session s = OpenSsl.start(session)) {
            exported = s.keyingMaterial();
            reg = OpenSsl.answer(s.send(OpenSsl.request(
                    "POST",
                    MEF,
                    "/keyRegistration",
                    "application/json",
                    keyRequest(
                                    23,
                                    List.of(kpmIds.get("d-2")),
                                    null,
                                    Instant.now().plusSeconds(3600))
                            .getBytes(StandardCharsets.UTF_8))));
        }
        assertThat(reg.status()).as(reg.output()).isEqualTo(201);
        String rel = reg.json().getString("relativeKeyId");
        assertThat(rel).isEqualTo(HexFormat.of().formatHex(exported, 0, 16));
        assertThat(reg.json().getString("keyIdentifier")).isEqualTo(rel + "@" + MEF);
        assertThat(reg.json().getString("sourceMefClientId")).isEqualTo(kpmIds.get("d-1"));
        assertThat(reg.body()).doesNotContain("keyValue");

        Answer got = call("d-2", "GET", "/keyRetrieval/" + rel, null);
        assertThat(got.status()).as(got.output()).isEqualTo(200);
        assertThat(Base64.getDecoder().decode(got.json().getString("keyValue")))
                .isEqualTo(Arrays.copyOfRange(exported, 16, 48));
        assertThat(got.json().getInt("suid")).isEqualTo(23);
        assertThat(call("d-2", "GET", "/keyRetrieval/" + rel + "?suid=23", null).status())
                .isEqualTo(200);

        // not a target, wrong SUID, malformed id, unknown id
        assertThat(call("d-3", "GET", "/keyRetrieval/" + rel, null).status()).isEqualTo(403);
        assertThat(call("d-2", "GET", "/keyRetrieval/" + rel + "?suid=24", null).status())
                .isEqualTo(403);
        assertThat(call("d-2", "GET", "/keyRetrieval/" + rel + "?x=1", null).status())
                .isEqualTo(400);
        assertThat(call("d-2", "GET", "/keyRetrieval/XYZ", null).status()).isEqualTo(400);
        assertThat(call("d-2", "GET", "/keyRetrieval/" + "0".repeat(32), null).status())
                .isEqualTo(404);

        // only the source updates (the answer echoes only what changed) and de-registers
        assertThat(call("d-2", "PUT", "/keyRegistration/" + rel, "{\"labels\":[\"x\"]}")
                        .status())
                .isEqualTo(404);
        Answer upd = call("d-1", "PUT", "/keyRegistration/" + rel, "{\"targetIds\":[\"" + kpmIds.get("d-3") + "\"]}");
        assertThat(upd.status()).isEqualTo(200);
        assertThat(upd.json().getMap("").keySet()).containsExactly("targetIds");
        assertThat(call("d-2", "GET", "/keyRetrieval/" + rel, null).status()).isEqualTo(403);
        assertThat(call("d-3", "GET", "/keyRetrieval/" + rel, null).status()).isEqualTo(200);
        assertThat(call("d-1", "PUT", "/keyRegistration/" + rel, "{\"targetIds\":[\"a\",\"b\"]}")
                        .status())
                .isEqualTo(400);
        assertThat(call("d-2", "DELETE", "/keyRegistration/" + rel, null).status())
                .isEqualTo(404);
        assertThat(call("d-1", "DELETE", "/keyRegistration/" + rel, null).status())
                .isEqualTo(204);
        assertThat(call("d-3", "GET", "/keyRetrieval/" + rel, null).status()).isEqualTo(404);

        List<String> actions = as(Tokens.auditor(T))
                .get("/api/v1/tenants/" + T + "/audit?limit=1000")
                .jsonPath()
                .getList("action");
        assertThat(actions).contains("mef.key.register", "mef.key.retrieve", "mef.key.update", "mef.key.deregister");
    }

    @Test
    void supplied_key_value_for_several_esdata_targets_and_bad_registrations() throws Exception {
        register("d-4");
        byte[] value = new byte[64];
        new java.security.SecureRandom().nextBytes(value);
        String b64 = Base64.getEncoder().encodeToString(value);
        Answer reg = call(
                "d-4",
                "POST",
                "/keyRegistration",
                keyRequest(
                        24,
                        List.of(kpmIds.get("d-2"), kpmIds.get("d-3")),
                        b64,
                        Instant.now().plusSeconds(3600)));
        assertThat(reg.status()).as(reg.output()).isEqualTo(201);
        String rel = reg.json().getString("relativeKeyId");
        assertThat(rel).matches("[0-9a-f]{32}");
        for (String target : List.of("d-2", "d-3")) {
            Answer got = call(target, "GET", "/keyRetrieval/" + rel, null);
            assertThat(got.status()).isEqualTo(200);
            assertThat(Base64.getDecoder().decode(got.json().getString("keyValue")))
                    .isEqualTo(value);
        }
        // the admin API lists it without its value
        String keys =
                as(Tokens.auditor(T)).get("/api/v1/tenants/" + T + "/mef-keys").asString();
        assertThat(keys).contains(rel).doesNotContain(b64).doesNotContain("keyValue");

        Instant later = Instant.now().plusSeconds(3600);
        List<String> one = List.of(kpmIds.get("d-2"));
        assertThat(call(
                                "d-4",
                                "POST",
                                "/keyRegistration",
                                keyRequest(24, one, Base64.getEncoder().encodeToString(new byte[16]), later))
                        .status())
                .as("16-byte key")
                .isEqualTo(400);
        assertThat(call("d-4", "POST", "/keyRegistration", keyRequest(24, one, "%%%", later))
                        .status())
                .as("not base64")
                .isEqualTo(400);
        assertThat(call("d-4", "POST", "/keyRegistration", keyRequest(21, one, b64, later))
                        .status())
                .as("SUID 21")
                .isEqualTo(400);
        assertThat(call("d-4", "POST", "/keyRegistration", keyRequest(23, List.of("a", "b"), b64, later))
                        .status())
                .as("two ESPrim targets")
                .isEqualTo(400);
        assertThat(call("d-4", "POST", "/keyRegistration", keyRequest(24, List.of("a", "b", "c", "d"), b64, later))
                        .status())
                .as("over policy")
                .isEqualTo(400);
        assertThat(call("d-4", "POST", "/keyRegistration", keyRequest(24, List.of(), b64, later))
                        .status())
                .as("no targets")
                .isEqualTo(400);
        assertThat(call(
                                "d-4",
                                "POST",
                                "/keyRegistration",
                                keyRequest(24, one, b64, Instant.parse("2001-01-01T00:00:00Z")))
                        .status())
                .isEqualTo(400);
        assertThat(call("d-6", "POST", "/keyRegistration", keyRequest(24, one, b64, later))
                        .status())
                .as("unregistered source")
                .isEqualTo(403);

        // an administrator revokes it
        as(Tokens.tenantAdmin(T))
                .delete("/api/v1/tenants/" + T + "/mef-keys/" + rel)
                .then()
                .statusCode(204);
        assertThat(call("d-2", "GET", "/keyRetrieval/" + rel, null).status()).isEqualTo(404);
    }

    @Test
    void expired_keys_are_refused_and_purged() throws Exception {
        register("d-5");
        Answer reg = call(
                "d-5",
                "POST",
                "/keyRegistration",
                keyRequest(
                        22,
                        List.of(kpmIds.get("d-2")),
                        Base64.getEncoder().encodeToString(new byte[32]),
                        Instant.now().plusSeconds(2)));
        assertThat(reg.status()).isEqualTo(201);
        String rel = reg.json().getString("relativeKeyId");
        Thread.sleep(3000);
        assertThat(call("d-2", "GET", "/keyRetrieval/" + rel, null).status()).isEqualTo(404);
        procedures.purgeExpired();
        assertThat(as(Tokens.auditor(T))
                        .get("/api/v1/tenants/" + T + "/mef-keys")
                        .asString())
                .doesNotContain(rel);
        assertThat(as(Tokens.auditor(T))
                        .get("/api/v1/tenants/" + T + "/audit?limit=1000")
                        .jsonPath()
                        .getList("action"))
                .contains("registrations.purge");
    }

    @Test
    void cert_prov_command_is_issued_reissued_reported_and_then_no_more_commands() throws Exception {
        String reg = register("d-3");
        Answer none = call("d-3", "GET", "/clientRegistration/" + reg + "/command", null);
        assertThat(none.status()).isEqualTo(200);
        assertThat(none.json().getInt("cmdDescription.cmdClassId")).isZero();

        as(Tokens.auditor(T))
                .body(Map.of("cmdClass", "CERT_PROV"))
                .post("/api/v1/tenants/" + T + "/mef-clients/" + reg + "/commands")
                .then()
                .statusCode(403);
        as(Tokens.tenantAdmin(T))
                .body(Map.of("cmdClass", "DEV_CFG"))
                .post("/api/v1/tenants/" + T + "/mef-clients/" + reg + "/commands")
                .then()
                .statusCode(400);
        as(Tokens.tenantAdmin(T))
                .body(Map.of("cmdClass", "CERT_PROV"))
                .post("/api/v1/tenants/" + T + "/mef-clients/" + reg + "/commands")
                .then()
                .statusCode(201);

        Answer issued = call("d-3", "GET", "/clientRegistration/" + reg + "/command", null);
        assertThat(issued.json().getString("cmdId")).isEqualTo("cmd-1");
        assertThat(issued.json().getInt("cmdStatusCode")).isEqualTo(10);
        assertThat(issued.json().getInt("cmdDescription.cmdClassId")).isEqualTo(1);
        assertThat(issued.json().getInt("cmdDescription.cmdArgs.certProvArgs.certProvProtocolId"))
                .isEqualTo(1);
        assertThat(issued.json().getString("cmdDescription.cmdArgs.certProvArgs.uri"))
                .isEqualTo("https://" + MEF + "/.well-known/est");
        assertThat(issued.json().getInt("cmdDescription.cmdArgs.certProvArgs.certSubjectType"))
                .isEqualTo(3);
        assertThat(issued.json().getString("cmdDescription.cmdArgs.certProvArgs.certSubjectId"))
                .isEqualTo("https://in.mefproc-co.example/cse-in/Cd-3");
        assertThat(call("d-3", "GET", "/clientRegistration/" + reg + "/command", null)
                        .json()
                        .getInt("cmdStatusCode"))
                .isEqualTo(11);

        // bad updates: not a client status code, malformed; a stale cmdId is discarded
        assertThat(call(
                                "d-3",
                                "PUT",
                                "/clientRegistration/" + reg + "/command",
                                "{\"cmdId\":\"cmd-1\",\"cmdStatusCode\":10}")
                        .status())
                .isEqualTo(400);
        assertThat(call("d-3", "PUT", "/clientRegistration/" + reg + "/command", "{\"cmdId\":\"cmd-1\"}")
                        .status())
                .isEqualTo(400);
        Answer stale = call(
                "d-3", "PUT", "/clientRegistration/" + reg + "/command", "{\"cmdId\":\"cmd-9\",\"cmdStatusCode\":20}");
        assertThat(stale.json().getString("cmdId")).isEqualTo("cmd-1");

        Answer done = call(
                "d-3", "PUT", "/clientRegistration/" + reg + "/command", "{\"cmdId\":\"cmd-1\",\"cmdStatusCode\":20}");
        assertThat(done.status()).isEqualTo(200);
        assertThat(done.json().getInt("cmdDescription.cmdClassId")).isZero();
        as(Tokens.auditor(T))
                .get("/api/v1/tenants/" + T + "/mef-clients/" + reg + "/commands")
                .then()
                .statusCode(200)
                .body("[0].state", org.hamcrest.Matchers.equalTo("DONE"))
                .body("[0].reportedCmdStatusCode", org.hamcrest.Matchers.equalTo(20));
        // another client cannot read this registration's commands
        assertThat(call("d-2", "GET", "/clientRegistration/" + reg + "/command", null)
                        .status())
                .isEqualTo(404);
    }
}
