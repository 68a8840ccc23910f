package io.m2mtrust.tls;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Fuzz targets for what a device sends the device listeners (issue 21): CBOR bodies over CoAP ({@link CborJson}) and
 * the TLS listener's HTTP/1.1 request codec ({@link DeviceHttp.Decoder}). The contract of each: a typed refusal
 * ({@link CborJson.MalformedCbor}, {@link DeviceHttp.BadRequest}) or a well-formed result — never another exception,
 * never unbounded work. The suite runs each from its corpus (src/test/resources/…/Inputs); {@code src/bin/fuzz} fuzzes.
 */
class DevicePeerInputFuzzTest {

    static final ObjectMapper JSON = new ObjectMapper();

    /** Strict CBOR: refused, or JSON that Jackson reads back and that CBOR writes again and reads to the same JSON. */
    @FuzzTest(maxDuration = "30s")
    void cbor_bodies_become_json_or_a_typed_refusal(byte[] cbor) throws Exception {
        byte[] json;
        try {
            json = CborJson.toJson(cbor);
        } catch (CborJson.MalformedCbor refused) {
            return;
        }
        var tree = JSON.readTree(json);
        assertThat(JSON.readTree(CborJson.toJson(CborJson.fromJson(json)))).isEqualTo(tree);
    }

    /**
     * The HTTP/1.1 codec fed in arbitrary chunks: requests within the limits, or {@link DeviceHttp.BadRequest}; the
     * number of requests out is bounded by the bytes in.
     */
    @FuzzTest(maxDuration = "30s")
    void http_requests_decode_or_get_a_typed_refusal(FuzzedDataProvider data) {
        DeviceHttp.Decoder decoder = new DeviceHttp.Decoder(8192, 65536);
        int fed = 0;
        int requests = 0;
        try {
            while (data.remainingBytes() > 0) {
                byte[] chunk = data.consumeBytes(data.consumeInt(1, 4096));
                decoder.feed(chunk, 0, chunk.length);
                fed += chunk.length;
                for (DeviceHttp.Request r; (r = decoder.next()) != null; ) {
                    requests++;
                    assertThat(r.method()).isNotEmpty();
                    assertThat(r.path()).startsWith("/");
                    assertThat(r.body().length).isLessThanOrEqualTo(65536);
                    assertThat(requests).isLessThanOrEqualTo(fed / 16 + 1); // a request line and a Host at least
                }
            }
        } catch (DeviceHttp.BadRequest refused) {
            assertThat(refused.getMessage()).isNotBlank();
        }
    }

    /**
     * A CoAP datagram's request as the DTLS listener maps it: Californium's parser refuses malformed messages
     * ({@code MessageFormatException}, before anything of ours runs); a request it accepts is mapped by
     * {@link CoapDeviceBridge} to the HTTP form, or refused with a CoAP code.
     */
    @FuzzTest(maxDuration = "30s")
    void coap_requests_map_or_get_a_coap_refusal(byte[] datagram) {
        org.eclipse.californium.core.coap.Message message;
        try {
            // as the listener's endpoint parses
            message = new CoapDatagramParser(
                            org.eclipse.californium.core.coap.option.StandardOptionRegistry.getDefaultOptionRegistry())
                    .parseMessage(datagram);
        } catch (org.eclipse.californium.core.coap.MessageFormatException libraryRefusal) {
            return;
        }
        if (!(message instanceof org.eclipse.californium.core.coap.Request request)) {
            return;
        }
        try {
            CoapDeviceBridge.Mapped mapped = CoapDeviceBridge.toDeviceRequest(request);
            assertThat(mapped.request().path()).startsWith("/");
        } catch (CoapDeviceBridge.Refused refused) {
            assertThat(refused.code.isClientError()).isTrue();
        }
    }
}
