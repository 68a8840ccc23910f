package io.m2mtrust.web;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.deser.std.StdScalarDeserializer;
import com.fasterxml.jackson.databind.deser.std.StringDeserializer;
import com.fasterxml.jackson.databind.module.SimpleModule;
import io.quarkus.jackson.ObjectMapperCustomizer;
import jakarta.inject.Singleton;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * U+0000 is refused at the door (found by schemathesis): PostgreSQL cannot store it in text, so a NUL in a JSON string,
 * a path or a query parameter reached the database and came back as a 500. JSON strings with it are malformed JSON
 * (400); path and query parameters with it are a validation problem (400). Nothing reaches a service or the database.
 */
@Singleton
public class NoNulCharacters implements ObjectMapperCustomizer {

    @Override
    public void customize(ObjectMapper mapper) {
        mapper.registerModule(new SimpleModule("no-nul-strings").addDeserializer(String.class, new Strings()));
    }

    /** Jackson's own string reading, then the check. */
    static final class Strings extends StdScalarDeserializer<String> {
        Strings() {
            super(String.class);
        }

        @Override
        public String deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            String s = StringDeserializer.instance.deserialize(p, ctxt);
            if (s != null && s.indexOf('\u0000') >= 0) {
                throw ctxt.weirdStringException(s, String.class, "U+0000 (NUL) is not allowed in a string");
            }
            return s;
        }
    }

    /** Path and query parameters, decoded, before any resource method runs. */
    @ServerRequestFilter
    public Response parameters(UriInfo uri) {
        if (uri.getPath().startsWith("/onem2m")) {
            return null; // the oneM2M bindings check their paths themselves and answer in oneM2M's terms
        }
        for (Map.Entry<String, List<String>> e : uri.getPathParameters().entrySet()) {
            if (hasNul(e.getValue())) {
                return refused(e.getKey());
            }
        }
        for (Map.Entry<String, List<String>> e : uri.getQueryParameters().entrySet()) {
            if (e.getKey().indexOf('\u0000') >= 0 || hasNul(e.getValue())) {
                return refused("query");
            }
        }
        return null;
    }

    private static boolean hasNul(List<String> values) {
        return values.stream().anyMatch(v -> v != null && v.indexOf('\u0000') >= 0);
    }

    private static Response refused(String field) {
        return ProblemMapper.respond(
                400,
                "urn:m2m-trust:problem:validation",
                "Bad Request",
                "one or more fields are invalid",
                List.of(Map.of("field", field, "message", "U+0000 (NUL) is not allowed")),
                null);
    }
}
