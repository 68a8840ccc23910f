package io.m2mtrust.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.Response;
import org.junit.jupiter.api.Test;

import java.util.Map;

/** The proxy's quota refusal in its CoAP binding (issue 21): 4.29, oneM2M-RSC 5000, the RQI echoed, Max-Age. */
class ProxyQuotaAnswerTest {

    @Test
    void over_quota_is_4_29_with_rsc_5000_and_max_age() {
        ProxyService.Outgoing out = ProxyService.overQuota("proxy", 1, "rq-7");
        assertThat(out.httpStatus()).isEqualTo(429);
        assertThat(out.rsc()).isEqualTo(5000);
        Response r = ProxyCoapBinding.toCoap(out, CoAP.Code.GET, false, Map.of("X-M2M-RI", "rq-7"));
        assertThat(r.getCode()).isEqualTo(CoAP.ResponseCode.TOO_MANY_REQUESTS);
        assertThat(r.getOptions().getMaxAge()).isEqualTo(1L);
        assertThat(r.getOptions().getOthers()).anySatisfy(o -> {
            assertThat(o.getNumber()).isEqualTo(ProxyCoapBinding.RSC.getNumber());
            assertThat(o.getIntegerValue()).isEqualTo(5000);
        });
    }
}
