package io.m2mtrust.common;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Which tenant a proxy path charges to its share of the proxy lane (issue 21, ADR 0027). */
class AdmissionPathsTest {

    @Test
    void the_tenant_is_the_segment_after_the_binding_prefix() {
        assertThat(Admission.proxyTenant("/onem2m/acme/cse-in")).isEqualTo("acme");
        assertThat(Admission.proxyTenant("/onem2m-out/acme/remote/cse-b")).isEqualTo("acme");
    }

    @Test
    void a_path_without_a_resource_has_no_tenant_and_a_long_name_is_cut() {
        assertThat(Admission.proxyTenant("/onem2m/acme")).isNull();
        assertThat(Admission.proxyTenant("/onem2m//cse-in")).isNull();
        assertThat(Admission.proxyTenant("/onem2m/" + "x".repeat(500) + "/cse-in"))
                .hasSize(64);
    }
}
