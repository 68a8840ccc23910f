package io.m2mtrust.quota;

import static io.m2mtrust.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.m2mtrust.bench.EnrolmentLoadDriver;
import io.m2mtrust.bench.MafLoad;
import io.m2mtrust.common.QuotaExceededException;
import io.m2mtrust.testsupport.Api;
import io.m2mtrust.testsupport.MafDevices;
import io.m2mtrust.testsupport.OpenSsl;
import io.m2mtrust.testsupport.Policies;
import io.m2mtrust.testsupport.Tokens;
import io.m2mtrust.tls.DeviceDtlsListener;
import io.m2mtrust.tls.DeviceTlsListener;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How a tenant over its quota is answered at each door (issue 21, ADR 0026), while another tenant is served: 429 with
 * Retry-After on the device listener's HTTP (and no new TLS or DTLS session while the bucket is known empty), a problem+json
 * 429 on the ESData API, HTTP 429 with oneM2M 5000 on the proxy.
 */
@QuarkusTest
class QuotaRefusalsTest {

    static final String NO_KEY = "/keyRetrieval/" + "0".repeat(32);

    @Inject
    DeviceTlsListener listener;

    @Inject
    TenantQuotas quotas;

    @Inject
    DeviceDtlsListener dtls;

    @Test
    void a_device_of_a_tenant_over_its_maf_quota_gets_429_while_another_tenant_is_served() throws Exception {
        MafDevices noisy = MafDevices.create("quota-noisy", listener.port(), List.of("n-1"), doc -> {});
        MafDevices calm = MafDevices.create("quota-calm", listener.port(), List.of("c-1"), doc -> {});
        MafDevices.Device n = noisy.enrolAndRegister("n-1");
        MafDevices.Device c = calm.enrolAndRegister("c-1");
        Policies.quotas("quota-noisy", 1, 3, 1000, 2000);
        int admitted = 0;
        String refusalHead = null;
        String refusalBody = null;
        long t0 = System.nanoTime();
        try (MafLoad.Session s = session(noisy, n)) {
            for (int i = 0; i < 20; i++) {
                int status = s.exchange("GET", NO_KEY, null);
                if (status == 429) {
                    refusalHead = s.lastHead;
                    refusalBody = s.lastBody;
                } else {
                    assertThat(status).isEqualTo(404);
                    admitted++;
                }
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertThat(admitted).isLessThanOrEqualTo(3 + (int) Math.ceil(seconds));
        assertThat(refusalHead)
                .as("20 requests in %.1f s at 1/s, burst 3", seconds)
                .isNotNull();
        Matcher retry = Pattern.compile("(?i)retry-after: (\\d+)").matcher(refusalHead);
        assertThat(retry.find()).isTrue();
        assertThat(Long.parseLong(retry.group(1))).isBetween(1L, 2L);
        assertThat(refusalBody).contains("quota").doesNotContain("Exception");
        // while the bucket is known empty, a new session of the tenant is refused in the handshake (no PSK lookup); the
        // bucket is emptied right before each try, and a try may still land just as a token comes back
        IOException handshakeRefused = null;
        for (int attempt = 0; attempt < 10 && handshakeRefused == null; attempt++) {
            assertThatThrownBy(() -> {
                        while (true) {
                            quotas.admit("quota-noisy", QuotaBucket.MAF);
                        }
                    })
                    .isInstanceOf(QuotaExceededException.class);
            try {
                session(noisy, n).close();
            } catch (IOException e) {
                handshakeRefused = e;
            }
        }
        assertThat(handshakeRefused).isNotNull();
        assertThat(handshakeRefused.getMessage()).contains("internal_error");
        // the other tenant's device is served as if nothing happened
        try (MafLoad.Session s = session(calm, c)) {
            for (int i = 0; i < 5; i++) {
                assertThat(s.exchange("GET", NO_KEY, null)).isEqualTo(404);
            }
        }
    }

    @Test
    void a_dtls_handshake_of_a_tenant_whose_bucket_is_empty_is_refused_while_another_tenant_handshakes()
            throws Exception {
        MafDevices noisy = MafDevices.create("quota-dtls-noisy", listener.port(), List.of("n-1"), doc -> {});
        MafDevices calm = MafDevices.create("quota-dtls-calm", listener.port(), List.of("c-1"), doc -> {});
        Policies.quotas("quota-dtls-noisy", 1, 1, 1000, 2000);
        // the bucket is emptied right before each try; a try may still land just as a token comes back (1/s)
        String refusal = null;
        for (int attempt = 0; attempt < 10 && refusal == null; attempt++) {
            assertThatThrownBy(() -> {
                        while (true) {
                            quotas.admit("quota-dtls-noisy", QuotaBucket.MEF);
                        }
                    })
                    .isInstanceOf(QuotaExceededException.class);
            try (OpenSsl.Session s = dtlsHandshake(noisy, "n-1")) {
                // s_client prints its session block even after a failed handshake: the alert is what tells
                refusal = s.await("(alert [a-z ]+)", Duration.ofSeconds(3));
            } catch (IllegalStateException noAlert) {
                // the handshake went through: a token had come back meanwhile
            }
        }
        // the device's own Kpm, refused: Scandium ends a handshake without a PSK as one with a wrong PSK
        // (decrypt_error)
        assertThat(refusal)
                .as("no DTLS session for a tenant over its MEF quota")
                .isEqualTo("alert decrypt error");
        try (OpenSsl.Session s = dtlsHandshake(calm, "c-1")) {
            s.await("(?m)^\\s*Cipher\\s*: PSK", Duration.ofSeconds(15));
            Thread.sleep(500);
            assertThat(s.output()).doesNotContain("alert");
        }
    }

    private OpenSsl.Session dtlsHandshake(MafDevices fleet, String device) throws Exception {
        return OpenSsl.start(OpenSsl.withPsk(
                OpenSsl.sClientDtls(dtls.port(), fleet.mef),
                fleet.kpmIds.get(device),
                fleet.kpms.get(device),
                "PSK-AES128-CCM8"));
    }

    @Test
    void the_esdata_api_answers_a_problem_with_retry_after() {
        String t = Api.ensureTenant("quota-api");
        Policies.quotas(t, 1, 1, 1000, 2000);
        Response first = protect(t);
        assertThat(first.statusCode()).isEqualTo(404); // admitted: no such end-point
        Response refused = protect(t);
        Api.assertProblem(refused, 429, "quota-exceeded");
        assertThat(refused.header("Retry-After")).matches("[12]");
        assertThat(refused.jsonPath().getString("detail"))
                .contains("esdata quota")
                .contains("nothing was changed");
    }

    @Test
    void the_proxy_answers_http_429_with_oneM2M_5000() {
        String t = Api.ensureTenant("quota-proxy");
        Policies.quotas(t, 1, 1, 1000, 2000);
        Response first = retrieve(t);
        assertThat(first.header("X-M2M-RSC")).isEqualTo("4004"); // admitted: no proxy configured
        Response refused = retrieve(t);
        assertThat(refused.statusCode()).isEqualTo(429);
        assertThat(refused.header("X-M2M-RSC")).isEqualTo("5000");
        assertThat(refused.header("X-M2M-RI")).isEqualTo("q-1");
        assertThat(refused.header("Retry-After")).matches("[12]");
    }

    private static Response protect(String t) {
        return as(Tokens.tenantAdmin(t)).body(Map.of()).post("/api/v1/tenants/" + t + "/endpoints/none/esdata/protect");
    }

    private static Response retrieve(String t) {
        return io.restassured.RestAssured.given()
                .header("X-M2M-Origin", "CAdmin")
                .header("X-M2M-RI", "q-1")
                .header("Accept", "application/json")
                .get("/onem2m/" + t + "/cse-in");
    }

    private MafLoad.Session session(MafDevices fleet, MafDevices.Device d) throws IOException {
        return new MafLoad.Session(
                listener.port(), fleet.maf, new EnrolmentLoadDriver.Provisioned(d.kmId(), d.km()), null, 0, null);
    }
}
