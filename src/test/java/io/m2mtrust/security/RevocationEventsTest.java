package io.m2mtrust.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidTypeIdException;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

/**
 * Revocation events travel between replicas as JSON: each has a stable {@code type} and only names (no key
 * material), reads back equal, and an unknown type is refused rather than guessed.
 */
class RevocationEventsTest {

    static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void every_event_has_a_stable_json_form_and_reads_back_equal() throws Exception {
        List<Revocation> events = List.of(
                new IdentityRevoked("acme", List.of("kpm-1@mef.acme.example", "cse.acme.example"), "device.revoke-all"),
                new KeyRevoked(
                        "acme", KeyRevoked.Kind.ENROLMENT, List.of("0011@mef.acme.example"), "device.revoke-all"),
                new ClientRevoked("acme", "MAF", "reg-1", "/id-in/Capp"),
                new CertificateRevoked("acme", "0a1b", "cse.acme.example", 5));
        assertThat(JSON.writeValueAsString(events.get(0)))
                .isEqualTo(
                        "{\"type\":\"IdentityRevoked\",\"tenantId\":\"acme\","
                                + "\"identities\":[\"kpm-1@mef.acme.example\",\"cse.acme.example\"],\"cause\":\"device.revoke-all\"}");
        assertThat(JSON.writeValueAsString(events.get(3)))
                .isEqualTo("{\"type\":\"CertificateRevoked\",\"tenantId\":\"acme\",\"serial\":\"0a1b\","
                        + "\"subjectId\":\"cse.acme.example\",\"reasonCode\":5}");
        for (Revocation e : events) {
            assertThat(JSON.readValue(JSON.writeValueAsString(e), Revocation.class))
                    .isEqualTo(e);
        }
    }

    @Test
    void an_unknown_type_is_refused_and_lists_are_immutable_copies() {
        assertThatThrownBy(() ->
                        JSON.readValue("{\"type\":\"EverythingRevoked\",\"tenantId\":\"acme\"}", Revocation.class))
                .isInstanceOf(InvalidTypeIdException.class);
        List<String> ids = new ArrayList<>(List.of("a"));
        IdentityRevoked e = new IdentityRevoked("acme", ids, "test");
        ids.add("b");
        assertThat(e.identities()).containsExactly("a");
        assertThatThrownBy(() -> e.identities().add("c")).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void effects_add_up_by_kind() {
        RevocationEffects e = RevocationEffects.of(RevocationEffects.ENROLMENTS, 2)
                .plus(RevocationEffects.of(RevocationEffects.REGISTRATIONS, 3))
                .plus(RevocationEffects.of(RevocationEffects.ENROLMENTS, 1))
                .plus(RevocationEffects.NONE);
        assertThat(e.count(RevocationEffects.ENROLMENTS)).isEqualTo(3);
        assertThat(e.count(RevocationEffects.REGISTRATIONS)).isEqualTo(3);
        assertThat(e.count(RevocationEffects.ESCERTKE_KEYS)).isZero();
    }
}
