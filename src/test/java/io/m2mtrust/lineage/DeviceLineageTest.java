package io.m2mtrust.lineage;

import static io.m2mtrust.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;

import io.m2mtrust.testsupport.MafDevices;
import io.m2mtrust.testsupport.OpenSsl;
import io.m2mtrust.testsupport.Tokens;
import io.m2mtrust.tls.DeviceTlsListener;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Base64;
import java.util.List;

/**
 * A device's key lineage with a real OpenSSL enrolee (MEF enrolment → KeID → MAF registration → Km → registered
 * key), and the cascading revoke: the device is denied, the enrolment revoked, the MAF registration and its key
 * deleted, and the Km no longer completes a handshake.
 */
@QuarkusTest
class DeviceLineageTest {

    static final String T = "lineage-co";

    @Inject
    DeviceTlsListener listener;

    @Test
    void lineage_from_enrolment_to_registered_keys_and_the_cascading_revoke() throws Exception {
        MafDevices fleet = MafDevices.create(T, listener.port(), List.of("meter"), doc -> {});
        MafDevices.Device meter = fleet.enrolAndRegister("meter");
        OpenSsl.Answer reg = fleet.maf(
                meter,
                "POST",
                "/keyRegistration",
                OpenSsl.keyRegistration(
                        "mafFqdn",
                        fleet.maf,
                        fleet.admin,
                        34,
                        List.of("app.lineage.example"),
                        Base64.getEncoder().encodeToString(new byte[64]),
                        Instant.now().plusSeconds(3600)));
        assertThat(reg.status()).as(reg.output()).isEqualTo(201);
        String kid = reg.json().getString("keyIdentifier");
        String path = "/api/v1/tenants/" + T + "/enrolment-groups/dev/devices/meter";

        JsonPath l = as(Tokens.auditor(T))
                .get(path + "/lineage")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        assertThat(l.getList("kpmIds", String.class)).contains(meter.kpmId());
        assertThat(l.getString("enrolments[0].keId")).isEqualTo(meter.keId());
        assertThat(l.getString("enrolments[0].status")).isEqualTo("ACTIVE");
        assertThat(l.getString("enrolments[0].registrations[0].registrar")).isEqualTo("MAF");
        assertThat(l.getString("enrolments[0].registrations[0].kmId")).isEqualTo(meter.kmId());
        assertThat(l.getString("enrolments[0].registrations[0].keys[0].keyIdentifier"))
                .isEqualTo(kid);
        assertThat(l.prettify()).doesNotContain("keyValue");

        as(Tokens.auditor(T)).post(path + "/revoke-all").then().statusCode(403);
        JsonPath r = as(Tokens.tenantAdmin(T))
                .post(path + "/revoke-all")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        assertThat(r.getInt("enrolments")).isEqualTo(1);
        assertThat(r.getInt("registrations")).isEqualTo(1);

        JsonPath after = as(Tokens.auditor(T))
                .get(path + "/lineage")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        assertThat(after.getString("status")).isEqualTo("DENIED");
        assertThat(after.getString("enrolments[0].status")).isEqualTo("REVOKED");
        assertThat(after.getList("enrolments[0].registrations")).isEmpty();
        // the Km is gone with the registration: the MAF no longer knows the KmID, the TLS-PSK handshake fails
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> fleet.maf(meter, "GET", "/keyRetrieval/" + kid.substring(0, kid.indexOf('@')), null))
                .hasMessageContaining("unknown psk identity");
        assertThat(as(Tokens.auditor(T))
                        .get("/api/v1/tenants/" + T + "/audit?limit=1000")
                        .jsonPath()
                        .getList("action", String.class))
                .contains("device.revoke-all");
        as(Tokens.auditor(T))
                .get("/api/v1/tenants/" + T + "/enrolment-groups/dev/devices/ghost/lineage")
                .then()
                .statusCode(404);
        as(Tokens.tenantAdmin("someone-else")).get(path + "/lineage").then().statusCode(404);
    }
}
