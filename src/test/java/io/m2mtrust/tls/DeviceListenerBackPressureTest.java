package io.m2mtrust.tls;

import static io.m2mtrust.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;

import io.m2mtrust.testsupport.Api;
import io.m2mtrust.testsupport.OpenSsl;
import io.m2mtrust.testsupport.OpenSslClient;
import io.m2mtrust.testsupport.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real OpenSSL client pipelines far more than the listener's per-connection pause threshold (many
 * MiB of requests without waiting): the connection is paused and resumed, every request is answered in
 * order, and the listener keeps serving other devices.
 */
@QuarkusTest
class DeviceListenerBackPressureTest {

    static final String T = "flood-co";
    static final String MEF = "mef.flood-co.m2m-trust.local";

    @Inject
    DeviceTlsListener listener;

    @Inject
    io.micrometer.core.instrument.MeterRegistry registry;

    @Test
    void pipelined_flood_is_paused_resumed_and_answered_in_order() throws Exception {
        Api.createTenant(T);
        as(Tokens.tenantAdmin(T))
                .body(Map.of("id", "g", "name", "g"))
                .post("/api/v1/tenants/" + T + "/enrolment-groups")
                .then()
                .statusCode(201);
        as(Tokens.tenantAdmin(T))
                .body(Map.of("deviceIds", List.of("f-1", "f-2")))
                .post("/api/v1/tenants/" + T + "/enrolment-groups/g/devices")
                .then()
                .statusCode(200);
        var policy = as(Tokens.tenantAdmin(T)).get("/api/v1/tenants/" + T + "/policy");
        Map<String, Object> doc = policy.jsonPath().getMap("");
        doc.put("allowHostMemoryKeys", true);
        // the flood is 20,001 requests at once: the tenant's quota is not what this test is about
        doc.put("requestQuotaPerSecond", 1_000_000);
        doc.put("requestBurst", 1_000_000);
        as(Tokens.tenantAdmin(T))
                .header("If-Match", policy.header("ETag"))
                .body(doc)
                .put("/api/v1/tenants/" + T + "/policy")
                .then()
                .statusCode(200);
        JsonPath f1 = as(Tokens.tenantAdmin(T))
                .post("/api/v1/tenants/" + T + "/enrolment-groups/g/devices/f-1/kpm-export")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        JsonPath f2 = as(Tokens.tenantAdmin(T))
                .post("/api/v1/tenants/" + T + "/enrolment-groups/g/devices/f-2/kpm-export")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();

        int n = 20_000;
        ByteArrayOutputStream flood = new ByteArrayOutputStream();
        String padding = "x".repeat(200);
        for (int i = 0; i < n; i++) {
            flood.writeBytes(
                    ("GET /no-such-resource-" + i + " HTTP/1.1\r\nHost: " + MEF + "\r\nX-Pad: " + padding + "\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
        }
        flood.writeBytes(OpenSslClient.get(MEF, "/last").getBytes(StandardCharsets.US_ASCII));
        assertThat(flood.size()).isGreaterThan((int) (10 * DeviceConnection.PAUSE_AT));

        double pausesBefore = registry.get("m2m.device_tls.pauses").counter().count();
        OpenSslClient.Result r;
        try (OpenSsl.Session s = OpenSsl.start(OpenSsl.withPsk(
                OpenSsl.sClient(listener.port(), MEF),
                f1.getString("kpmId"),
                Base64.getDecoder().decode(f1.getString("kpm"))))) {
            s.await("(?m)^\\s*Cipher\\s*: PSK", Duration.ofSeconds(20));
            r = s.send(flood.toByteArray());
        }
        Matcher m = Pattern.compile("HTTP/1\\.1 404").matcher(r.output());
        int answered = 0;
        while (m.find()) {
            answered++;
        }
        assertThat(answered).as("every pipelined request answered").isEqualTo(n + 1);
        assertThat(r.output()).contains("closed");
        assertThat(registry.get("m2m.device_tls.pauses").counter().count())
                .as("the connection was paused at least once")
                .isGreaterThan(pausesBefore);

        // the listener still serves another device at once
        OpenSslClient.Result other = OpenSslClient.pskRequest(
                listener.port(),
                MEF,
                f2.getString("kpmId"),
                Base64.getDecoder().decode(f2.getString("kpm")),
                "PSK-AES128-CBC-SHA256",
                null,
                OpenSslClient.post(MEF, "/enrolment", "{}"));
        assertThat(other.httpStatus()).as(other.output()).isEqualTo(201);
    }
}
