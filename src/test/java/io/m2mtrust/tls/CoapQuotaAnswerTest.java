package io.m2mtrust.tls;

import static org.assertj.core.api.Assertions.assertThat;

import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.Response;
import org.junit.jupiter.api.Test;

import java.util.Map;

/** A quota refusal over DTLS (issue 21): 4.29 Too Many Requests with Max-Age as the retry delay (RFC 8516 §4). */
class CoapQuotaAnswerTest {

    @Test
    void a_429_with_retry_after_becomes_4_29_with_max_age() {
        CoapDeviceBridge.Mapped request = new CoapDeviceBridge.Mapped(
                new DeviceHttp.Request("GET", "/keyRetrieval/x", Map.of(), new byte[0]), CoAP.Code.GET, true, false);
        Response r = CoapDeviceBridge.toCoapResponse(
                request, DeviceHttp.Response.tooManyRequests("the tenant is over its maf quota; retry later", 2));
        assertThat(r.getCode()).isEqualTo(CoAP.ResponseCode.TOO_MANY_REQUESTS);
        assertThat(r.getOptions().getMaxAge()).isEqualTo(2L);
        assertThat(r.getOptions().getContentFormat()).isEqualTo(60); // CBOR, as the device asked
    }

    @Test
    void the_http_form_says_retry_after() {
        String head = new String(
                DeviceHttp.Response.tooManyRequests("over quota", 3).encode(false),
                java.nio.charset.StandardCharsets.US_ASCII);
        assertThat(head).startsWith("HTTP/1.1 429 Too Many Requests\r\n").contains("\r\nRetry-After: 3\r\n");
    }
}
