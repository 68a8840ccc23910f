package io.m2mtrust.common;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.util.Map;

/**
 * JSON for what arrives from peers (JOSE headers and envelopes, oneM2M primitives): a duplicate member is an
 * error, never "the last one wins" — two parsers must not see two different documents.
 */
public final class StrictJson {

    public static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();

    private StrictJson() {}

    /** A JSON object; anything else (or a duplicate member) is an {@link IOException}. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> object(byte[] json) throws IOException {
        Object o = MAPPER.readValue(json, Object.class);
        if (!(o instanceof Map)) {
            throw new IOException("not a JSON object");
        }
        return (Map<String, Object>) o;
    }
}
