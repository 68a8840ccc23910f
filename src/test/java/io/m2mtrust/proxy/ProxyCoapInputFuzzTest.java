package io.m2mtrust.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.eclipse.californium.core.coap.Message;
import org.eclipse.californium.core.coap.MessageFormatException;
import org.eclipse.californium.core.coap.Request;

/**
 * Fuzz target for oneM2M primitives over CoAP (issue 21): a datagram parsed with TS-0008's options registered (as the
 * binding's endpoint does), then translated to the HTTP binding's form. The contract: Californium's
 * {@link MessageFormatException} for a malformed message, {@link ProxyCoapBinding.Refused} with a 4.xx code, or an
 * incoming primitive for a tenant with a CSE-relative path, no segment empty, "." or ".." — never another exception.
 */
class ProxyCoapInputFuzzTest {

    @FuzzTest(maxDuration = "30s")
    void primitives_over_coap_translate_or_get_a_coap_refusal(byte[] datagram) {
        Message message;
        try {
            message = new io.m2mtrust.tls.CoapDatagramParser(ProxyCoapBinding.registry()).parseMessage(datagram);
        } catch (MessageFormatException libraryRefusal) {
            return;
        }
        if (!(message instanceof Request request)) {
            return;
        }
        try {
            ProxyCoapBinding.Translated t = ProxyCoapBinding.translate(request);
            assertThat(t.tenant()).isNotEmpty();
            assertThat(t.incoming().path()).doesNotStartWith("/");
            // no segment climbs out of the CSE (a name may contain dots: "cs..in" is a name)
            assertThat(t.incoming().path().split("/")).doesNotContain("..", ".", "");
        } catch (ProxyCoapBinding.Refused refused) {
            assertThat(refused.code.isClientError()).isTrue();
        }
    }
}
