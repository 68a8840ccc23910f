package io.m2mtrust.tls;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A deliberately small HTTP/1.1 codec for the requests that travel inside the device TLS session:
 * request line and headers up to a limit, {@code Content-Length} bodies up to a limit, keep-alive,
 * no chunked bodies, no upgrades. Anything else is a 4xx and the connection closes.
 */
public final class DeviceHttp {

    private DeviceHttp() {}

    public record Request(String method, String path, Map<String, String> headers, byte[] body) {
        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    private static final ObjectMapper PLAIN_JSON = new ObjectMapper();

    /** {@code base64Body}: the body is base64 text (RFC 7030 §4 answers carry Content-Transfer-Encoding: base64). */
    /** {@code retryAfterSeconds}: sent as {@code Retry-After} (CoAP: Max-Age) when positive, e.g. with 429. */
    public record Response(int status, String contentType, byte[] body, boolean base64Body, long retryAfterSeconds) {
        public Response(int status, String contentType, byte[] body) {
            this(status, contentType, body, false, 0);
        }

        public Response(int status, String contentType, byte[] body, boolean base64Body) {
            this(status, contentType, body, base64Body, 0);
        }

        /** 429: the tenant is over a quota (issue 21); the device is told when to come back. */
        public static Response tooManyRequests(String message, long retryAfterSeconds) {
            Response r = error(429, message);
            return new Response(429, r.contentType(), r.body(), false, retryAfterSeconds);
        }

        /** 503: the HSM or the database is out (issue 21); nothing was written, the device is told when to retry. */
        public static Response unavailable(String message, long retryAfterSeconds) {
            Response r = error(503, message);
            return new Response(503, r.contentType(), r.body(), false, retryAfterSeconds);
        }

        /** A JSON body already serialised by a JSON library. */
        public static Response json(int status, String json) {
            return new Response(status, "application/json", json.getBytes(StandardCharsets.UTF_8));
        }

        /** A JSON body of plain values (strings, numbers, booleans, lists, maps), serialised by Jackson. */
        public static Response json(int status, Map<String, ?> body) {
            try {
                return new Response(status, "application/json", PLAIN_JSON.writeValueAsBytes(body));
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException("not a plain JSON value", e);
            }
        }

        /** The device listener's one error shape: {@code {"error": message}}. */
        public static Response error(int status, String message) {
            return json(status, Map.of("error", message));
        }

        public static Response text(int status, String text) {
            return new Response(status, "text/plain; charset=utf-8", (text + "\n").getBytes(StandardCharsets.UTF_8));
        }

        /** DER content, base64 with MIME line breaks (RFC 2045), as EST answers. */
        public static Response base64(int status, String contentType, byte[] der) {
            byte[] text = java.util.Base64.getMimeEncoder().encode(der);
            byte[] withEol = java.util.Arrays.copyOf(text, text.length + 2);
            withEol[text.length] = '\r';
            withEol[text.length + 1] = '\n';
            return new Response(status, contentType, withEol, true);
        }

        byte[] encode(boolean close) {
            String head = "HTTP/1.1 " + status + " " + reason(status) + "\r\n"
                    + "Content-Type: " + contentType + "\r\n"
                    + (base64Body ? "Content-Transfer-Encoding: base64\r\n" : "")
                    + "Content-Length: " + body.length + "\r\n"
                    + "Cache-Control: no-store\r\n"
                    + (retryAfterSeconds > 0 ? "Retry-After: " + retryAfterSeconds + "\r\n" : "")
                    + (close ? "Connection: close\r\n" : "")
                    + "\r\n";
            ByteArrayOutputStream out = new ByteArrayOutputStream(head.length() + body.length);
            out.writeBytes(head.getBytes(StandardCharsets.US_ASCII));
            out.writeBytes(body);
            return out.toByteArray();
        }
    }

    /** A request the codec refuses; the connection answers {@link #status} and closes. */
    public static final class BadRequest extends Exception {
        final int status;

