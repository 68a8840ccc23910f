package io.m2mtrust.testsupport;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * CoAP messages (RFC 7252 §3) written and read by hand, for peers that move bytes but speak no CoAP themselves
 * ({@code openssl s_client -dtls1_2}): a confirmable request with a token, and the response carrying that token found
 * in whatever the peer printed.
 */
public final class CoapWire {

    public static final int URI_PATH = 11;
    public static final int CONTENT_FORMAT = 12;
    public static final int URI_QUERY = 15;
    public static final int ACCEPT = 17;
    public static final int BLOCK1 = 27;

    private CoapWire() {}

    private static final java.util.concurrent.atomic.AtomicInteger MESSAGE_IDS =
            new java.util.concurrent.atomic.AtomicInteger(new java.security.SecureRandom().nextInt(0x10000));

    /**
     * A fresh message id: a CON with an id the server saw recently from the same endpoint is a duplicate (RFC 7252
     * §4.5) and gets the first answer again.
     */
    public static int nextMessageId() {
        return MESSAGE_IDS.incrementAndGet() & 0xffff;
    }

    /** The Block1/Block2 option value (RFC 7959 §2.2): block number, more flag, size exponent (size = 2^(4+szx)). */
    public static byte[] block(int num, boolean more, int szx) {
        int v = (num << 4) | (more ? 0x08 : 0) | szx;
        return v == 0
                ? new byte[0]
                : v < 0x100
                        ? new byte[] {(byte) v}
                        : v < 0x10000
                                ? new byte[] {(byte) (v >>> 8), (byte) v}
                                : new byte[] {(byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
    }

    /** method: 1 GET, 2 POST, 3 PUT, 4 DELETE. {@code options}: number → values, written in number order. */
    public static byte[] request(
            int method, byte[] token, int messageId, Map<Integer, List<byte[]>> options, byte[] payload) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0x40 | token.length); // version 1, CON
        out.write(method);
        out.write(messageId >>> 8);
        out.write(messageId & 0xff);
        out.writeBytes(token);
        int last = 0;
        for (Map.Entry<Integer, List<byte[]>> e : new TreeMap<>(options).entrySet()) {
            for (byte[] value : e.getValue()) {
                int delta = e.getKey() - last;
                last = e.getKey();
                writeOptionHeader(out, delta, value.length);
                out.writeBytes(value);
            }
        }
        if (payload != null && payload.length > 0) {
            out.write(0xff);
            out.writeBytes(payload);
        }
        return out.toByteArray();
    }

    /** A POST of {@code path} (segments split on '/') with a body of {@code contentFormat}. */
    public static byte[] post(byte[] token, String path, int contentFormat, byte[] body) {
        Map<Integer, List<byte[]>> o = new TreeMap<>();
        o.put(URI_PATH, segments(path));
        o.put(CONTENT_FORMAT, List.of(uint(contentFormat)));
        return request(2, token, nextMessageId(), o, body);
    }

    public static List<byte[]> segments(String path) {
        List<byte[]> s = new ArrayList<>();
        for (String seg : path.split("/")) {
            if (!seg.isEmpty()) {
                s.add(seg.getBytes(StandardCharsets.UTF_8));
            }
        }
        return s;
    }

    public static byte[] uint(int v) {
        if (v == 0) {
            return new byte[0];
        }
        if (v < 256) {
            return new byte[] {(byte) v};
        }
        return new byte[] {(byte) (v >>> 8), (byte) v};
    }

    private static void writeOptionHeader(ByteArrayOutputStream out, int delta, int length) {
        int d = nibble(delta);
        int l = nibble(length);
        out.write((d << 4) | l);
        extended(out, delta, d);
        extended(out, length, l);
    }

    private static int nibble(int v) {
        return v < 13 ? v : v < 269 ? 13 : 14;
    }

    private static void extended(ByteArrayOutputStream out, int v, int nibble) {
        if (nibble == 13) {
            out.write(v - 13);
        } else if (nibble == 14) {
            out.write((v - 269) >>> 8);
            out.write((v - 269) & 0xff);
        }
    }

    /** A response: code as "c.dd", its Content-Format (-1 if none) and payload. */
    public record Response(String code, int contentFormat, byte[] payload) {
        public String text() {
            return new String(payload, StandardCharsets.UTF_8);
        }
    }

    /**
     * The response to {@code token} inside {@code printed} (what the peer wrote out, read as ISO-8859-1): found by its
     * token, parsed to the end of the printed bytes (the payload runs to the end of the datagram; a JSON payload is cut
     * after its last closing brace, as s_client may print text after it).
     */
    public static Response findResponse(String printed, byte[] token) {
        byte[] all = printed.getBytes(StandardCharsets.ISO_8859_1);
        for (int i = 4; i + token.length <= all.length; i++) {
            if (Arrays.equals(all, i, i + token.length, token, 0, token.length)
                    && (all[i - 4] & 0xc0) == 0x40
                    && (all[i - 4] & 0x0f) == token.length
                    && (all[i - 3] & 0xff) >= 0x40) {
                return parse(all, i - 4, token.length);
            }
        }
        return null;
    }

    private static Response parse(byte[] b, int start, int tkl) {
        int code = b[start + 1] & 0xff;
        int p = start + 4 + tkl;
        int option = 0;
        int contentFormat = -1;
        while (p < b.length && (b[p] & 0xff) != 0xff) {
            int delta = (b[p] & 0xff) >>> 4;
            int len = b[p] & 0x0f;
            p++;
            if (delta == 13) {
                delta = 13 + (b[p++] & 0xff);
            } else if (delta == 14) {
                delta = 269 + ((b[p] & 0xff) << 8 | (b[p + 1] & 0xff));
                p += 2;
            }
            if (len == 13) {
                len = 13 + (b[p++] & 0xff);
            } else if (len == 14) {
                len = 269 + ((b[p] & 0xff) << 8 | (b[p + 1] & 0xff));
                p += 2;
            }
            option += delta;
            if (option == CONTENT_FORMAT) {
                int v = 0;
                for (int k = 0; k < len; k++) {
                    v = v << 8 | (b[p + k] & 0xff);
                }
                contentFormat = v;
            }
            p += len;
        }
        byte[] payload = p < b.length ? Arrays.copyOfRange(b, p + 1, b.length) : new byte[0];
        if (contentFormat == 50 || contentFormat == 0) {
            int end = lastIndexOf(payload, contentFormat == 50 ? (byte) '}' : (byte) '\n');
            if (end >= 0) {
                payload = Arrays.copyOf(payload, end + 1);
            }
        }
        return new Response((code >>> 5) + "." + String.format("%02d", code & 0x1f), contentFormat, payload);
    }

    private static int lastIndexOf(byte[] b, byte v) {
        for (int i = b.length - 1; i >= 0; i--) {
            if (b[i] == v) {
                return i;
            }
        }
        return -1;
    }
}
