package io.m2mtrust.tls;

import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.coap.OptionSet;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The CoAP mapping of the device functions (interop profile, "CoAP and DTLS"): one CoAP request becomes the same
 * {@link DeviceHttp.Request} the TLS listener hands its handlers, and their answer becomes a CoAP response. Paths are
 * the HTTP paths (Uri-Path segments joined with '/', Uri-Query with '&amp;'); Content-Format and Accept are the media
 * types' CoAP numbers; CBOR bodies are read into and answered from the JSON the handlers speak; EST follows RFC 9148
 * (short path names, DER bodies instead of base64); HTTP status codes map to CoAP response codes as in the table of
 * the interop profile (after RFC 8075 §7, the other way round).
 */
public final class CoapDeviceBridge {

    /** RFC 9148 §5: EST-coaps short names under {@code /.well-known/est/}; the RFC 7030 names work too. */
    static final Map<String, String> EST_SHORT_NAMES = Map.of(
            "crts", "cacerts",
            "sen", "simpleenroll",
            "sren", "simplereenroll",
            "att", "csrattrs");

    /** application/csrattrs (RFC 9148 §8.1); Californium has no constant for it. */
    static final int APPLICATION_CSRATTRS = 285;

    private static final String EST_PREFIX = "/.well-known/est/";

    private CoapDeviceBridge() {}

    /** A request the mapping refuses: answered with {@code code} and a short diagnostic. */
    static final class Refused extends Exception {
        final ResponseCode code;

        Refused(ResponseCode code, String message) {
            super(message, null, false, false);
            this.code = code;
        }
    }

    /** What the answer needs to know about the request it answers. */
    record Mapped(DeviceHttp.Request request, CoAP.Code method, boolean answerInCbor, boolean est) {}

    static Mapped toDeviceRequest(Request coap) throws Refused {
        CoAP.Code code = coap.getCode();
        if (code != CoAP.Code.GET && code != CoAP.Code.POST && code != CoAP.Code.PUT && code != CoAP.Code.DELETE) {
            throw new Refused(ResponseCode.METHOD_NOT_ALLOWED, "GET, POST, PUT or DELETE");
        }
        OptionSet options = coap.getOptions();
        StringBuilder path = new StringBuilder();
        for (String segment : options.getUriPath()) {
            if (segment.isEmpty() || segment.indexOf('/') >= 0 || segment.equals("..") || segment.equals(".")) {
                throw new Refused(ResponseCode.BAD_OPTION, "malformed Uri-Path segment");
            }
            path.append('/').append(segment);
        }
        if (path.length() == 0) {
            path.append('/');
        }
        String p = path.toString();
        boolean est = p.startsWith(EST_PREFIX);
        if (est) {
            String op = p.substring(EST_PREFIX.length());
            p = EST_PREFIX + EST_SHORT_NAMES.getOrDefault(op, op);
        }
        List<String> query = options.getUriQuery();
        if (!query.isEmpty()) {
            p = p + "?" + String.join("&", query);
        }

        Map<String, String> headers = new LinkedHashMap<>();
        byte[] body = coap.getPayload() == null ? new byte[0] : coap.getPayload();
        boolean cborBody = false;
        if (body.length > 0 || options.hasContentFormat()) {
            int format = options.getContentFormat();
            switch (format) {
                case MediaTypeRegistry.APPLICATION_JSON -> headers.put("content-type", "application/json");
                case MediaTypeRegistry.APPLICATION_CBOR -> {
                    cborBody = true;
                    try {
                        body = CborJson.toJson(body);
                    } catch (CborJson.MalformedCbor e) {
                        throw new Refused(ResponseCode.BAD_REQUEST, e.getMessage());
                    }
                    headers.put("content-type", "application/json");
                }
                case MediaTypeRegistry.APPLICATION_PKCS10 -> {
                    // the EST handlers take RFC 7030's base64 body; RFC 9148 sends the DER itself
                    body = Base64.getEncoder().encode(body);
                    headers.put("content-type", "application/pkcs10");
                    headers.put("content-transfer-encoding", "base64");
                }
                case MediaTypeRegistry.TEXT_PLAIN -> headers.put("content-type", "text/plain; charset=utf-8");
                case MediaTypeRegistry.UNDEFINED -> {
                    if (body.length > 0) {
                        throw new Refused(ResponseCode.UNSUPPORTED_CONTENT_FORMAT, "a body needs a Content-Format");
                    }
                }
                default ->
                    throw new Refused(
                            ResponseCode.UNSUPPORTED_CONTENT_FORMAT,
                            "Content-Format " + format + " is not served here");
            }
            headers.put("content-length", Integer.toString(body.length));
        }
        boolean answerInCbor = cborBody;
        if (options.hasAccept()) {
            int accept = options.getAccept();
            if (accept == MediaTypeRegistry.APPLICATION_CBOR) {
                answerInCbor = true;
            } else if (accept == MediaTypeRegistry.APPLICATION_JSON) {
                answerInCbor = false;
            } else if (!(est
                    && (accept == MediaTypeRegistry.APPLICATION_PKCS7_CERTS_ONLY || accept == APPLICATION_CSRATTRS))) {
                throw new Refused(ResponseCode.NOT_ACCEPTABLE, "Accept " + accept + " is not served here");
            }
        }
        return new Mapped(new DeviceHttp.Request(code.name(), p, headers, body), code, answerInCbor, est);
    }

