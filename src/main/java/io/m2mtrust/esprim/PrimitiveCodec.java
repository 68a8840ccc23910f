package io.m2mtrust.esprim;

import io.m2mtrust.common.ResponseStatusCode;
import io.m2mtrust.common.StrictJson;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The one mapping between oneM2M primitives and their JSON serialisation with short names (TS-0004 §8.2.2:
 * {@code op}, {@code to}, {@code fr}, {@code rqi}, {@code rvi}, {@code ty}, {@code pc}; {@code rsc}). Reading is
 * strict: a request needs a valid {@code op}, {@code to}, {@code fr} and a {@code rqi} of at most 200 characters.
 */
public final class PrimitiveCodec {

    static final int MAX_REQUEST_ID = 200;

    private PrimitiveCodec() {}

    /**
     * The request primitive in {@code json} (bare or wrapped in {@code m2m:rqp}); a Notify carrying securityInfo is
     * refused (an ESPrim object inside an ESPrim object is not processed: no recursion).
     */
    public static RequestPrimitive readRequest(byte[] json) throws EsprimError {
        Map<String, Object> m;
        try {
            m = StrictJson.object(json);
        } catch (Exception e) {
            throw new EsprimError(EsprimError.BAD_REQUEST, "the inner primitive is not a JSON request primitive");
        }
        if (m.containsKey("m2m:rqp")) {
            if (!(m.get("m2m:rqp") instanceof Map<?, ?> wrapped)) {
                throw new EsprimError(EsprimError.BAD_REQUEST, "m2m:rqp is an object");
            }
            m = stringKeys(wrapped);
        }
        Operation op =
                m.get("op") instanceof Number n ? Operation.of(n.intValue()).orElse(null) : null;
        if (op == null) {
            throw new EsprimError(EsprimError.BAD_REQUEST, "the inner primitive has no valid op");
        }
        if (!(m.get("to") instanceof String to)
                || !(m.get("fr") instanceof String fr)
                || !(m.get("rqi") instanceof String rqi)
                || rqi.length() > MAX_REQUEST_ID) {
            throw new EsprimError(EsprimError.BAD_REQUEST, "the inner primitive needs to, fr and rqi");
        }
        Object pc = m.get("pc");
        if (op == Operation.NOTIFY && pc instanceof Map<?, ?> content && content.containsKey("m2m:seci")) {
            throw new EsprimError(
                    EsprimError.BAD_REQUEST, "an inner Notify carrying securityInfo is not processed (no recursion)");
        }
        return new RequestPrimitive(
                op,
                to,
                fr,
                rqi,
                m.get("rvi") instanceof String v ? v : null,
                m.get("ty") instanceof Number ty ? ty.intValue() : null,
                pc);
    }

    /** The JSON object of a request primitive, members in TS-0004 order. */
    public static Map<String, Object> write(RequestPrimitive r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("op", r.operation().code());
        m.put("to", r.to());
        m.put("fr", r.from());
        m.put("rqi", r.requestId());
        m.put("rvi", r.releaseVersion());
        if (r.resourceType() != null) {
            m.put("ty", r.resourceType());
        }
        if (r.content() != null) {
            m.put("pc", r.content());
        }
        return m;
    }

    /** The response primitive in a parsed JSON object; a missing or non-numeric {@code rsc} reads as 5000. */
    public static ResponsePrimitive readResponse(Map<?, ?> m) {
        return new ResponsePrimitive(
                m.get("rsc") instanceof Number n ? n.intValue() : ResponseStatusCode.INTERNAL_SERVER_ERROR.code(),
                m.get("rqi") instanceof String rqi ? rqi : null,
                m.get("to") instanceof String to ? to : null,
                m.get("rvi") instanceof String v ? v : null,
                m.get("pc"));
    }

    /** The JSON object of a response primitive. */
    public static Map<String, Object> write(ResponsePrimitive r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("rsc", r.rsc());
        m.put("rqi", r.requestId());
        m.put("to", r.to());
        m.put("rvi", r.releaseVersion() == null ? RequestPrimitive.DEFAULT_RELEASE : r.releaseVersion());
        if (r.content() != null) {
            m.put("pc", r.content());
        }
        return m;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> stringKeys(Map<?, ?> m) {
        return (Map<String, Object>) m;
    }
}
