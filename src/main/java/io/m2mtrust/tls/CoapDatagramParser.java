package io.m2mtrust.tls;

import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.CoAPMessageFormatException;
import org.eclipse.californium.core.coap.Message;
import org.eclipse.californium.core.coap.MessageFormatException;
import org.eclipse.californium.core.coap.option.OptionRegistry;
import org.eclipse.californium.core.network.serialization.UdpDataParser;
import org.eclipse.californium.elements.util.DatagramReader;

/**
 * Californium's UDP parser (strict empty messages, as its endpoints configure it), except that a message its own checks
 * refuse with an {@link IllegalStateException} — a Block1 or Block2 payload larger than the block size it announces,
 * found by fuzzing (docs/fuzzing.md, finding 2) — is a CoAP format error like any other: the endpoint answers a
 * confirmable request with 4.00 and drops the rest, instead of the exception leaving its receive path (Californium's
 * endpoint catches only {@link MessageFormatException}). Used by the DTLS listener and the proxy's CoAP binding.
 */
public final class CoapDatagramParser extends UdpDataParser {

    public CoapDatagramParser(OptionRegistry registry) {
        super(true, registry);
    }

    @Override
    public void parseOptionsAndPayload(DatagramReader reader, Message message) {
        try {
            super.parseOptionsAndPayload(reader, message);
        } catch (MessageFormatException e) {
            throw e;
        } catch (IllegalStateException | IllegalArgumentException e) {
            throw new CoAPMessageFormatException(
                    e.getMessage(),
                    message.getToken(),
                    message.getMID(),
                    message.getRawCode(),
                    message.isConfirmable(),
                    CoAP.ResponseCode.BAD_REQUEST);
        }
    }
}
