package io.m2mtrust.esprim;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * m2m:receiverESPrimRandObject / m2m:originatorESPrimRandObject (TS-0004 §6.3.5.50–51) with TS-0004 short
 * names: {@code esri} id, {@code esrv} value, {@code esrx} expiry, {@code esks} (receiver, a list) or
 * {@code esk} (originator, one) key-generation algorithms, {@code espa} protocol-and-algorithm ids
 * (10/11/12 = JWE compact with A128GCM/A192GCM/A256GCM). The value is 16 random bytes written as {@code _}
 * and 32 lowercase hex digits, a valid NCName (interop profile). Rand values are not secret: they travel in
 * JWE headers; the session key needs the pairwise key too.
 */
public record RandObject(
        String id, byte[] value, Instant expiry, List<Integer> keyGenAlgs, List<Integer> protocolAlgs) {

    public static final List<Integer> ALL_PROTOCOL_ALGS = List.of(10, 11, 12);
    private static final Pattern NCNAME = Pattern.compile("[A-Za-z_][A-Za-z0-9._-]{0,63}");
    private static final Pattern VALUE = Pattern.compile("_[0-9a-f]{32}");
    static final DateTimeFormatter BASIC =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss").withZone(ZoneOffset.UTC);

    public RandObject {
        value = value.clone();
        keyGenAlgs = List.copyOf(keyGenAlgs);
        protocolAlgs = List.copyOf(protocolAlgs);
    }

    public static String encodeValue(byte[] v) {
        return "_" + HexFormat.of().formatHex(v);
    }

    public static String enc(int protocolAlg) {
        return switch (protocolAlg) {
            case 10 -> "A128GCM";
            case 11 -> "A192GCM";
            case 12 -> "A256GCM";
            default -> throw new IllegalArgumentException("esprimProtocolAndAlgID " + protocolAlg);
        };
    }

    public static int protocolAlg(String enc) {
        return switch (enc) {
            case "A128GCM" -> 10;
            case "A192GCM" -> 11;
            case "A256GCM" -> 12;
            default -> -1;
        };
    }

    /** The JSON representation with short names; the receiver's carries {@code esks}, the originator's {@code esk}. */
    public Map<String, Object> toJson(boolean receiver) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("esri", id);
        m.put("esrv", encodeValue(value));
        m.put("esrx", BASIC.format(expiry));
        if (receiver) {
            m.put("esks", keyGenAlgs);
        } else {
            m.put("esk", keyGenAlgs.get(0));
        }
        m.put("espa", protocolAlgs);
        return m;
    }

    /** Parses the short-name JSON; throws {@link IllegalArgumentException} with the reason when malformed. */
    public static RandObject fromJson(Object json, boolean receiver) {
        if (!(json instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException("a rand object is a JSON object");
        }
        if (!(m.get("esri") instanceof String id) || !NCNAME.matcher(id).matches()) {
            throw new IllegalArgumentException("esri must be an NCName of at most 64 characters");
        }
        if (!(m.get("esrv") instanceof String v) || !VALUE.matcher(v).matches()) {
            throw new IllegalArgumentException("esrv must be _ and 32 lowercase hex digits");
        }
        Instant expiry = parseTimestamp(m.get("esrx"));
        List<Integer> kg;
        if (receiver) {
            kg = intList(m.get("esks"), "esks");
        } else {
            if (!(m.get("esk") instanceof Number n)) {
                throw new IllegalArgumentException("esk must be one esprimKeyGenAlgID");
            }
            kg = List.of(n.intValue());
        }
        List<Integer> pa = intList(m.get("espa"), "espa");
        if (kg.isEmpty() || pa.isEmpty()) {
            throw new IllegalArgumentException("esks/esk and espa must not be empty");
        }
        return new RandObject(id, HexFormat.of().parseHex(v.substring(1)), expiry, kg, pa);
    }

    /** m2m:absRelTimestamp: an absolute time in ISO 8601 basic format, or milliseconds from now. */
    static Instant parseTimestamp(Object o) {
        if (o instanceof Number n) {
            return Instant.now().plusMillis(n.longValue());
        }
        if (o instanceof String s) {
            if (s.matches("[0-9]{1,12}")) {
                return Instant.now().plusMillis(Long.parseLong(s));
            }
            try {
                String base =
                        s.length() > 15 ? s.substring(0, 15) : s; // fractional seconds and zone suffixes ignored: UTC
                return java.time.LocalDateTime.parse(base, DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss"))
                        .toInstant(ZoneOffset.UTC);
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException("esrx is not an m2m:absRelTimestamp");
            }
        }
        throw new IllegalArgumentException("esrx is required");
    }

    private static List<Integer> intList(Object o, String name) {
        if (!(o instanceof List<?> l) || l.size() > 8 || !l.stream().allMatch(x -> x instanceof Number)) {
            throw new IllegalArgumentException(name + " must be a list of at most 8 integers");
        }
        return l.stream().map(x -> ((Number) x).intValue()).toList();
    }

    @Override
    public String toString() {
        return "RandObject[" + id + ", expires " + expiry + "]";
    }
}