        BadRequest(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    /** Incremental decoder: feed bytes, take complete requests. */
    public static final class Decoder {
        private final int maxHead;
        private final int maxBody;
        private byte[] buf = new byte[1024];
        private int len;

        public Decoder(int maxHead, int maxBody) {
            this.maxHead = maxHead;
            this.maxBody = maxBody;
        }

        public void feed(byte[] data, int off, int n) throws BadRequest {
            if ((long) len + n > (long) maxHead + maxBody) {
                throw new BadRequest(413, "request too large");
            }
            if (len + n > buf.length) {
                byte[] bigger = new byte[Math.max(buf.length * 2, len + n)];
                System.arraycopy(buf, 0, bigger, 0, len);
                buf = bigger;
            }
            System.arraycopy(data, off, buf, len, n);
            len += n;
        }

        /** Whether no part of a request is buffered (a connection may then be closed between requests). */
        public boolean idle() {
            return len == 0;
        }

        /** The next complete request, or null if more bytes are needed. */
        public Request next() throws BadRequest {
            int headEnd = indexOfCrlfCrlf();
            if (headEnd < 0) {
                if (len > maxHead) {
                    throw new BadRequest(431, "request head too large");
                }
                return null;
            }
            if (headEnd > maxHead) {
                throw new BadRequest(431, "request head too large");
            }
            String head = new String(buf, 0, headEnd, StandardCharsets.ISO_8859_1);
            String[] lines = head.split("\r\n");
            String[] requestLine = lines[0].split(" ");
            if (requestLine.length != 3
                    || !requestLine[2].equals("HTTP/1.1")
                    || !requestLine[1].startsWith("/")
                    || !requestLine[0].matches("[A-Z]{3,7}")) {
                throw new BadRequest(400, "malformed request line");
            }
            Map<String, String> headers = new LinkedHashMap<>();
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                if (colon <= 0) {
                    throw new BadRequest(400, "malformed header");
                }
                String name = lines[i].substring(0, colon).strip().toLowerCase(Locale.ROOT);
                if (headers.put(name, lines[i].substring(colon + 1).strip()) != null
                        && (name.equals("content-length") || name.equals("host"))) {
                    throw new BadRequest(400, "repeated " + name);
                }
            }
            if (headers.containsKey("transfer-encoding")) {
                throw new BadRequest(411, "chunked bodies are not accepted; send Content-Length");
            }
            int bodyLen = 0;
            String cl = headers.get("content-length");
            if (cl != null) {
                try {
                    bodyLen = Integer.parseInt(cl);
                } catch (NumberFormatException e) {
                    throw new BadRequest(400, "bad Content-Length");
                }
                if (bodyLen < 0) {
                    throw new BadRequest(400, "bad Content-Length");
                }
                if (bodyLen > maxBody) {
                    throw new BadRequest(413, "body larger than " + maxBody + " bytes");
                }
            }
            int total = headEnd + 4 + bodyLen;
            if (len < total) {
                return null;
            }
            byte[] body = new byte[bodyLen];
            System.arraycopy(buf, headEnd + 4, body, 0, bodyLen);
            System.arraycopy(buf, total, buf, 0, len - total);
            len -= total;
            return new Request(requestLine[0], requestLine[1], headers, body);
        }

        private int indexOfCrlfCrlf() {
            for (int i = 0; i + 3 < len; i++) {
                if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n') {
                    return i;
                }
            }
            return -1;
        }
    }

    static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 201 -> "Created";
            case 204 -> "No Content";
            case 400 -> "Bad Request";
            case 401 -> "Unauthorized";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 409 -> "Conflict";
            case 410 -> "Gone";
            case 411 -> "Length Required";
            case 413 -> "Payload Too Large";
            case 415 -> "Unsupported Media Type";
            case 429 -> "Too Many Requests";
            case 431 -> "Request Header Fields Too Large";
            case 503 -> "Service Unavailable";
            default -> status >= 500 ? "Internal Server Error" : "Error";
        };
    }
}
