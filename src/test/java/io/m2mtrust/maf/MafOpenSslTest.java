package io.m2mtrust.maf;

import static io.m2mtrust.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;

import io.m2mtrust.testsupport.MafDevices;
import io.m2mtrust.testsupport.MafDevices.Device;
import io.m2mtrust.testsupport.OpenSsl;
import io.m2mtrust.testsupport.OpenSsl.Answer;
import io.m2mtrust.testsupport.OpenSslClient;
import io.m2mtrust.testsupport.Tokens;
import io.m2mtrust.tls.DeviceTlsListener;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * The MAF with real OpenSSL clients, end to end: a device enrols at the MEF (PSK with its Kpm, exports
 * Ke), derives Km itself (TS-0003 §10.3.7, SUID 21, the MAF's FQDN — plain HMAC here, independent of the
 * service's code), registers at the MAF with its KeID and gets a KmID, then uses KmID/Km; it registers an
 * ESPrim key from the Connection exporter for a target, which retrieves the same bytes OpenSSL exported.
 */
@QuarkusTest
class MafOpenSslTest {

    static final String T = "maf-co";
    static final String MEF = "mef.maf-co.m2m-trust.local";
    static final String MAF = "maf.maf-co.m2m-trust.local";
    static final String ADMIN = "admin.maf-co.example";

    @Inject
    DeviceTlsListener listener;

    @Inject
    jakarta.persistence.EntityManager em;

    static MafDevices fleet;
    static Map<String, String> kpmIds;
    static Map<String, byte[]> kpms;

    @BeforeEach
    void setUp() {
        if (fleet != null) {
            return;
        }
        fleet = MafDevices.create(
                T,
                listener.port(),
                List.of("m-1", "m-2", "m-3", "m-4", "m-5", "m-6", "m-7"),
                doc -> doc.put("maxEsdataTargets", 2));
        kpmIds = fleet.kpmIds;
        kpms = fleet.kpms;
    }

    // ---------------------------------------------------------------- helpers

    private Answer request(String host, String identity, byte[] psk, String method, String path, String json)
            throws Exception {
        return OpenSsl.pskCall(listener.port(), host, identity, psk, method, path, json);
    }

    /**
     * Enrols at the MEF with OpenSSL, derives Km (plain HMAC in {@link MafDevices#km}), registers at the MAF with
     * the KeID: the device's MAF credentials, with every answer checked.
     */
    private Device enrolAndRegister(String device) throws Exception {
        MafDevices.Registered r = fleet.enrolAndRegisterAnswered(device);
        Answer enrolled = r.enrolment();
        assertThat(enrolled.status()).as(enrolled.output()).isEqualTo(201);
        assertThat(enrolled.json().getString("keId")).isEqualTo(r.device().keId());
        assertThat(r.device().keId()).matches("[0-9a-f]{32}@" + MEF.replace(".", "\\."));
        Answer reg = r.registration();
        assertThat(reg.status()).as(reg.output()).isEqualTo(201);
        assertThat(reg.json().getString("mafClientId")).isEqualTo(kpmIds.get(device));
        String kmId = reg.json().getString("assignedSymmKeyId");
        assertThat(kmId).matches("[0-9a-f]{32}@" + MAF.replace(".", "\\."));
        // the registration lasts no longer than the Km, which lasts no longer than the Ke (§10.7)
        assertThat(Instant.parse(reg.json().getString("expirationTime")))
                .isBefore(Instant.now().plusSeconds(86400 + 60));
        return r.device();
    }

    private String esprimKeyRequest(List<String> targets, String keyValue, int suid) {
        return OpenSsl.keyRegistration(
                "mafFqdn", MAF, ADMIN, suid, targets, keyValue, Instant.now().plusSeconds(3600));
    }

    // ---------------------------------------------------------------- the chain

    @Test
    void device_enrols_registers_with_its_kmid_and_a_target_retrieves_the_exported_esprim_key() throws Exception {
        Device source = enrolAndRegister("m-1");
        Device target = enrolAndRegister("m-2");

        // the MAF handshake with KmID/Km; a key registration without Key Value takes this session's exporter
        byte[] exported;
        Answer reg;
        try (OpenSsl.Session s = OpenSsl.start(OpenSsl.withExport(
                OpenSsl.withPsk(OpenSsl.sClient(listener.port(), MAF), source.kmId(), source.km()),
                "EXPORTER-oneM2M-Connection",
                48))) {
            exported = s.keyingMaterial();
            reg = OpenSsl.answer(s.send(OpenSsl.request(
                    "POST",
                    MAF,
                    "/keyRegistration",
                    "application/json",
                    esprimKeyRequest(List.of(target.kpmId()), null, 33).getBytes(StandardCharsets.UTF_8))));
        }
        assertThat(reg.status()).as(reg.output()).isEqualTo(201);
        String rel = reg.json().getString("relativeKeyId");
        assertThat(rel).isEqualTo(HexFormat.of().formatHex(exported, 0, 16));
        assertThat(reg.json().getString("keyIdentifier")).isEqualTo(rel + "@" + MAF);
        assertThat(reg.json().getString("sourceMafClientId")).isEqualTo(source.kpmId());

        Answer got = request(MAF, target.kmId(), target.km(), "GET", "/keyRetrieval/" + rel + "?suid=33", null);
        assertThat(got.status()).as(got.output()).isEqualTo(200);
        assertThat(Base64.getDecoder().decode(got.json().getString("keyValue")))
                .isEqualTo(Arrays.copyOfRange(exported, 16, 48));
        assertThat(got.json().getInt("suid")).isEqualTo(33);
        assertThat(got.json().getString("sourceMafClientId")).isEqualTo(source.kpmId());

        // usage-constrained: not for another SUID; not for a non-target (403, audited)
        assertThat(request(MAF, target.kmId(), target.km(), "GET", "/keyRetrieval/" + rel + "?suid=34", null)
                        .status())
                .isEqualTo(403);
        assertThat(request(MAF, source.kmId(), source.km(), "GET", "/keyRetrieval/" + rel, null)
                        .status())
                .isEqualTo(403);
        List<Map<String, Object>> events = as(Tokens.auditor(T))
                .get("/api/v1/tenants/" + T + "/audit?limit=1000")
                .jsonPath()
                .getList("");
        assertThat(events)
                .anyMatch(e -> "maf.key.retrieve".equals(e.get("action")) && "DENIED".equals(e.get("outcome")));

        // the admin API shows the client with its KmID and lineage, never a key value
        String clients = as(Tokens.auditor(T))
                .get("/api/v1/tenants/" + T + "/maf-clients")
                .asString();
        assertThat(clients).contains(source.kmId()).contains(source.keId());
        String reg1 = JsonPath.from(clients).getString("find { it.clientId == '" + source.kpmId() + "' }.clientRegId");
        JsonPath lineage = as(Tokens.auditor(T))
                .get("/api/v1/tenants/" + T + "/maf-clients/" + reg1 + "/lineage")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        assertThat(lineage.getString("enrolments[0].keId")).isEqualTo(source.keId());
        assertThat(lineage.getList("keys.relativeKeyId")).containsExactly(rel);
        assertThat(as(Tokens.auditor(T))
                        .get("/api/v1/tenants/" + T + "/maf-keys")
                        .asString())
                .contains(rel)
                .doesNotContain("keyValue");

        // revoking the source client: its keys stop being retrievable and its KmID no longer completes a handshake
        as(Tokens.auditor(T))
                .delete("/api/v1/tenants/" + T + "/maf-clients/" + reg1)
                .then()
                .statusCode(403);
        as(Tokens.tenantAdmin(T))
                .delete("/api/v1/tenants/" + T + "/maf-clients/" + reg1)
                .then()
                .statusCode(204);
        assertThat(request(MAF, target.kmId(), target.km(), "GET", "/keyRetrieval/" + rel, null)
                        .status())
                .isEqualTo(404);
        OpenSslClient.Result refused = OpenSslClient.pskRequest(
                listener.port(),
                MAF,
                source.kmId(),
                source.km(),
                "PSK-AES128-CBC-SHA256",
                null,
                OpenSslClient.get(MAF, "/keyRetrieval/" + rel));
        assertThat(refused.output()).containsIgnoringCase("alert unknown psk identity");
    }

    @Test
    void supplied_esdata_key_for_several_targets_and_bad_registrations() throws Exception {
        Device source = enrolAndRegister("m-3");
        byte[] value = new byte[64];
        new java.security.SecureRandom().nextBytes(value);
        String b64 = Base64.getEncoder().encodeToString(value);
        Answer reg = request(
                MAF,
                source.kmId(),
                source.km(),
                "POST",
                "/keyRegistration",
                esprimKeyRequest(List.of(kpmIds.get("m-1"), kpmIds.get("m-2")), b64, 34));
        assertThat(reg.status()).as(reg.output()).isEqualTo(201);

        String rel = reg.json().getString("relativeKeyId");
        Device other = enrolAndRegister("m-1");
        assertThat(request(MAF, other.kmId(), other.km(), "PUT", "/keyRegistration/" + rel, "{\"labels\":[\"x\"]}")
                        .status())
                .as("update by a non-source")
                .isEqualTo(404);
        assertThat(request(MAF, other.kmId(), other.km(), "DELETE", "/keyRegistration/" + rel, null)
                        .status())
                .as("de-registration by a non-source")
                .isEqualTo(404);
        assertThat(request(
                                MAF,
                                source.kmId(),
                                source.km(),
                                "POST",
                                "/keyRegistration",
                                esprimKeyRequest(List.of("a", "b", "c"), b64, 34))
                        .status())
                .as("over the policy's 2 targets")
                .isEqualTo(400);
        assertThat(request(
                                MAF,
                                source.kmId(),
                                source.km(),
                                "POST",
                                "/keyRegistration",
                                esprimKeyRequest(List.of("a", "b"), b64, 32))
                        .status())
                .as("SAEF takes one target")
                .isEqualTo(400);
        // finding 3 of docs/fuzzing.md: an empty Key Value was refused by SecretBytes, past the 400s, as a 500
        assertThat(request(
                                MAF,
                                source.kmId(),
                                source.km(),
                                "POST",
                                "/keyRegistration",
                                esprimKeyRequest(List.of("a", "b"), "", 34))
                        .status())
                .as("an empty Key Value")
                .isEqualTo(400);
        assertThat(request(
                                MAF,
                                source.kmId(),
                                source.km(),
                                "POST",
                                "/keyRegistration",
                                esprimKeyRequest(
                                        List.of("a"), Base64.getEncoder().encodeToString(new byte[20]), 34))
                        .status())
                .as("20-byte key")
                .isEqualTo(400);
        assertThat(request(
                                MAF,
                                source.kmId(),
                                source.km(),
                                "POST",
                                "/keyRegistration",
                                esprimKeyRequest(List.of("a"), b64, 23))
                        .status())
                .as("an MEF SUID at the MAF")
                .isEqualTo(400);
        assertThat(request(
                                MAF,
                                source.kmId(),
                                source.km(),
                                "POST",
                                "/keyRegistration",
                                esprimKeyRequest(List.of("a\u0001"), b64, 34))
                        .status())
                .as("malformed target")
                .isEqualTo(400);
        assertThat(request(
                                MAF,
                                source.kmId(),
                                source.km(),
                                "POST",
                                "/keyRegistration",
                                "{\"mefFqdn\":\"" + MEF + "\",\"expirationTime\":\""
                                        + Instant.now().plusSeconds(60) + "\",\"adminFqdn\":\"" + ADMIN
                                        + "\",\"suid\":34,\"targetIds\":[\"a\"]}")
                        .status())
                .as("mefFqdn at the MAF")
                .isEqualTo(400);
    }

    @Test
    void unknown_foreign_and_stale_identities_fail_the_maf_handshake() throws Exception {
        byte[] psk = new byte[32];
        // a KeID that was never issued, a KmID never assigned, and a KpmID (Kpm is for the MEF only)
        for (String identity : List.of(
                "0".repeat(32) + "@" + MEF,
                "1".repeat(32) + "@" + MAF,
                kpmIds.get("m-4"),
                "2".repeat(32) + "@mef.other-co.m2m-trust.local")) {
            OpenSslClient.Result r = OpenSslClient.pskRequest(
                    listener.port(),
                    MAF,
                    identity,
                    psk,
                    "PSK-AES128-CBC-SHA256",
                    null,
                    OpenSslClient.get(MAF, "/clientRegistration/x"));
            assertThat(r.output()).as(identity).containsIgnoringCase("alert unknown psk identity");
            assertThat(r.httpStatus()).isNull();
        }
        // a KeID replaced by a newer enrolment no longer fetches Km
        Device first = enrolAndRegister("m-4");
        Device second = enrolAndRegister("m-4");
        assertThat(second.keId()).isNotEqualTo(first.keId());
        OpenSslClient.Result stale = OpenSslClient.pskRequest(
                listener.port(),
                MAF,
                first.keId(),
                first.km(),
                "PSK-AES128-CBC-SHA256",
                null,
                OpenSslClient.get(MAF, "/clientRegistration/x"));
        assertThat(stale.output()).containsIgnoringCase("alert unknown psk identity");
        // and the KmID assigned for the replaced KeID was replaced too
        OpenSslClient.Result staleKm = OpenSslClient.pskRequest(
                listener.port(),
                MAF,
                first.kmId(),
                first.km(),
                "PSK-AES128-CBC-SHA256",
                null,
                OpenSslClient.get(MAF, "/clientRegistration/x"));
        assertThat(staleKm.output()).containsIgnoringCase("alert unknown psk identity");
        assertThat(request(MAF, second.kmId(), second.km(), "GET", "/keyRetrieval/" + "0".repeat(32), null)
                        .status())
                .isEqualTo(404);
    }

    @Test
    void batch_retrieval_answers_each_item() throws Exception {
        Device source = enrolAndRegister("m-5");
        Device target = enrolAndRegister("m-6");
        List<String> rels = new java.util.ArrayList<>();
        for (int i = 0; i < 3; i++) {
            byte[] v = new byte[32];
            v[0] = (byte) i;
            Answer reg = request(
                    MAF,
                    source.kmId(),
                    source.km(),
                    "POST",
                    "/keyRegistration",
                    esprimKeyRequest(
                            List.of(target.kpmId()), Base64.getEncoder().encodeToString(v), 34));
            assertThat(reg.status()).isEqualTo(201);
            rels.add(reg.json().getString("relativeKeyId"));
        }
        Answer notMine = request(
                MAF,
                source.kmId(),
                source.km(),
                "POST",
                "/keyRegistration",
                esprimKeyRequest(List.of(source.kpmId()), Base64.getEncoder().encodeToString(new byte[32]), 34));
        String body = "{\"relativeKeyIds\":[\"" + String.join("\",\"", rels) + "\",\""
                + notMine.json().getString("relativeKeyId") + "\",\"" + "0".repeat(32) + "\",\"XYZ\"],\"suid\":34}";
        Answer batch = request(MAF, target.kmId(), target.km(), "POST", "/keyRetrieval", body);
        assertThat(batch.status()).as(batch.output()).isEqualTo(200);
        List<Integer> statuses = batch.json().getList("results.status");
        assertThat(statuses).containsExactly(200, 200, 200, 403, 404, 400);
        for (int i = 0; i < 3; i++) {
            assertThat(Base64.getDecoder().decode(batch.json().getString("results[" + i + "].keyValue"))[0])
                    .isEqualTo((byte) i);
        }
        assertThat(batch.json().getString("results[3].keyValue")).isNull();
        String tooMany = "{\"relativeKeyIds\":["
                + String.join(",", java.util.Collections.nCopies(101, "\"" + "0".repeat(32) + "\"")) + "]}";
        assertThat(request(MAF, target.kmId(), target.km(), "POST", "/keyRetrieval", tooMany)
                        .status())
                .isEqualTo(400);
        assertThat(request(MAF, target.kmId(), target.km(), "POST", "/keyRetrieval", "{\"relativeKeyIds\":[]}")
                        .status())
                .isEqualTo(400);
    }

    @Test
    void maf_based_saef_accepts_the_key_identifier_until_the_key_expires() throws Exception {
        Device entityA = enrolAndRegister("m-7");
        String cse = "cse.maf-co.m2m-trust.local";
        byte[] value = new byte[64];
        new java.security.SecureRandom().nextBytes(value);
        String req = "{\"mafFqdn\":\"" + MAF + "\",\"expirationTime\":\""
                + Instant.now().plusSeconds(4) + "\",\"adminFqdn\":\"" + ADMIN + "\",\"suid\":32,\"targetIds\":[\""
                + cse + "\"],\"keyValue\":\"" + Base64.getEncoder().encodeToString(value) + "\"}";
        Answer reg = request(MAF, entityA.kmId(), entityA.km(), "POST", "/keyRegistration", req);
        assertThat(reg.status()).as(reg.output()).isEqualTo(201);
        String keyIdentifier = reg.json().getString("keyIdentifier");
        byte[] psk = Arrays.copyOf(value, 32); // the first half (interop profile)

        Answer assoc = request(cse, keyIdentifier, psk, "GET", "/association", null);
        assertThat(assoc.status()).as(assoc.output()).isEqualTo(200);
        assertThat(assoc.json().getString("entityA")).isEqualTo(entityA.kpmId());
        // the whole 64 bytes are not the PSK
        OpenSslClient.Result wrong = OpenSslClient.pskRequest(
                listener.port(),
                cse,
                keyIdentifier,
                value,
                "PSK-AES128-CBC-SHA256",
                null,
                OpenSslClient.get(cse, "/association"));
        assertThat(wrong.httpStatus()).isNull();
        // an ESData key (SUID 34) is not a SAEF key even if it names this CSE
        Answer esdata = request(
                MAF,
                entityA.kmId(),
                entityA.km(),
                "POST",
                "/keyRegistration",
                req.replace("\"suid\":32", "\"suid\":34"));
        OpenSslClient.Result notSaef = OpenSslClient.pskRequest(
                listener.port(),
                cse,
                esdata.json().getString("keyIdentifier"),
                psk,
                "PSK-AES128-CBC-SHA256",
                null,
                OpenSslClient.get(cse, "/association"));
        assertThat(notSaef.output()).containsIgnoringCase("alert unknown psk identity");

        Thread.sleep(5000);
        OpenSslClient.Result expired = OpenSslClient.pskRequest(
                listener.port(),
                cse,
                keyIdentifier,
                psk,
                "PSK-AES128-CBC-SHA256",
                null,
                OpenSslClient.get(cse, "/association"));
        assertThat(expired.output()).containsIgnoringCase("alert unknown psk identity");
    }

    @Test
    void km_expires_with_its_ke_and_replayed_or_concurrent_registrations_leave_one_record() throws Exception {
        Device d = enrolAndRegister("m-3");
        // replay: a second exporter-keyed registration in the same session is refused
        String twice = esprimKeyRequest(List.of(kpmIds.get("m-1")), null, 33);
        byte[] one = OpenSsl.request(
                "POST", MAF, "/keyRegistration", "application/json", twice.getBytes(StandardCharsets.UTF_8));
        String first = new String(one, StandardCharsets.ISO_8859_1).replace("Connection: close\r\n", "");
        byte[] both = (first + new String(one, StandardCharsets.ISO_8859_1)).getBytes(StandardCharsets.ISO_8859_1);
        OpenSslClient.Result pipelined;
        try (OpenSsl.Session s =
                OpenSsl.start(OpenSsl.withPsk(OpenSsl.sClient(listener.port(), MAF), d.kmId(), d.km()))) {
            s.await("(?m)^\\s*Cipher\\s*: PSK", Duration.ofSeconds(20));
            pipelined = s.send(both);
        }
        assertThat(pipelined.output()).contains("HTTP/1.1 201").contains("HTTP/1.1 409");

        // concurrent client registrations of one device: every answer is 201 or 409, and one record remains
        List<java.util.concurrent.Future<Answer>> fs = new java.util.ArrayList<>();
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(3);
        for (int i = 0; i < 3; i++) {
            fs.add(pool.submit(() -> request(
                    MAF,
                    d.kmId(),
                    d.km(),
                    "POST",
                    "/clientRegistration",
                    "{\"mafFqdn\":\"" + MAF + "\",\"expirationTime\":\""
                            + Instant.now().plusSeconds(3600) + "\",\"adminFqdn\":\"" + ADMIN + "\"}")));
        }
        List<Integer> statuses = new java.util.ArrayList<>();
        for (var f : fs) {
            statuses.add(f.get().status());
        }
        pool.shutdown();
        assertThat(statuses).allMatch(st -> st == 201 || st == 409).contains(201);
        // re-registering over the KmID session keeps the Km: the KmID still works
        assertThat(request(MAF, d.kmId(), d.km(), "GET", "/keyRetrieval/" + "0".repeat(32), null)
                        .status())
                .isEqualTo(404);
        List<String> clients = as(Tokens.auditor(T))
                .get("/api/v1/tenants/" + T + "/maf-clients")
                .jsonPath()
                .getList("clientId");
        assertThat(clients.stream().filter(c -> c.equals(d.kpmId()))).hasSize(1);

        // Km never outlives its Ke (§10.7): once the Ke has expired, the KmID no longer completes a handshake
        Device e = enrolAndRegister("m-2");
        io.quarkus.narayana.jta.QuarkusTransaction.requiringNew()
                .run(() -> em.createNativeQuery(
                                "update client_registration set km_expires_at = now() - interval '1 second' where km_id = ?1")
                        .setParameter(1, e.kmId())
                        .executeUpdate());
        OpenSslClient.Result afterKe = OpenSslClient.pskRequest(
                listener.port(),
                MAF,
                e.kmId(),
                e.km(),
                "PSK-AES128-CBC-SHA256",
                null,
                OpenSslClient.get(MAF, "/clientRegistration/x"));
        assertThat(afterKe.output()).containsIgnoringCase("alert unknown psk identity");
    }
}
