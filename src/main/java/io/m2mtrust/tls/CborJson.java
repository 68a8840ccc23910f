package io.m2mtrust.tls;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.cbor.CBORFactory;
import com.fasterxml.jackson.dataformat.cbor.CBORGenerator;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * CBOR (RFC 8949) beside JSON on the CoAP paths, with the JSON data model and the same names (TS-0004 §8.5 / the
 * interop profile). A CBOR body is first checked by {@link #checkWellFormed}, a strict walk over the bytes (RFC 8949
 * §3 and Appendix C): one item and nothing after it; indefinite-length strings, arrays and maps only when terminated,
 * with chunks of their own type; no tags; text keys only; UTF-8 text; no {@code undefined} or reserved simple
 * values; at most {@link #MAX_DEPTH} levels and {@link #MAX_ITEMS} items. Only then Jackson's CBOR parser reads it,
 * with duplicate map keys refused; the result is the JSON the handlers already take. Answers are written with
 * definite lengths (the preferred serialisation of RFC 8949 §4.1).
 */
public final class CborJson {

    /** Deeper than any oneM2M or MEF/MAF body here; bounds the walk and Jackson's recursion. */
    public static final int MAX_DEPTH = 32;

    /** Items (of any kind) in one body: a bound on the work a small datagram can ask for. */
    public static final int MAX_ITEMS = 10_000;

    private static final ObjectMapper CBOR = new ObjectMapper(CBORFactory.builder()
                    .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                    .streamReadConstraints(StreamReadConstraints.builder()
                            .maxNestingDepth(MAX_DEPTH + 1)
                            .build())
                    .build())
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private static final ObjectMapper JSON = new ObjectMapper();

    private CborJson() {}

    /** A CBOR body refused, with a message fit for the device. */
    public static final class MalformedCbor extends Exception {
        MalformedCbor(String message) {
            super(message, null, false, false);
        }
    }

    /** The JSON text of a well-formed CBOR body in the JSON data model. */
    public static byte[] toJson(byte[] cbor) throws MalformedCbor {
        checkWellFormed(cbor);
        try {
            JsonNode tree = CBOR.readTree(cbor);
            return JSON.writeValueAsBytes(tree);
        } catch (IOException e) {
            // duplicate keys, and anything Jackson refuses that the walk let through
            throw new MalformedCbor("CBOR body refused: " + firstLine(e.getMessage()));
        }
    }

    /** The CBOR encoding (definite lengths) of a JSON body. */
    public static byte[] fromJson(byte[] json) throws IOException {
        JsonNode tree = JSON.readTree(json);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(json.length);
        try (CBORGenerator g = (CBORGenerator) CBOR.getFactory().createGenerator(out)) {
            write(g, tree);
        }
        return out.toByteArray();
    }

    /** Jackson writes indefinite-length containers unless told their size; here every container is sized. */
    private static void write(CBORGenerator g, JsonNode n) throws IOException {
        if (n.isObject()) {
            g.writeStartObject(n, n.size());
            for (java.util.Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                g.writeFieldName(e.getKey());
                write(g, e.getValue());
            }
            g.writeEndObject();
        } else if (n.isArray()) {
            g.writeStartArray(n, n.size());
            for (JsonNode item : n) {
                write(g, item);
            }
            g.writeEndArray();
        } else {
            CBOR.writeTree(g, n);
        }
    }

    /** Refuses anything outside the profile above; returns normally for one well-formed item and nothing after it. */
    static void checkWellFormed(byte[] cbor) throws MalformedCbor {
        if (cbor.length == 0) {
            throw new MalformedCbor("empty CBOR body");
        }
        Walker w = new Walker(cbor);
        w.item(0, false);
        if (w.pos != cbor.length) {
            throw new MalformedCbor("bytes after the CBOR item");
        }
    }

    private static final class Walker {
        private final byte[] b;
        private int pos;
        private int items;

        Walker(byte[] b) {
            this.b = b;
        }

        void item(int depth, boolean asKey) throws MalformedCbor {
            if (depth > MAX_DEPTH) {
                throw new MalformedCbor("CBOR nested deeper than " + MAX_DEPTH);
            }
            if (++items > MAX_ITEMS) {
                throw new MalformedCbor("more than " + MAX_ITEMS + " CBOR items");
            }
            int initial = u8();
            int major = initial >>> 5;
            int info = initial & 0x1f;
            if (asKey && major != 3) {
                throw new MalformedCbor("CBOR map keys must be text strings");
            }
            if (info == 31) {
                indefinite(major, depth);
                return;
            }
            switch (major) {
                case 0, 1 -> argument(info);
                case 2 -> skip(argument(info));
                case 3 -> utf8(argument(info));
                case 4 -> {
                    long n = argument(info);
                    for (long i = 0; i < n; i++) {
                        item(depth + 1, false);
                    }
                }
                case 5 -> {
                    long n = argument(info);
                    for (long i = 0; i < n; i++) {
                        item(depth + 1, true);
                        item(depth + 1, false);
                    }
                }
                case 6 -> throw new MalformedCbor("CBOR tags are not accepted (the JSON data model has none)");
                default -> simple(info);
            }
        }

        /** RFC 8949 §3.2: an indefinite-length item runs to a break (0xff); strings are definite chunks of their type. */
        private void indefinite(int major, int depth) throws MalformedCbor {
            switch (major) {
                case 2, 3 -> {
                    while (!breakNext()) {
                        int chunk = u8();
                        if (chunk >>> 5 != major || (chunk & 0x1f) == 31) {
                            throw new MalformedCbor("an indefinite-length string holds a chunk of another kind");
                        }
                        long n = argument(chunk & 0x1f);
                        if (major == 2) {
                            skip(n);
                        } else {
                            utf8(n);
                        }
                    }
                }
                case 4 -> {
                    while (!breakNext()) {
                        item(depth + 1, false);
                    }
                }
                case 5 -> {
                    while (!breakNext()) {
                        item(depth + 1, true);
                        if (peekBreak()) {
                            throw new MalformedCbor("a CBOR map key without a value");
                        }
                        item(depth + 1, false);
                    }
                }
                case 7 -> throw new MalformedCbor("a CBOR break outside an indefinite-length item");
                default -> throw new MalformedCbor("an integer or tag cannot have an indefinite length");
            }
        }

        /** Consumes a break if it is next; a missing break at the end is a truncation. */
        private boolean breakNext() throws MalformedCbor {
            if (peekBreak()) {
                pos++;
                return true;
            }
            return false;
        }

        private boolean peekBreak() throws MalformedCbor {
            if (pos >= b.length) {
                throw new MalformedCbor("truncated CBOR (an indefinite-length item has no break)");
            }
            return (b[pos] & 0xff) == 0xff;
        }

        private void simple(int info) throws MalformedCbor {
            switch (info) {
                case 20, 21, 22 -> {} // false, true, null
                case 25 -> skip(2); // half float
                case 26 -> skip(4);
                case 27 -> skip(8);
                default -> throw new MalformedCbor("CBOR simple value " + info + " is not accepted");
            }
        }

        private long argument(int info) throws MalformedCbor {
            if (info < 24) {
                return info;
            }
            int n = switch (info) {
                case 24 -> 1;
                case 25 -> 2;
                case 26 -> 4;
                case 27 -> 8;
                default -> throw new MalformedCbor("reserved CBOR additional information " + info);
            };
            long v = 0;
            for (int i = 0; i < n; i++) {
                v = (v << 8) | u8();
            }
            if (v < 0) {
                throw new MalformedCbor("CBOR length or integer out of range");
            }
            return v;
        }

        private int u8() throws MalformedCbor {
            if (pos >= b.length) {
                throw new MalformedCbor("truncated CBOR");
            }
            return b[pos++] & 0xff;
        }

        private void skip(long n) throws MalformedCbor {
            if (n > b.length - pos) {
                throw new MalformedCbor("truncated CBOR (a length runs past the body)");
            }
            pos += (int) n;
        }

        private void utf8(long n) throws MalformedCbor {
            int start = pos;
            skip(n);
            try {
                StandardCharsets.UTF_8
                        .newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(b, start, (int) n));
            } catch (CharacterCodingException e) {
                throw new MalformedCbor("CBOR text string is not UTF-8");
            }
        }
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "unreadable";
        }
        int nl = s.indexOf('\n');
        String line = nl < 0 ? s : s.substring(0, nl);
        return line.length() > 200 ? line.substring(0, 200) : line;
    }
}
