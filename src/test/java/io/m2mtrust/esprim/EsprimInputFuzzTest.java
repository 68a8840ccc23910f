package io.m2mtrust.esprim;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.common.StrictJson;

/**
 * Fuzz targets for what a remote originator sends the proxy's receiver role (issue 21): the ESPrim object (compact JWE,
 * parsed, then decrypted with a session key), the inner request primitive, and rand objects. The contract: a typed
 * refusal ({@link EsprimError} with a oneM2M code; {@link IllegalArgumentException} for rand objects, as documented)
 * or a well-formed result — never another exception.
 */
class EsprimInputFuzzTest {

    @FuzzTest(maxDuration = "30s")
    void esprim_objects_parse_and_open_or_get_a_oneM2M_refusal(FuzzedDataProvider data) {
        byte[] key = data.consumeBytes(32);
        String compact = data.consumeRemainingAsAsciiString();
        try {
            EsprimObject.Parsed p = EsprimObject.parse(compact);
            assertThat(p.kid()).isNotNull();
            if (key.length == 32) {
                try (SecretBytes k = SecretBytes.copyOf(key)) {
                    assertThat(EsprimObject.decrypt(p, k)).isNotNull();
                }
            }
        } catch (EsprimError refused) {
            assertThat(refused.rsc).isBetween(4000, 6999);
        }
    }

    @FuzzTest(maxDuration = "30s")
    void inner_request_primitives_read_or_get_a_oneM2M_refusal(byte[] json) {
        try {
            RequestPrimitive r = PrimitiveCodec.readRequest(json);
            assertThat(r).isNotNull();
        } catch (EsprimError refused) {
            assertThat(refused.rsc).isBetween(4000, 6999);
        }
    }

    @FuzzTest(maxDuration = "30s")
    void rand_objects_read_or_get_an_illegal_argument(FuzzedDataProvider data) {
        boolean receiver = data.consumeBoolean();
        Object json;
        try {
            json = StrictJson.object(data.consumeRemainingAsBytes());
        } catch (Exception notJson) {
            return; // the JSON reader's own refusal is fuzzed with the primitives above
        }
        try {
            assertThat(RandObject.fromJson(json, receiver)).isNotNull();
        } catch (IllegalArgumentException refused) {
            assertThat(refused.getMessage()).isNotBlank();
        }
    }
}
