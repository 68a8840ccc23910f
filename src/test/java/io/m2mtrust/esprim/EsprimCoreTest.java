package io.m2mtrust.esprim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.m2mtrust.common.SecretBytes;
import org.jose4j.jwe.JsonWebEncryption;
import org.jose4j.jwe.KeyManagementAlgorithmIdentifiers;
import org.jose4j.keys.AesKey;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/** ESPrim building blocks: the §10.3.8 KDF against the digest's vector, rand objects, and the ESPrim object's checks. */
class EsprimCoreTest {

    static byte[] range(int from, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (from + i);
        }
        return b;
    }

    @Test
    void session_key_matches_the_regression_vector_of_the_digest() {
        // digest §10: pairwiseESPrimKey = 20..3f, rr = 00112233..ff, or = ffeedd..00, receiver's first
        byte[] rr = HexFormat.of().parseHex("00112233445566778899aabbccddeeff");
        byte[] or = HexFormat.of().parseHex("ffeeddccbbaa99887766554433221100");
        try (SecretBytes k = SecretBytes.copyOf(range(0x20, 32));
                SecretBytes s = EsprimKdf.sessionKey(k, rr, or)) {
            assertThat(HexFormat.of().formatHex(s.copy()))
                    .isEqualTo("f09ce02f6d9c511a3210771b12bbf5d0d976bf4ac9c464d0929322aec3b3b8a6");
            try (SecretBytes c = EsprimKdf.contentKey(s, "A128GCM")) {
                assertThat(HexFormat.of().formatHex(c.copy())).isEqualTo("f09ce02f6d9c511a3210771b12bbf5d0");
            }
        }
        assertThatThrownBy(() -> EsprimKdf.sessionKey(SecretBytes.copyOf(new byte[32]), new byte[15], new byte[16]))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void rand_objects_round_trip_with_short_names_and_bad_ones_are_refused() {
        RandObject r = new RandObject(
                "r0a1", range(0, 16), Instant.parse("2026-11-28T20:00:00Z"), List.of(1), List.of(10, 12));
        Map<String, Object> json = r.toJson(true);
        assertThat(json)
                .containsEntry("esri", "r0a1")
                .containsEntry("esrv", "_000102030405060708090a0b0c0d0e0f")
                .containsEntry("esrx", "20261128T200000")
                .containsEntry("esks", List.of(1))
                .containsEntry("espa", List.of(10, 12));
        RandObject back = RandObject.fromJson(json, true);
        assertThat(back.value()).isEqualTo(r.value());
        assertThat(back.expiry()).isEqualTo(r.expiry());
        Map<String, Object> o = new RandObject(
                        "o1", range(1, 16), Instant.parse("2026-11-28T20:00:00Z"), List.of(1), List.of(12))
                .toJson(false);
        assertThat(o).containsEntry("esk", 1).doesNotContainKey("esks");
        for (Map<String, Object> bad : List.<Map<String, Object>>of(
                Map.of(
                        "esri",
                        "1starts-with-digit",
                        "esrv",
                        "_000102030405060708090a0b0c0d0e0f",
                        "esrx",
                        "20261128T200000",
                        "esks",
                        List.of(1),
                        "espa",
                        List.of(12)),
                Map.of(
                        "esri",
                        "r1",
                        "esrv",
                        "000102030405060708090a0b0c0d0e0f",
                        "esrx",
                        "20261128T200000",
                        "esks",
                        List.of(1),
                        "espa",
                        List.of(12)),
                Map.of(
                        "esri",
                        "r1",
                        "esrv",
                        "_000102030405060708090a0b0c0d0e0f",
                        "esrx",
                        "yesterday",
                        "esks",
                        List.of(1),
                        "espa",
                        List.of(12)),
                Map.of(
                        "esri",
                        "r1",
                        "esrv",
                        "_000102030405060708090a0b0c0d0e0f",
                        "esrx",
                        "20261128T200000",
                        "esks",
                        List.of(),
                        "espa",
                        List.of(12)),
                Map.of(
                        "esri",
                        "r1",
                        "esrv",
                        "_000102030405060708090a0b0c0d0e0f",
                        "esrx",
                        "20261128T200000",
                        "esks",
                        "1",
                        "espa",
                        List.of(12)))) {
            assertThatThrownBy(() -> RandObject.fromJson(bad, true))
                    .as(bad.toString())
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void esprim_objects_are_opened_only_in_their_exact_shape() throws Exception {
        byte[] session = range(0x40, 32);
        JsonWebEncryption jwe = new JsonWebEncryption();
        jwe.setAlgorithmHeaderValue(KeyManagementAlgorithmIdentifiers.DIRECT);
        jwe.setEncryptionMethodHeaderParameter("A256GCM");
        jwe.setKeyIdHeaderValue("k1@keys.example");
        jwe.setHeader("ori", "o1");
        jwe.setHeader("rri", "r1");
        jwe.setKey(new AesKey(session));
        jwe.setPlaintext("{\"op\":2}");
        String compact = jwe.getCompactSerialization();
        EsprimObject.Parsed p = EsprimObject.parse(compact);
        assertThat(p.kid()).isEqualTo("k1@keys.example");
        try (SecretBytes s = SecretBytes.copyOf(session)) {
            assertThat(new String(EsprimObject.decrypt(p, s), StandardCharsets.UTF_8))
                    .isEqualTo("{\"op\":2}");
            // ours opens with jose4j too
            String ours = EsprimObject.protect(
                    "{\"rsc\":2000}".getBytes(StandardCharsets.UTF_8),
                    s,
                    "A128GCM",
                    "k1@keys.example",
                    "o1",
                    "r1",
                    "application/vnd.onem2m-prsp+json",
                    null,
                    Map.of("esri", "r2"));
            JsonWebEncryption theirs = new JsonWebEncryption();
            theirs.setCompactSerialization(ours);
            theirs.setKey(new AesKey(java.util.Arrays.copyOf(session, 16)));
            assertThat(theirs.getPlaintextString()).isEqualTo("{\"rsc\":2000}");
            assertThat(theirs.getHeader("rri")).isEqualTo("r1");
        }
        String[] parts = compact.split("\\.");
        String header = new String(Base64.getUrlDecoder().decode(parts[0]), StandardCharsets.UTF_8);
        assertRsc(String.join(".", parts[0], parts[1], parts[2], parts[3]), EsprimError.BAD_REQUEST); // four parts
        assertRsc(
                parts[0] + ".AAAA." + parts[2] + "." + parts[3] + "." + parts[4],
                EsprimError.BAD_REQUEST); // an encrypted key
        assertRsc(compact.replace('.', '!'), EsprimError.BAD_REQUEST);
        assertRsc(
                withHeader(header.replace("\"A256GCM\"", "\"A128CBC-HS256\""), parts), EsprimError.UNSUPPORTED_OPTION);
        assertRsc(withHeader(header.replace("\"dir\"", "\"A256KW\""), parts), EsprimError.UNSUPPORTED_OPTION);
        assertRsc(withHeader(header.replace("{", "{\"zip\":\"DEF\","), parts), EsprimError.UNSUPPORTED_OPTION);
        assertRsc(withHeader(header.replace("{", "{\"crit\":[\"exp\"],"), parts), EsprimError.UNSUPPORTED_OPTION);
        assertRsc(
                withHeader(header.replace("\"ori\":\"o1\",", "").replace(",\"ori\":\"o1\"", ""), parts),
                EsprimError.BAD_REQUEST);
        assertRsc(
                withHeader(header.replace("{", "{\"kid\":\"other\","), parts),
                EsprimError.BAD_REQUEST); // duplicate member
        assertRsc("x".repeat(EsprimObject.MAX_LENGTH + 1), EsprimError.BAD_REQUEST);
        // a changed ciphertext fails the tag
        char c = parts[3].charAt(2);
        String tampered = parts[0] + "." + parts[1] + "." + parts[2] + "." + parts[3].substring(0, 2)
                + (c == 'A' ? 'B' : 'A') + parts[3].substring(3) + "." + parts[4];
        assertThatThrownBy(() -> EsprimObject.decrypt(EsprimObject.parse(tampered), SecretBytes.copyOf(session)))
                .isInstanceOfSatisfying(
                        EsprimError.class, e -> assertThat(e.rsc).isEqualTo(EsprimError.BAD_MAC));
    }

    @Test
    void the_originators_choices_must_fit_the_receivers_offer() {
        Instant t = Instant.now().plusSeconds(600);
        RandObject rr = new RandObject("r1", range(0, 16), t, List.of(1), List.of(10, 12));
        assertFit(
                rr,
                new RandObject("o1", range(1, 16), t.plusSeconds(1), List.of(1), List.of(12)),
                "A256GCM",
                false); // outlives
        assertFit(rr, new RandObject("o1", range(1, 16), t, List.of(2), List.of(12)), "A256GCM", false); // other KDF
        assertFit(
                rr,
                new RandObject("o1", range(1, 16), t, List.of(1), List.of(11, 12)),
                "A256GCM",
                false); // not a subset
        assertFit(
                rr,
                new RandObject("o1", range(1, 16), t, List.of(1), List.of(12)),
                "A128GCM",
                false); // enc not offered
        assertFit(rr, new RandObject("o1", range(1, 16), t, List.of(1), List.of(10, 12)), "A128GCM", true);
    }

    static void assertFit(RandObject rr, RandObject or, String enc, boolean ok) {
        if (ok) {
            org.assertj.core.api.Assertions.assertThatCode(() -> EsprimReceiver.checkAgreement(rr, or, enc))
                    .doesNotThrowAnyException();
        } else {
            assertThatThrownBy(() -> EsprimReceiver.checkAgreement(rr, or, enc))
                    .isInstanceOfSatisfying(
                            EsprimError.class, e -> assertThat(e.rsc).isEqualTo(EsprimError.UNSUPPORTED_OPTION));
        }
    }

    static String withHeader(String header, String[] parts) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(header.getBytes(StandardCharsets.UTF_8)) + "."
                + parts[1] + "." + parts[2] + "." + parts[3] + "." + parts[4];
    }

    static void assertRsc(String compact, int rsc) {
        assertThatThrownBy(() -> EsprimObject.parse(compact))
                .as(compact.length() > 80 ? compact.substring(0, 80) : compact)
                .isInstanceOfSatisfying(
                        EsprimError.class, e -> assertThat(e.rsc).isEqualTo(rsc));
    }
}
