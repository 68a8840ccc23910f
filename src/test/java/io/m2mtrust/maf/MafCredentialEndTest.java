package io.m2mtrust.maf;

import static io.m2mtrust.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.m2mtrust.testsupport.MafDevices;
import io.m2mtrust.testsupport.OpenSsl;
import io.m2mtrust.testsupport.Tokens;
import io.m2mtrust.tls.DeviceTlsListener;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

/**
 * When a device's credentials end (issue 22), with OpenSSL as the device: a deny ends its KeID, its KmID and the SAEF
 * key it registered at the next handshake, on the MEF, MAF and SAEF, audited; a re-enrolment ends the KmID derived from
 * the replaced Ke; and a KmID is accepted in any letter case (TS-0003 §10.6).
 */
@QuarkusTest
class MafCredentialEndTest {

    static final String T = "maf-end-co";
    static final String CSE = "cse." + T + ".m2m-trust.local";
    static final String NO_KEY = "/keyRetrieval/" + "0".repeat(32);

    @Inject
    DeviceTlsListener listener;

    static MafDevices fleet;

    MafDevices fleet() {
        if (fleet == null) {
            fleet = MafDevices.create(T, listener.port(), List.of("deny-me", "re-enrol", "upper"), doc -> {});
        }
        return fleet;
    }

    /** One request in a fresh TLS-PSK session; a handshake the service refuses throws. */
    OpenSsl.Answer call(String host, String identity, byte[] psk, String method, String path, String json)
            throws Exception {
        return OpenSsl.pskCall(listener.port(), host, identity, psk, method, path, json);
    }

    @Test
    void a_deny_ends_the_keid_the_kmid_and_the_saef_key_at_the_next_handshake_and_says_so_in_the_audit()
            throws Exception {
        MafDevices d = fleet();
        MafDevices.Device device = d.enrolAndRegister("deny-me");
        byte[] value = new byte[64];
        new SecureRandom().nextBytes(value);
        OpenSsl.Answer saef = d.maf(
                device,
                "POST",
                "/keyRegistration",
                OpenSsl.keyRegistration(
                        "mafFqdn",
                        d.maf,
                        d.admin,
                        32,
                        List.of(CSE),
                        Base64.getEncoder().encodeToString(value),
                        Instant.now().plusSeconds(3600)));
        assertThat(saef.status()).as(saef.output()).isEqualTo(201);
        String keyIdentifier = saef.json().getString("keyIdentifier");
        byte[] saefPsk = Arrays.copyOf(value, 32);
        // before: every credential opens its session
        assertThat(d.maf(device, "GET", NO_KEY, null).status()).isEqualTo(404);
        assertThat(call(d.maf, device.keId(), device.km(), "GET", NO_KEY, null).status())
                .isEqualTo(404);
        assertThat(call(CSE, keyIdentifier, saefPsk, "GET", "/association", null)
                        .status())
                .isEqualTo(200);

        as(Tokens.tenantAdmin(T))
                .post("/api/v1/tenants/" + T + "/enrolment-groups/dev/devices/deny-me/deny")
                .then()
                .statusCode(204);

        assertThatThrownBy(() -> d.maf(device, "GET", NO_KEY, null))
                .as("the KmID")
                .hasMessageContaining("unknown psk identity");
        assertThatThrownBy(() -> call(d.maf, device.keId(), device.km(), "POST", "/clientRegistration", "{}"))
                .as("the KeID: no new registration, no new KmID")
                .hasMessageContaining("unknown psk identity");
        assertThatThrownBy(() -> call(CSE, keyIdentifier, saefPsk, "GET", "/association", null))
                .as("the SAEF key the device registered")
                .hasMessageContaining("unknown psk identity");
        assertThatThrownBy(
                        () -> call(d.mef, d.kpmIds.get("deny-me"), d.kpms.get("deny-me"), "POST", "/enrolment", "{}"))
                .as("the MEF")
                .hasMessageContaining("alert");
        String detail = as(Tokens.auditor(T))
                .get("/api/v1/tenants/" + T + "/audit?limit=1000")
                .jsonPath()
                .getString("find { it.action == 'device.deny' }.detail");
        assertThat(detail).contains("1 enrolments revoked").contains("1 client registrations");

        // allowed again, the device enrols anew; what the deny ended stays ended
        as(Tokens.tenantAdmin(T))
                .post("/api/v1/tenants/" + T + "/enrolment-groups/dev/devices/deny-me/allow")
                .then()
                .statusCode(204);
        MafDevices.Device again = d.enrolAndRegister("deny-me");
        assertThat(again.kmId()).isNotEqualTo(device.kmId());
        assertThat(d.maf(again, "GET", NO_KEY, null).status()).isEqualTo(404);
        assertThatThrownBy(() -> d.maf(device, "GET", NO_KEY, null)).hasMessageContaining("unknown psk identity");
    }

    @Test
    void a_re_enrolment_ends_the_kmid_derived_from_the_replaced_ke() throws Exception {
        MafDevices d = fleet();
        MafDevices.Device first = d.enrolAndRegister("re-enrol");
        assertThat(d.maf(first, "GET", NO_KEY, null).status()).isEqualTo(404);
        // enrolled again at the MEF only: a new Ke replaces the first, the MAF registration is untouched
        OpenSsl.Answer enrolled =
                call(d.mef, d.kpmIds.get("re-enrol"), d.kpms.get("re-enrol"), "POST", "/enrolment", "{}");
        assertThat(enrolled.status()).as(enrolled.output()).isEqualTo(201);
        assertThatThrownBy(() -> d.maf(first, "GET", NO_KEY, null))
                .as("the KmID of the replaced Ke")
                .hasMessageContaining("unknown psk identity");
        assertThatThrownBy(() -> call(d.maf, first.keId(), first.km(), "GET", NO_KEY, null))
                .as("the replaced KeID")
                .hasMessageContaining("unknown psk identity");
        // registered with the new KeID, the device has a KmID that works
        MafDevices.Device second = d.enrolAndRegister("re-enrol");
        assertThat(second.kmId()).isNotEqualTo(first.kmId());
        assertThat(d.maf(second, "GET", NO_KEY, null).status()).isEqualTo(404);
    }

    @Test
    void a_kmid_is_not_case_sensitive() throws Exception {
        MafDevices d = fleet();
        MafDevices.Device device = d.enrolAndRegister("upper");
        String relative = device.kmId().substring(0, device.kmId().indexOf('@'));
        String upper = relative.toUpperCase(Locale.ROOT) + device.kmId().substring(relative.length());
        assertThat(upper).isNotEqualTo(device.kmId());
        OpenSsl.Answer a = call(d.maf, upper, device.km(), "GET", NO_KEY, null);
        assertThat(a.status()).as(a.output()).isEqualTo(404); // the session opened; no such key
        // a wrong Km under the upper-case KmID is still refused
        byte[] wrong = device.km().clone();
        wrong[0] ^= 1;
        assertThatThrownBy(() -> call(d.maf, upper, wrong, "GET", NO_KEY, null)).hasMessageContaining("bad record mac");
    }
}
