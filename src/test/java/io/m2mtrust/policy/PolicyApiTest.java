package io.m2mtrust.policy;

import static io.m2mtrust.testsupport.Api.as;
import static io.m2mtrust.testsupport.Api.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import io.m2mtrust.testsupport.Api;
import io.m2mtrust.testsupport.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

@QuarkusTest
class PolicyApiTest {

    static final String T = "policy-co";
    static final String PATH = "/api/v1/tenants/" + T + "/policy";

    @BeforeEach
    void tenant() {
        Api.ensureTenant(T);
    }

    Map<String, Object> valid() {
        Map<String, Object> m = new HashMap<>();
        m.put("allowedSuids", List.of(12, 13, 32, 33, 34, 35));
        m.put("joseAlgs", List.of("dir", "A256KW", "ES256"));
        m.put("joseEncs", List.of("A256GCM"));
        m.put("tlsCipherSuites", List.of("TLS_PSK_WITH_AES_128_CBC_SHA256", "TLS_PSK_WITH_AES_128_GCM_SHA256"));
        m.put("defaultKeyLifetimeSeconds", 3600);
        m.put("maxKeyLifetimeSeconds", 86400);
        m.put("maxEsdataTargets", 8);
        m.put("requestQuotaPerSecond", 500);
        m.put("allowHostMemoryKeys", false);
        return m;
    }

    String etag() {
        return as(Tokens.tenantAdmin(T)).get(PATH).header("ETag");
    }

    @Test
    void quota_fields_default_from_the_request_quota_and_can_be_set_apart() {
        Response r = as(Tokens.tenantAdmin(T))
                .header("If-Match", etag())
                .body(valid())
                .put(PATH);
        assertThat(r.statusCode()).isEqualTo(200);
        // absent: a burst of twice the rate, the HSM quota at the request quota
        assertThat(r.jsonPath().getInt("requestBurst")).isEqualTo(1000);
        assertThat(r.jsonPath().getInt("hsmQuotaPerSecond")).isEqualTo(500);
        assertThat(r.jsonPath().getInt("hsmBurst")).isEqualTo(1000);

        Map<String, Object> apart = valid();
        apart.put("requestBurst", 50);
        apart.put("hsmQuotaPerSecond", 20);
        apart.put("hsmBurst", 40);
        Response r2 =
                as(Tokens.tenantAdmin(T)).header("If-Match", etag()).body(apart).put(PATH);
        assertThat(r2.statusCode()).isEqualTo(200);
        Response read = as(Tokens.auditor(T)).get(PATH);
        assertThat(read.jsonPath().getInt("requestBurst")).isEqualTo(50);
        assertThat(read.jsonPath().getInt("hsmQuotaPerSecond")).isEqualTo(20);
        assertThat(read.jsonPath().getInt("hsmBurst")).isEqualTo(40);
    }

