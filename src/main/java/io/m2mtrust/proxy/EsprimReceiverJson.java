package io.m2mtrust.proxy;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.util.Map;

/** Strict JSON for primitives the proxy looks into: duplicate members are refused (no last-one-wins ambiguity). */
final class EsprimReceiverJson {

    private static final ObjectMapper STRICT = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).build();

    private EsprimReceiverJson() {
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> parse(byte[] body) throws IOException {
        Object o = STRICT.readValue(body, Object.class);
        if (!(o instanceof Map)) {
            throw new IOException("not a JSON object");
        }
        return (Map<String, Object>) o;
    }
}
