package io.m2mtrust.hsm;

import static io.m2mtrust.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.m2mtrust.testsupport.Api;
import io.m2mtrust.testsupport.FlightHoldingRelay;
import io.m2mtrust.testsupport.MafDevices;
import io.m2mtrust.testsupport.OpenSsl;
import io.m2mtrust.testsupport.OpenSslClient;
import io.m2mtrust.testsupport.TestHsm;
import io.m2mtrust.testsupport.Tokens;
import io.m2mtrust.tls.DeviceTlsListener;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * The HSM goes away in the middle of device work (issue 21), the token directory moved away and back as in
 * {@link HsmOutageTest}: a TLS-PSK handshake held between its flights ends with an alert when its PSK would need the
 * HSM, and the next handshake succeeds once the token is back; a MAF batch retrieval sent on a session opened before
 * the outage answers 503 with Retry-After, retrieves and audits nothing, and succeeds whole once the token is back.
 * No restart in between.
 */
@QuarkusTest
class HsmOutageMidFlightTest {

    @Inject
    DeviceTlsListener listener;

    @Test
    void a_psk_handshake_whose_second_flight_arrives_during_an_outage_ends_with_an_alert_and_the_next_succeeds()
            throws Exception {
        MafDevices d = MafDevices.create("hsm-mid-co", listener.port(), List.of("d1"), p -> {});
        String enrolment = OpenSslClient.post(d.mef, "/enrolment", "{\"mafEnrolmentIndication\":false}");
        int eventsBefore = auditEvents(d.tenant, "enrolment.create");
        Path dir = TestHsm.tokenDirectory();
        Path away = dir.resolveSibling(dir.getFileName() + ".away");
        try (FlightHoldingRelay relay = new FlightHoldingRelay(listener.port());
                OpenSsl.Session s = OpenSsl.start(
                        OpenSsl.withPsk(OpenSsl.sClient(relay.port(), d.mef), d.kpmIds.get("d1"), d.kpms.get("d1")))) {
            relay.awaitHeld(Duration.ofSeconds(20));
            Files.move(dir, away);
            Api.awaitReadiness(status -> status == 503, Duration.ofSeconds(15));
            // the ClientKeyExchange names the PSK identity now: its Kpm is a derivation in the HSM (TS-0003 §8.2.2)
            relay.release();
            OpenSslClient.Result r = s.send(enrolment.getBytes(StandardCharsets.US_ASCII));
            assertThat(r.httpStatus()).as(r.output()).isNull();
            assertThat(r.output()).containsPattern("alert|Cipher is \\(NONE\\)");
        } finally {
            if (Files.exists(away)) {
                Files.move(away, dir);
            }
        }
        Api.awaitReadiness(status -> status == 200, Duration.ofSeconds(30));
        assertThat(auditEvents(d.tenant, "enrolment.create"))
                .as("no enrolment from the failed handshake")
                .isEqualTo(eventsBefore);
        OpenSsl.Answer again = OpenSsl.pskCall(
                listener.port(),
                d.mef,
                d.kpmIds.get("d1"),
                d.kpms.get("d1"),
                "POST",
                "/enrolment",
                "{\"mafEnrolmentIndication\":false}");
        assertThat(again.status()).as(again.output()).isEqualTo(201);
        assertThat(auditEvents(d.tenant, "enrolment.create")).isEqualTo(eventsBefore + 1);
    }

    @Test
    void a_maf_batch_on_a_session_opened_before_an_outage_gets_503_retrieves_nothing_and_succeeds_after()
            throws Exception {
        MafDevices d = MafDevices.create("hsm-batch-co", listener.port(), List.of("s", "t"), p -> {});
        MafDevices.Device source = d.enrolAndRegister("s");
        MafDevices.Device target = d.enrolAndRegister("t");
        List<String> rels = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            byte[] v = new byte[32];
            v[0] = (byte) i;
            OpenSsl.Answer reg = d.maf(
                    source,
                    "POST",
                    "/keyRegistration",
                    OpenSsl.keyRegistration(
                            "mafFqdn",
                            d.maf,
                            d.admin,
                            34,
                            List.of(target.kpmId()),
                            Base64.getEncoder().encodeToString(v),
                            Instant.now().plusSeconds(3600)));
            assertThat(reg.status()).as(reg.output()).isEqualTo(201);
            rels.add(reg.json().getString("relativeKeyId"));
        }
        String batch = "{\"relativeKeyIds\":[\"" + String.join("\",\"", rels) + "\"],\"suid\":34}";
        byte[] request = OpenSsl.request(
                "POST", d.maf, "/keyRetrieval", "application/json", batch.getBytes(StandardCharsets.UTF_8));
        int auditedBefore = auditEvents(d.tenant, "maf.key.retrieve");

        Path dir = TestHsm.tokenDirectory();
        Path away = dir.resolveSibling(dir.getFileName() + ".away");
        try (OpenSsl.Session opened =
                OpenSsl.start(OpenSsl.withPsk(OpenSsl.sClient(listener.port(), d.maf), target.kmId(), target.km()))) {
            // the session is made while the HSM is there (its Km was unsealed in it); the batch comes after it left
            opened.await("(?m)^\\s*Cipher\\s*: PSK", Duration.ofSeconds(20));
            Files.move(dir, away);
            Api.awaitReadiness(status -> status == 503, Duration.ofSeconds(15));
            OpenSsl.Answer refused = OpenSsl.answer(opened.send(request));
            assertThat(refused.status()).as(refused.output()).isEqualTo(503);
            assertThat(refused.output()).contains("Retry-After: 5");
            assertThat(refused.body()).doesNotContain("keyValue");
            // and a new MAF session cannot be made meanwhile: its Km is sealed under an HSM key
            assertThatThrownBy(() -> d.maf(target, "POST", "/keyRetrieval", batch))
                    .hasMessageContaining("no HTTP answer");
        } finally {
            if (Files.exists(away)) {
                Files.move(away, dir);
            }
        }
        assertThat(auditEvents(d.tenant, "maf.key.retrieve"))
                .as("the refused batch retrieved nothing, so nothing is audited")
                .isEqualTo(auditedBefore);
        Api.awaitReadiness(status -> status == 200, Duration.ofSeconds(30));

        OpenSsl.Answer whole = d.maf(target, "POST", "/keyRetrieval", batch);
        assertThat(whole.status()).as(whole.output()).isEqualTo(200);
        List<Integer> statuses = whole.json().getList("results.status");
        assertThat(statuses).hasSize(20).containsOnly(200);
        for (int i = 0; i < 20; i++) {
            assertThat(Base64.getDecoder().decode(whole.json().getString("results[" + i + "].keyValue"))[0])
                    .isEqualTo((byte) i);
        }
        assertThat(auditEvents(d.tenant, "maf.key.retrieve")).isEqualTo(auditedBefore + 1);
    }

    /** The tenant's audit events with {@code action} (all of them: the tests make far fewer than the page). */
    private static int auditEvents(String tenant, String action) {
        List<String> actions = as(Tokens.auditor(tenant))
                .get("/api/v1/tenants/" + tenant + "/audit?limit=1000")
                .jsonPath()
                .getList("action");
        return (int) actions.stream().filter(action::equals).count();
    }
}