    @Test
    void defaults_allow_every_suid_and_never_alg_none() {
        Response r = as(Tokens.auditor(T)).get(PATH);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.header("ETag")).matches("\"v\\d+\"");
        assertThat(r.jsonPath().getList("joseAlgs")).doesNotContain("none");
    }

    @Test
    void tenant_admin_replaces_the_policy_with_if_match_and_gets_a_new_etag_and_an_audit_event() {
        String before = etag();
        Response r = as(Tokens.tenantAdmin(T))
                .header("If-Match", before)
                .body(valid())
                .put(PATH);
        assertThat(r.statusCode()).as(r.asString()).isEqualTo(200);
        assertThat(r.header("ETag")).isNotEqualTo(before);
        assertThat(r.jsonPath().getList("allowedSuids")).containsExactly(12, 13, 32, 33, 34, 35);
        List<String> details = as(Tokens.auditor(T))
                .get("/api/v1/tenants/" + T + "/audit?limit=1000")
                .jsonPath()
                .getList("detail");
        assertThat(details.get(details.size() - 1)).startsWith("changed:");
    }

    @Test
    void stale_if_match_is_412_and_keeps_the_other_writers_change() {
        String old = etag();
        Map<String, Object> first = valid();
        first.put("maxEsdataTargets", 5);
        as(Tokens.tenantAdmin(T))
                .header("If-Match", old)
                .body(first)
                .put(PATH)
                .then()
                .statusCode(200);
        Map<String, Object> second = valid();
        second.put("maxEsdataTargets", 9);
        assertProblem(
                as(Tokens.tenantAdmin(T)).header("If-Match", old).body(second).put(PATH), 412, "precondition-failed");
        assertThat(as(Tokens.auditor(T)).get(PATH).jsonPath().getInt("maxEsdataTargets"))
                .isEqualTo(5);
        Response last = as(Tokens.auditor(T)).get("/api/v1/tenants/" + T + "/audit?limit=1000");
        assertThat(last.jsonPath().getList("outcome")).last().isEqualTo("FAILURE");
        assertThat(last.jsonPath()
                        .getList("detail")
                        .get(last.jsonPath().getList("detail").size() - 1)
                        .toString())
                .startsWith("412 ");
    }

    @Test
    void missing_if_match_is_428() {
        assertProblem(as(Tokens.tenantAdmin(T)).body(valid()).put(PATH), 428, "precondition-required");
    }

    @Test
    void out_of_range_and_unknown_values_are_400_with_field_errors_and_nothing_changes() {
        String etag = etag();
        int events = auditCount();
        Map<String, Object> bad = valid();
        bad.put("allowedSuids", List.of(12, 99));
        bad.put("joseAlgs", List.of("none", "HS1"));
        bad.put("joseEncs", List.of("A128CBC"));
        bad.put("tlsCipherSuites", List.of("TLS_RSA_WITH_RC4_128_MD5"));
        bad.put("defaultKeyLifetimeSeconds", 90000);
        Response r =
                as(Tokens.tenantAdmin(T)).header("If-Match", etag).body(bad).put(PATH);
        assertProblem(r, 400, "validation");
        assertThat(r.jsonPath().getList("errors.field"))
                .contains("allowedSuids", "joseAlgs", "joseEncs", "tlsCipherSuites", "defaultKeyLifetimeSeconds");
        assertThat(r.jsonPath().getList("errors.message").toString()).contains("'none' is never allowed");

        Map<String, Object> range = valid();
        range.put("maxEsdataTargets", 0);
        range.put("requestQuotaPerSecond", 10_000_000);
        range.put("maxKeyLifetimeSeconds", 5);
        range.put("requestBurst", 0);
        range.put("hsmQuotaPerSecond", -1);
        range.put("hsmBurst", 20_000_000);
        Response r2 =
                as(Tokens.tenantAdmin(T)).header("If-Match", etag).body(range).put(PATH);
        assertProblem(r2, 400, "validation");
        assertThat(r2.jsonPath().getList("errors.field"))
                .contains(
                        "maxEsdataTargets",
                        "requestQuotaPerSecond",
                        "maxKeyLifetimeSeconds",
                        "requestBurst",
                        "hsmQuotaPerSecond",
                        "hsmBurst");

        Map<String, Object> missing = valid();
        missing.remove("joseEncs");
        assertProblem(
                as(Tokens.tenantAdmin(T)).header("If-Match", etag).body(missing).put(PATH), 400, "validation");

        // the policy is untouched; each refusal is chained as a FAILURE event, nothing else
        assertThat(etag()).isEqualTo(etag);
        Response audit = as(Tokens.auditor(T)).get("/api/v1/tenants/" + T + "/audit?limit=1000&afterSeq=" + events);
        assertThat(audit.jsonPath().getList("action"))
                .containsOnly("policy.update")
                .hasSize(3);
        assertThat(audit.jsonPath().getList("outcome")).containsOnly("FAILURE");
        assertThat(audit.jsonPath().getString("[0].detail")).startsWith("400 ");
    }

    @Test
    void wrong_types_are_400() {
        Map<String, Object> bad = valid();
        bad.put("maxEsdataTargets", "lots");
        assertProblem(
                as(Tokens.tenantAdmin(T)).header("If-Match", etag()).body(bad).put(PATH), 400, "malformed-json");
    }

    int auditCount() {
        java.util.List<Integer> seqs = as(Tokens.auditor(T))
                .get("/api/v1/tenants/" + T + "/audit?limit=1000")
                .jsonPath()
                .getList("seq");
        return seqs.get(seqs.size() - 1);
    }
}
