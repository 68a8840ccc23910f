package io.m2mtrust.tls;

import static io.m2mtrust.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;

import io.m2mtrust.testsupport.CoapWire;
import io.m2mtrust.testsupport.MafDevices;
import io.m2mtrust.testsupport.OpenSsl;
import io.m2mtrust.testsupport.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The MEF and the MAF over CoAP and DTLS 1.2 (issue 20), against independent peers: libcoap's {@code coap-client}
 * (OpenSSL build) enrols a device with a PSK and no SNI (the tenant from its KpmID's FQDN); OpenSSL's
 * {@code s_client -dtls1_2} carries hand-written CoAP messages over {@code TLS_PSK_WITH_AES_128_CCM_8} with SNI and
 * exports {@code EXPORTER-oneM2M-Bootstrap} and {@code -Connection} itself, so the KeID, the Km and the registered key
 * are checked against OpenSSL's bytes, not ours.
 */
@QuarkusTest
class CoapDtlsDeviceTest {

    static final String T = "coap-co";
    static final String MEF = "mef." + T + ".m2m-trust.local";
    static final String MAF = "maf." + T + ".m2m-trust.local";
    static final String CSE = "cse." + T + ".m2m-trust.local";
    /** coap-client takes its PSK as a string: an imported Kpm of 32 ASCII bytes. */
    static final String ASCII_KPM = "coap-client-test-psk-0123456789a";

    static final String ASCII_KPM_ID = "sensor-1@" + MEF;

    @Inject
    DeviceDtlsListener dtls;

    @Inject
    DeviceTlsListener tls;

    static MafDevices fleet;

    @BeforeEach
    void tenant() {
        if (fleet != null) {
            return;
        }
        fleet = MafDevices.create(
                T, tls.port(), List.of("d-1", "d-2", "d-3", "d-4", "d-5", "d-6", "d-7", "d-8", "d-9"), doc -> {});
        as(Tokens.tenantAdmin(T))
                .body(Map.of(
                        "kpmId",
                        ASCII_KPM_ID,
                        "kpm",
                        Base64.getEncoder().encodeToString(ASCII_KPM.getBytes(StandardCharsets.US_ASCII))))
                .post("/api/v1/tenants/" + T + "/imported-kpms")
                .then()
                .statusCode(201);
    }

    // ---------------------------------------------------------------- libcoap

    /** coap-client's output and exit code. */
    record CoapClient(int exit, String out) {}

    static CoapClient coapClient(List<String> args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("coap-client-openssl", "-B", "10"));
        cmd.addAll(args);
        return run(cmd);
    }

    /** Runs {@code cmd} (at most 30 s) and returns its exit code and output. */
    static CoapClient run(List<String> cmd) throws Exception {
        Path out = Files.createTempFile("coap-client", ".out");
        Process p = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(out.toFile())
                .start();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
        String text = Files.readString(out, StandardCharsets.ISO_8859_1);
        Files.deleteIfExists(out);
        return new CoapClient(p.isAlive() ? -1 : p.exitValue(), text);
    }

    @Test
    void libcoap_enrols_over_dtls_psk_without_sni_and_gets_a_keid_of_its_tenants_mef() throws Exception {
        CoapClient r = coapClient(List.of(
                "-m",
                "post",
                "-u",
                ASCII_KPM_ID,
                "-k",
                ASCII_KPM,
                "-t",
                "50",
                "-e",
                "{\"mafEnrolmentIndication\":true}",
                "coaps://127.0.0.1:" + dtls.port() + "/enrolment"));
        assertThat(r.out()).as(r.out()).contains("\"keId\"");
        JsonPath body = JsonPath.from(r.out().substring(r.out().indexOf('{')));
        assertThat(body.getString("keId")).matches("[0-9a-f]{32}@" + MEF.replace(".", "\\."));
        // the addresses the device is given are those of the transport it came over
        assertThat(body.getString("instructions.mafEnrolment.mafKeyRegistrationUri"))
                .isEqualTo("coaps://" + MAF + "/keyRegistration");
    }

    /**
     * libcoap's {@code coap-client} registers a MAF key and a target retrieves it, each with its KmID and Km as
     * psk_identity and PSK (no SNI: the MAF from the KmID's FQDN). {@code -k} takes the PSK as a C string, so the binary
     * Km goes through bash's {@code $'\xHH'} quoting; a Km with a zero byte cannot, and the device enrols again (a new
     * Ke, a new Km). The Km itself comes from an OpenSSL enrolment and MAF registration (coap-client cannot export).
     */
    @Test
    void libcoap_registers_a_maf_key_and_a_target_retrieves_it_with_libcoap() throws Exception {
        String[] source = mafClientWithoutZeroBytes("d-8");
        String[] target = mafClientWithoutZeroBytes("d-9");
        byte[] value = new byte[32];
        new java.security.SecureRandom().nextBytes(value);
        Path body = Files.createTempFile("keyreg", ".json");
        Files.writeString(
                body,
                keyRegistration(
                        33,
                        List.of(fleet.kpmIds.get("d-9")),
                        Base64.getEncoder().encodeToString(value),
                        Instant.now().plusSeconds(600)));
        CoapClient reg = coapClientWithBinaryKey(
                source[0],
                source[1],
                "-m post -t 50 -f " + body + " coaps://127.0.0.1:" + dtls.port() + "/keyRegistration");
        assertThat(reg.out()).as(reg.out()).contains("relativeKeyId");
        String rel = JsonPath.from(reg.out().substring(reg.out().indexOf('{'))).getString("relativeKeyId");
        CoapClient got = coapClientWithBinaryKey(
                target[0],
                target[1],
                "-m get 'coaps://127.0.0.1:" + dtls.port() + "/keyRetrieval/" + rel + "?suid=33'");
        assertThat(got.out()).as(got.out()).contains("keyValue");
        assertThat(Base64.getDecoder()
                        .decode(JsonPath.from(got.out().substring(got.out().indexOf('{')))
                                .getString("keyValue")))
                .isEqualTo(value);
        Files.deleteIfExists(body);
    }

    /** KmID and Km (as bash's {@code $'…'} text) of a MAF client whose Km has no zero byte. */
    private String[] mafClientWithoutZeroBytes(String device) throws Exception {
        for (int attempt = 0; attempt < 8; attempt++) {
            Enrolled e = enrol(device);
            String kmId = registerAtMaf(e);
            boolean zero = false;
            StringBuilder quoted = new StringBuilder("$'");
            for (byte b : e.km()) {
                zero |= b == 0;
                quoted.append(String.format("\\x%02x", b & 0xff));
            }
            if (!zero) {
                return new String[] {kmId, quoted.append('\'').toString()};
            }
        }
        throw new AssertionError("eight Kms in a row with a zero byte");
    }

    static CoapClient coapClientWithBinaryKey(String identity, String bashQuotedKey, String rest) throws Exception {
        return run(List.of(
                "bash", "-c", "exec coap-client-openssl -B 10 -u '" + identity + "' -k " + bashQuotedKey + " " + rest));
    }

    @Test
    void libcoap_with_a_wrong_key_gets_no_session_and_nothing_is_written() throws Exception {
        int before = enrolmentCount();
        CoapClient r = coapClient(List.of(
                "-m",
                "post",
                "-u",
                ASCII_KPM_ID,
                "-k",
                "not-the-key-not-the-key-not-the-",
                "-t",
                "50",
                "-e",
                "{}",
                "coaps://127.0.0.1:" + dtls.port() + "/enrolment"));
        assertThat(r.out()).doesNotContain("keId");
        CoapClient unknown = coapClient(List.of(
                "-m",
                "post",
                "-u",
                "nobody@" + MEF,
                "-k",
                ASCII_KPM,
                "-t",
                "50",
                "-e",
                "{}",
                "coaps://127.0.0.1:" + dtls.port() + "/enrolment"));
        assertThat(unknown.out()).doesNotContain("keId");
        assertThat(enrolmentCount()).isEqualTo(before);
    }

    private static int enrolmentCount() {
        return as(Tokens.auditor(T))
                .get("/api/v1/tenants/" + T + "/audit?limit=1000")
                .jsonPath()
                .getList("findAll { it.action == 'enrolment.create' }")
                .size();
    }

    // ---------------------------------------------------------------- OpenSSL over DTLS, CoAP by hand

    private OpenSsl.Session dtlsSession(String sni, String identity, byte[] psk, String exportLabel) throws Exception {
        List<String> cmd = OpenSsl.withPsk(OpenSsl.sClientDtls(dtls.port(), sni), identity, psk, "PSK-AES128-CCM8");
        if (exportLabel != null) {
            OpenSsl.withExport(cmd, exportLabel, 48);
        }
        return OpenSsl.start(cmd);
    }

    /** A MAF key registration request (TS-0003 §8.8.2.7) of this tenant's MAF and administrator. */
    static String keyRegistration(int suid, List<String> targets, String keyValue, Instant expires) {
        return OpenSsl.keyRegistration("mafFqdn", MAF, fleet.admin, suid, targets, keyValue, expires);
    }

    private static int tokens;

    /** Sends one CoAP request in the session and waits for the response carrying its token. */
    static CoapWire.Response exchange(OpenSsl.Session s, byte[] request, byte[] token) throws Exception {
        s.write(request);
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < end) {
            CoapWire.Response r = CoapWire.findResponse(s.output(), token);
            if (r != null) {
                Thread.sleep(50); // the rest of the datagram is printed in the same write, but be sure
                return CoapWire.findResponse(s.output(), token);
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no CoAP response:\n" + s.output());
    }

    static byte[] token() {
        return ("tok" + String.format("%05d", ++tokens)).getBytes(StandardCharsets.US_ASCII);
    }

    static CoapWire.Response postJson(OpenSsl.Session s, String path, String json) throws Exception {
        byte[] token = token();
        return exchange(s, CoapWire.post(token, path, 50, json.getBytes(StandardCharsets.UTF_8)), token);
    }

    static CoapWire.Response get(OpenSsl.Session s, String pathAndQuery) throws Exception {
        byte[] token = token();
        String[] pq = pathAndQuery.split("\\?", 2);
        Map<Integer, List<byte[]>> o = new java.util.TreeMap<>();
        o.put(CoapWire.URI_PATH, CoapWire.segments(pq[0]));
        if (pq.length > 1) {
            o.put(
                    CoapWire.URI_QUERY,
                    Arrays.stream(pq[1].split("&"))
                            .map(q -> q.getBytes(StandardCharsets.UTF_8))
                            .toList());
        }
        return exchange(s, CoapWire.request(1, token, CoapWire.nextMessageId(), o, null), token);
    }

    /** {@code ke} is the enrolee's own Ke (the last 32 bytes of OpenSSL's export), {@code km} its Km for the MAF. */
    record Enrolled(String keId, byte[] km, byte[] ke) {}

    /** OpenSSL enrols device {@code d} over DTLS with SNI; the KeID must be the first 16 bytes of its own export. */
    private Enrolled enrol(String d) throws Exception {
        try (OpenSsl.Session s =
                dtlsSession(MEF, fleet.kpmIds.get(d), fleet.kpms.get(d), "EXPORTER-oneM2M-Bootstrap")) {
            byte[] exported = s.keyingMaterial();
            assertThat(s.output()).contains("PSK-AES128-CCM8").containsIgnoringCase("Extended master secret: yes");
            CoapWire.Response r = postJson(s, "/enrolment", "{\"mafEnrolmentIndication\":true}");
            assertThat(r.code()).as(r.text()).isEqualTo("2.01");
            assertThat(r.contentFormat()).isEqualTo(50);
            String keId = JsonPath.from(r.text()).getString("keId");
            assertThat(keId).isEqualTo(HexFormat.of().formatHex(exported, 0, 16) + "@" + MEF);
            byte[] ke = Arrays.copyOfRange(exported, 16, 48);
            return new Enrolled(keId, fleet.km(ke), ke);
        }
    }

    @Test
    void openssl_enrols_over_coap_registers_at_the_maf_and_a_target_retrieves_the_key_openssl_exported()
            throws Exception {
        Enrolled source = enrol("d-1");
        Enrolled target = enrol("d-2");
        String sourceKmId = registerAtMaf(source);
        String targetKmId = registerAtMaf(target);

        // key registration without a value: the MAF takes this session's EXPORTER-oneM2M-Connection (§8.8.2.7)
        byte[] exported;
        String rel;
        try (OpenSsl.Session s = dtlsSession(MAF, sourceKmId, source.km(), "EXPORTER-oneM2M-Connection")) {
            exported = s.keyingMaterial();
            CoapWire.Response reg = postJson(
                    s,
                    "/keyRegistration",
                    keyRegistration(
                            33,
                            List.of(fleet.kpmIds.get("d-2")),
                            null,
                            Instant.now().plusSeconds(3600)));
            assertThat(reg.code()).as(reg.text()).isEqualTo("2.01");
            rel = JsonPath.from(reg.text()).getString("relativeKeyId");
            assertThat(rel).isEqualTo(HexFormat.of().formatHex(exported, 0, 16));
        }
        try (OpenSsl.Session s = dtlsSession(MAF, targetKmId, target.km(), null)) {
            s.await("(?m)Cipher is PSK-AES128-CCM8", Duration.ofSeconds(20));
            CoapWire.Response got = get(s, "/keyRetrieval/" + rel + "?suid=33");
            assertThat(got.code()).as(got.text()).isEqualTo("2.05");
            assertThat(Base64.getDecoder().decode(JsonPath.from(got.text()).getString("keyValue")))
                    .isEqualTo(Arrays.copyOfRange(exported, 16, 48));
            // usage-constrained as over TLS: another SUID is 4.03
            assertThat(get(s, "/keyRetrieval/" + rel + "?suid=34").code()).isEqualTo("4.03");
            // a batch (POST /keyRetrieval): one result per identifier, an unknown one 404 inside a 2.04
            CoapWire.Response batch = postJson(
                    s,
                    "/keyRetrieval",
                    "{\"relativeKeyIds\":[\"" + rel + "\",\"" + "0".repeat(32) + "\"],\"suid\":33}");
            assertThat(batch.code()).as(batch.text()).isEqualTo("2.04");
            assertThat(JsonPath.from(batch.text()).getList("results.status", Integer.class))
                    .containsExactly(200, 404);
            assertThat(Base64.getDecoder().decode(JsonPath.from(batch.text()).getString("results[0].keyValue")))
                    .isEqualTo(Arrays.copyOfRange(exported, 16, 48));
        }
    }

    /**
     * fetchCredentials over CoAP (TS-0003 §8.3.2.1 f, as built for TLS): an enrolee enrols over DTLS; a registered
     * enrolment target, in a DTLS session of its own, fetches the usage-constrained key, which equals what the enrolee
     * derives from the Ke OpenSSL exported; an unregistered SUID is refused.
     */
    @Test
    void a_target_fetches_over_coap_the_credential_the_enrolee_derives_from_its_own_ke() throws Exception {
        Enrolled enrolee = enrol("d-6");
        as(Tokens.tenantAdmin(T))
                .body(Map.of("targetFqdn", CSE, "allowedSuids", List.of(22)))
                .put("/api/v1/tenants/" + T + "/enrolment-targets/{identity}", fleet.kpmIds.get("d-7"))
                .then()
                .statusCode(200);
        try (OpenSsl.Session s = dtlsSession(MEF, fleet.kpmIds.get("d-7"), fleet.kpms.get("d-7"), null)) {
            s.await("(?m)Cipher is PSK-AES128-CCM8", Duration.ofSeconds(20));
            CoapWire.Response r = get(s, "/fetchCredentials/" + enrolee.keId() + "/22");
            assertThat(r.code()).as(r.text()).isEqualTo("2.05");
            JsonPath j = JsonPath.from(r.text());
            assertThat(j.getString("enroleeId")).isEqualTo(fleet.kpmIds.get("d-6"));
            try (io.m2mtrust.common.SecretBytes ke = io.m2mtrust.common.SecretBytes.copyOf(enrolee.ke());
                    io.m2mtrust.common.SecretBytes expected =
                            io.m2mtrust.mef.EnrolmentKdf.usageConstrained(ke, 22, CSE)) {
                assertThat(Base64.getDecoder().decode(j.getString("credential")))
                        .isEqualTo(expected.copy());
            }
            assertThat(get(s, "/fetchCredentials/" + enrolee.keId() + "/23").code())
                    .startsWith("4.");
        }
    }

    /**
     * The MAF-based SAEF over DTLS (TS-0003 §8.2.2.3): Entity A, enrolled and registered at the MAF over CoAP, registers
     * a SUID 32 key for this tenant's CSE; OpenSSL then handshakes with the CSE's FQDN using the MAF Key Identifier as
     * psk_identity and the first half of the key as PSK, and the association names Entity A. The whole 64-byte value is
     * not the PSK: that handshake fails and nothing is answered.
     */
    @Test
    void openssl_establishes_a_maf_based_saef_association_with_the_cse_over_dtls() throws Exception {
        Enrolled entityA = enrol("d-5");
        String kmId = registerAtMaf(entityA);
        byte[] value = new byte[64];
        new java.security.SecureRandom().nextBytes(value);
        String keyIdentifier;
        try (OpenSsl.Session s = dtlsSession(MAF, kmId, entityA.km(), null)) {
            s.await("(?m)Cipher is PSK-AES128-CCM8", Duration.ofSeconds(20));
            CoapWire.Response reg = postJson(
                    s,
                    "/keyRegistration",
                    keyRegistration(
                            32,
                            List.of(CSE),
                            Base64.getEncoder().encodeToString(value),
                            Instant.now().plusSeconds(600)));
            assertThat(reg.code()).as(reg.text()).isEqualTo("2.01");
            keyIdentifier = JsonPath.from(reg.text()).getString("keyIdentifier");
        }
        try (OpenSsl.Session s = dtlsSession(CSE, keyIdentifier, Arrays.copyOf(value, 32), null)) {
            s.await("(?m)Cipher is PSK-AES128-CCM8", Duration.ofSeconds(20));
            CoapWire.Response assoc = get(s, "/association");
            assertThat(assoc.code()).as(assoc.text()).isEqualTo("2.05");
            assertThat(JsonPath.from(assoc.text()).getString("entityA")).isEqualTo(fleet.kpmIds.get("d-5"));
            assertThat(JsonPath.from(assoc.text()).getString("keyIdentifier")).isEqualTo(keyIdentifier);
        }
        try (OpenSsl.Session s = dtlsSession(CSE, keyIdentifier, value, null)) {
            // a 64-byte PSK is not the key: Scandium drops the handshake silently (no identity oracle); a loopback
            // handshake takes milliseconds, so three seconds without a session is a refusal
            Thread.sleep(3000);
            assertThat(s.output()).doesNotContain("Cipher is PSK-AES128-CCM8");
        }
    }

    /**
     * EST over CoAP (RFC 9148) in a PSK DTLS session of OpenSSL: {@code /crts} gives the CA as DER PKCS#7, {@code /att}
     * the attributes, and {@code /sen} takes a DER CSR made by {@code openssl req} whose challengePassword is OpenSSL's
     * own export of {@code EXPORTER-Channel-Binding}; the certificate issued verifies against the CA with
     * {@code openssl verify}. A CSR bound to another session is refused.
     */
    @Test
    void openssl_gets_a_certificate_over_est_coaps_with_a_csr_bound_to_its_dtls_session() throws Exception {
        Path dir = Files.createTempDirectory("est-coaps");
        tenantCa();

        try (OpenSsl.Session s = estSession("d-3")) {
            byte[] binding = s.keyingMaterial();

            CoapWire.Response crts = get(s, "/.well-known/est/crts");
            assertThat(crts.code()).isEqualTo("2.05");
            assertThat(crts.contentFormat()).isEqualTo(281);
            Path ca = OpenSsl.pkcs7ToPem(dir, "ca.pem", crts.payload());

            CoapWire.Response att = get(s, "/.well-known/est/att");
            assertThat(att.code()).isEqualTo("2.05");
            assertThat(att.contentFormat()).isEqualTo(285);

            // a CSR bound to another session's exporter: refused (the EST handler's 403 → 4.03), nothing issued
            byte[] wrong = csr(dir, "wrong", Base64.getEncoder().encodeToString(new byte[32]), "DNS:d-3" + CSE_DOMAIN);
            byte[] token = token();
            CoapWire.Response refused = exchange(s, CoapWire.post(token, "/.well-known/est/sen", 286, wrong), token);
            assertThat(refused.code()).as(refused.text()).startsWith("4.");

            byte[] der = csr(dir, "d-3", Base64.getEncoder().encodeToString(binding), "DNS:d-3" + CSE_DOMAIN);
            token = token();
            CoapWire.Response sen = exchange(s, CoapWire.post(token, "/.well-known/est/sen", 286, der), token);
            assertThat(sen.code()).as(sen.text()).isEqualTo("2.04");
            assertThat(sen.contentFormat()).isEqualTo(281);
            Path cert = OpenSsl.pkcs7ToPem(dir, "d-3.pem", sen.payload());
            assertThat(OpenSsl.ok(dir, "openssl", "verify", "-CAfile", ca.toString(), cert.toString()))
                    .contains(cert + ": OK");
            assertThat(OpenSsl.ok(dir, "openssl", "x509", "-in", cert.toString(), "-noout", "-text"))
                    .contains("DNS:d-3" + CSE_DOMAIN);
        }
    }

    static final String CSE_DOMAIN = ".in.coap-co.example";

    /**
     * The certificate suites over DTLS (TS-0003 §10.2.3): a device whose key and CSR OpenSSL made gets its certificate
     * over EST-coaps in a PSK session, then handshakes with it over {@code TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8} —
     * OpenSSL verifies the tenant's FQDN certificate and a ServerKeyExchange signed inside the HSM — and re-enrols
     * ({@code /sren}) with a new OpenSSL key and a CSR bound to that certificate session. The superseded certificate
     * no longer handshakes; revoking the new one ends its live session at once and refuses its next handshake; without
     * SNI a certificate handshake has no tenant and fails.
     */
    @Test
    void openssl_handshakes_with_its_certificate_over_ecdhe_ecdsa_ccm_8_re_enrols_and_revocation_ends_the_session()
            throws Exception {
        Path dir = Files.createTempDirectory("dtls-cert");
        tenantCa();
        Path ca;
        Path cert1;
        try (OpenSsl.Session s = estSession("d-4")) {
            byte[] binding = s.keyingMaterial();
            ca = OpenSsl.pkcs7ToPem(
                    dir, "ca.pem", get(s, "/.well-known/est/crts").payload());
            byte[] der = csr(dir, "d-4", Base64.getEncoder().encodeToString(binding), "DNS:d-4" + CSE_DOMAIN);
            byte[] token = token();
            CoapWire.Response sen = exchange(s, CoapWire.post(token, "/.well-known/est/sen", 286, der), token);
            assertThat(sen.code()).as(sen.text()).isEqualTo("2.04");
            cert1 = OpenSsl.pkcs7ToPem(dir, "d-4.pem", sen.payload());
        }

        // the certificate session: OpenSSL checks the server's chain and host name, the server checks the device's
        Path cert2;
        try (OpenSsl.Session s = OpenSsl.start(certificateSession(dir, cert1, "d-4", ca, MEF))) {
            byte[] binding = s.keyingMaterial();
            assertThat(s.output())
                    .contains("Cipher is ECDHE-ECDSA-AES128-CCM8")
                    .contains("Verify return code: 0 (ok)")
                    .containsIgnoringCase("Extended master secret: yes");
            byte[] der = csr(dir, "d-4b", Base64.getEncoder().encodeToString(binding), "DNS:d-4" + CSE_DOMAIN);
            byte[] token = token();
            CoapWire.Response sren = exchange(s, CoapWire.post(token, "/.well-known/est/sren", 286, der), token);
            assertThat(sren.code()).as(sren.text()).isEqualTo("2.04");
            cert2 = OpenSsl.pkcs7ToPem(dir, "d-4b.pem", sren.payload());
            assertThat(OpenSsl.ok(dir, "openssl", "verify", "-CAfile", ca.toString(), cert2.toString()))
                    .contains(": OK");
        }
        String serial1 = serialOf(dir, cert1);
        String serial2 = serialOf(dir, cert2);
        assertThat(serial2).isNotEqualTo(serial1);

        // the superseded certificate no longer authenticates
        try (OpenSsl.Session old = OpenSsl.start(certificateSession(dir, cert1, "d-4", ca, MEF))) {
            // the server's alert at the device's Certificate, before its Finished (s_client still names the suite)
            old.await("(?m)alert certificate revoked", Duration.ofSeconds(20));
        }

        // revoking the new one ends its live session (on every replica) and refuses the next handshake
        try (OpenSsl.Session s = OpenSsl.start(certificateSession(dir, cert2, "d-4b", ca, MEF))) {
            s.await("(?m)Cipher is ECDHE-ECDSA-AES128-CCM8", Duration.ofSeconds(20));
            assertThat(get(s, "/.well-known/est/crts").code()).isEqualTo("2.05");
            as(Tokens.tenantAdmin(T))
                    .body(Map.of("reason", "keyCompromise"))
                    .post("/api/v1/tenants/" + T + "/certificates/" + serial2 + "/revoke")
                    .then()
                    .statusCode(200);
            // the session ends with close_notify, which s_client reports as "closed"
            s.await("(?m)closed\\s*$", Duration.ofSeconds(10));
        }
        try (OpenSsl.Session again = OpenSsl.start(certificateSession(dir, cert2, "d-4b", ca, MEF))) {
            again.await("(?m)alert certificate revoked", Duration.ofSeconds(20));
        }

        // no SNI: no tenant to take a certificate from, so no certificate suite is offered
        List<String> noSni = certificateSession(dir, cert1, "d-4", ca, MEF);
        int i = noSni.indexOf("-servername");
        noSni.remove(i + 1);
        noSni.set(i, "-noservername");
        try (OpenSsl.Session s = OpenSsl.start(noSni)) {
            s.await("(?m)(alert handshake failure|Cipher is \\(NONE\\)|CONNECTION CLOSED)", Duration.ofSeconds(20));
            assertThat(s.output()).doesNotContain("Cipher is ECDHE-ECDSA-AES128-CCM8");
        }
    }

    /** A PSK session of {@code device} with the MEF that exports the EST channel binding (32 bytes). */
    private OpenSsl.Session estSession(String device) throws Exception {
        List<String> cmd = OpenSsl.withPsk(
                OpenSsl.sClientDtls(dtls.port(), MEF),
                fleet.kpmIds.get(device),
                fleet.kpms.get(device),
                "PSK-AES128-CCM8");
        return OpenSsl.start(OpenSsl.withExport(cmd, "EXPORTER-Channel-Binding", 32));
    }

    /** {@code s_client -dtls1_2} with the device's certificate over ECDHE-ECDSA-AES128-CCM8, exporting the binding. */
    private List<String> certificateSession(Path dir, Path cert, String keyName, Path ca, String host) {
        List<String> cmd = OpenSsl.withCertificate(
                OpenSsl.sClientDtls(dtls.port(), host),
                cert,
                dir.resolve(keyName + ".key"),
                ca,
                host,
                "ECDHE-ECDSA-AES128-CCM8");
        return OpenSsl.withExport(cmd, "EXPORTER-Channel-Binding", 32);
    }

    private static String serialOf(Path dir, Path cert) throws Exception {
        String out = OpenSsl.ok(dir, "openssl", "x509", "-in", cert.toString(), "-noout", "-serial");
        return new java.math.BigInteger(out.trim().substring("serial=".length()), 16).toString(16);
    }

    /** The tenant's CA and a certificate profile for its devices (idempotent). */
    private static void tenantCa() {
        as(Tokens.tenantAdmin(T))
                .body(Map.of("subjectType", "CSE_ID", "subjectTemplate", "{device}" + CSE_DOMAIN))
                .put("/api/v1/tenants/" + T + "/enrolment-groups/dev/certificate-profile")
                .then()
                .statusCode(200);
        as(Tokens.tenantAdmin(T)).post("/api/v1/tenants/" + T + "/ca").then().statusCode(anyOf201or200());
    }

    private static org.hamcrest.Matcher<Integer> anyOf201or200() {
        return org.hamcrest.Matchers.anyOf(org.hamcrest.Matchers.is(201), org.hamcrest.Matchers.is(200));
    }

    /** {@code openssl req}: a P-256 key and a DER CSR with a challengePassword and a SAN. */
    private static byte[] csr(Path dir, String name, String challenge, String san) throws Exception {
        Path cfg = dir.resolve(name + ".cnf");
        Files.writeString(
                cfg,
                "[req]\ndistinguished_name = dn\nprompt = no\nattributes = attrs\n[dn]\nCN = " + name
                        + "\n[attrs]\nchallengePassword = " + challenge + "\n");
        OpenSsl.ok(
                dir,
                "openssl",
                "req",
                "-new",
                "-config",
                cfg.toString(),
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                dir.resolve(name + ".key").toString(),
                "-addext",
                "subjectAltName=" + san,
                "-outform",
                "DER",
                "-out",
                dir.resolve(name + ".csr").toString());
        return Files.readAllBytes(dir.resolve(name + ".csr"));
    }

    private String registerAtMaf(Enrolled device) throws Exception {
        try (OpenSsl.Session s = dtlsSession(MAF, device.keId(), device.km(), null)) {
            s.await("(?m)Cipher is PSK-AES128-CCM8", Duration.ofSeconds(20));
            CoapWire.Response reg = postJson(
                    s,
                    "/clientRegistration",
                    "{\"mafFqdn\":\"" + MAF + "\",\"expirationTime\":\""
                            + Instant.now().plusSeconds(86400) + "\",\"adminFqdn\":\"" + fleet.admin + "\"}");
            assertThat(reg.code()).as(reg.text()).isEqualTo("2.01");
            return JsonPath.from(reg.text()).getString("assignedSymmKeyId");
        }
    }
}