    static Response toCoapResponse(Mapped request, DeviceHttp.Response answer) {
        Response response = new Response(responseCode(answer.status(), request.method()));
        byte[] body = answer.body();
        String type = answer.contentType() == null ? "" : answer.contentType().toLowerCase(Locale.ROOT);
        int format;
        if (answer.base64Body()) {
            // RFC 9148 §5: EST-coaps bodies are the DER, not base64 text
            body = Base64.getMimeDecoder().decode(body);
            format = type.startsWith("application/csrattrs")
                    ? APPLICATION_CSRATTRS
                    : type.startsWith("application/pkcs7-mime")
                            ? MediaTypeRegistry.APPLICATION_PKCS7_CERTS_ONLY
                            : MediaTypeRegistry.APPLICATION_OCTET_STREAM;
        } else if (type.startsWith("application/json") || type.startsWith("application/problem+json")) {
            format = MediaTypeRegistry.APPLICATION_JSON;
            if (request.answerInCbor() && body.length > 0) {
                try {
                    body = CborJson.fromJson(body);
                    format = MediaTypeRegistry.APPLICATION_CBOR;
                } catch (IOException e) {
                    // a handler's JSON always parses; if it did not, answer it as JSON rather than lose it
                }
            }
        } else if (type.startsWith("text/plain")) {
            format = MediaTypeRegistry.TEXT_PLAIN;
        } else {
            format = MediaTypeRegistry.APPLICATION_OCTET_STREAM;
        }
        if (body.length > 0) {
            response.setPayload(body);
            response.getOptions().setContentFormat(format);
        }
        if (answer.retryAfterSeconds() > 0) {
            // RFC 8516 §4: with 4.29, Max-Age is the number of seconds after which the client may retry
            response.getOptions().setMaxAge(answer.retryAfterSeconds());
        }
        return response;
    }

    /** A diagnostic answer of the listener itself (RFC 7252 §5.5.2: UTF-8 text). */
    public static Response diagnostic(ResponseCode code, String message) {
        Response r = new Response(code);
        r.setPayload(message.getBytes(StandardCharsets.UTF_8));
        r.getOptions().setContentFormat(MediaTypeRegistry.TEXT_PLAIN);
        return r;
    }

    /**
     * HTTP status → CoAP response code (interop profile table; 2xx by the request method, as RFC 7252 §5.9.1). The
     * proxy's CoAP binding uses the same table (TS-0008 §6.3 gives the same codes for the oneM2M statuses).
     */
    public static ResponseCode responseCode(int status, CoAP.Code method) {
        return switch (status) {
            case 200 ->
                switch (method) {
                    case GET -> ResponseCode.CONTENT;
                    case DELETE -> ResponseCode.DELETED;
                    default -> ResponseCode.CHANGED;
                };
            case 201 -> ResponseCode.CREATED;
            case 204 -> method == CoAP.Code.DELETE ? ResponseCode.DELETED : ResponseCode.CHANGED;
            case 400, 411 -> ResponseCode.BAD_REQUEST;
            case 401 -> ResponseCode.UNAUTHORIZED;
            case 403 -> ResponseCode.FORBIDDEN;
            case 404, 410 -> ResponseCode.NOT_FOUND;
            case 405 -> ResponseCode.METHOD_NOT_ALLOWED;
            case 406 -> ResponseCode.NOT_ACCEPTABLE;
            case 409 -> ResponseCode.CONFLICT;
            case 412, 428 -> ResponseCode.PRECONDITION_FAILED;
            case 413, 431 -> ResponseCode.REQUEST_ENTITY_TOO_LARGE;
            case 415 -> ResponseCode.UNSUPPORTED_CONTENT_FORMAT;
            case 422 -> ResponseCode.UNPROCESSABLE_ENTITY;
            case 429 -> ResponseCode.TOO_MANY_REQUESTS;
            case 501 -> ResponseCode.NOT_IMPLEMENTED;
            case 502 -> ResponseCode.BAD_GATEWAY;
            case 503 -> ResponseCode.SERVICE_UNAVAILABLE;
            case 504 -> ResponseCode.GATEWAY_TIMEOUT;
            default ->
                status >= 200 && status < 300
                        ? ResponseCode.CHANGED
                        : status >= 500 ? ResponseCode.INTERNAL_SERVER_ERROR : ResponseCode.BAD_REQUEST;
        };
    }
}
