package io.m2mtrust.esdata;

import static io.m2mtrust.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;

import io.m2mtrust.testsupport.MafDevices;
import io.m2mtrust.testsupport.OpenSsl;
import io.m2mtrust.testsupport.Tokens;
import io.m2mtrust.tls.DeviceTlsListener;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.jose4j.jwe.JsonWebEncryption;
import org.jose4j.keys.AesKey;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * ESData for MAF end-points over their MAF session: a source protects a reading for targets with keys it
 * registered at the MAF; each target unprotects it; non-targets, other SUIDs, expired keys and policy
 * violations are refused; the dry-run tells the same without producing anything.
 */
@QuarkusTest
class EsDataMafTest {

    static final String T = "esdata-co";

    @Inject
    DeviceTlsListener listener;

    static MafDevices fleet;
    static MafDevices.Device source, t1, t2, outsider;

    @BeforeEach
    void setUp() throws Exception {
        if (fleet != null) {
            return;
        }
        fleet = MafDevices.create(
                T, listener.port(), List.of("s", "t1", "t2", "x"), doc -> doc.put("maxEsdataTargets", 3));
        source = fleet.enrolAndRegister("s");
        t1 = fleet.enrolAndRegister("t1");
        t2 = fleet.enrolAndRegister("t2");
        outsider = fleet.enrolAndRegister("x");
    }

    private String register(int suid, List<MafDevices.Device> targets, byte[] value, Instant expires) throws Exception {
        OpenSsl.Answer a = fleet.maf(
                source,
                "POST",
                "/keyRegistration",
                OpenSsl.keyRegistration(
                        "mafFqdn",
                        fleet.maf,
                        fleet.admin,
                        suid,
                        targets.stream().map(MafDevices.Device::kpmId).toList(),
                        Base64.getEncoder().encodeToString(value),
                        expires));
        assertThat(a.status()).as(a.output()).isEqualTo(201);
        return a.json().getString("keyIdentifier");
    }

    static String protect(List<String> encryptFor, String macWith, String alg, String enc, int cs, byte[] payload) {
        StringBuilder b = new StringBuilder(
                "{\"payload\":\"" + Base64.getEncoder().encodeToString(payload) + "\",\"contentSecurity\":" + cs);
        if (encryptFor != null) {
            b.append(",\"encryptFor\":[")
                    .append(String.join(
                            ",", encryptFor.stream().map(k -> "\"" + k + "\"").toList()))
                    .append(']');
        }
        if (macWith != null) {
            b.append(",\"macWith\":\"").append(macWith).append('"');
        }
        if (alg != null) {
            b.append(",\"alg\":\"").append(alg).append('"');
        }
        if (enc != null) {
            b.append(",\"enc\":\"").append(enc).append('"');
        }
        return b.append('}').toString();
    }

    static String unprotect(String envelope, int cs) {
        return "{\"envelope\":" + io.vertx.core.json.Json.encode(envelope) + ",\"contentSecurity\":" + cs + "}";
    }

    @Test
    void source_encrypts_for_two_targets_each_decrypts_and_others_cannot() throws Exception {
        byte[] k1 = new byte[64];
        byte[] k2 = new byte[64];
        new java.security.SecureRandom().nextBytes(k1);
        new java.security.SecureRandom().nextBytes(k2);
        String kid1 = register(34, List.of(t1), k1, Instant.now().plusSeconds(3600));
        String kid2 = register(34, List.of(t2), k2, Instant.now().plusSeconds(3600));
        byte[] reading = "{\"temperature\":21.5}".getBytes(StandardCharsets.UTF_8);

        OpenSsl.Answer p = fleet.maf(
                source, "POST", "/esdata/protect", protect(List.of(kid1, kid2), null, "A256KW", "A256GCM", 2, reading));
        assertThat(p.status()).as(p.output()).isEqualTo(200);
        String envelope = p.json().getString("envelope");
        for (MafDevices.Device target : List.of(t1, t2)) {
            OpenSsl.Answer u = fleet.maf(target, "POST", "/esdata/unprotect", unprotect(envelope, 2));
            assertThat(u.status()).as(u.output()).isEqualTo(200);
            assertThat(Base64.getDecoder().decode(u.json().getString("payload")))
                    .isEqualTo(reading);
        }
        OpenSsl.Answer no = fleet.maf(outsider, "POST", "/esdata/unprotect", unprotect(envelope, 2));
        assertThat(no.status()).as(no.output()).isEqualTo(404);

        // dir with one key, compact: jose4j opens it with the first half of the registered value (interop profile)
        OpenSsl.Answer d = fleet.maf(
                source, "POST", "/esdata/protect", protect(List.of(kid1), null, "dir", "A256GCM", 1, reading));
        assertThat(d.status()).as(d.output()).isEqualTo(200);
        JsonWebEncryption jwe = new JsonWebEncryption();
        jwe.setCompactSerialization(d.json().getString("envelope"));
        jwe.setKey(new AesKey(Arrays.copyOf(k1, 32)));
        assertThat(jwe.getPlaintextBytes()).isEqualTo(reading);
        assertThat(jwe.getKeyIdHeaderValue()).isEqualTo(kid1);
    }

    @Test
    void mac_and_usage_constraints() throws Exception {
        byte[] k = new byte[64];
        new java.security.SecureRandom().nextBytes(k);
        String macKid = register(35, List.of(t1), k, Instant.now().plusSeconds(3600));
        String encKid = register(34, List.of(t1), k, Instant.now().plusSeconds(3600));
        byte[] reading = "ok".getBytes(StandardCharsets.UTF_8);
        OpenSsl.Answer m =
                fleet.maf(source, "POST", "/esdata/protect", protect(null, macKid, "HS256", null, 3, reading));
        assertThat(m.status()).as(m.output()).isEqualTo(200);
        OpenSsl.Answer v =
                fleet.maf(t1, "POST", "/esdata/unprotect", unprotect(m.json().getString("envelope"), 3));
        assertThat(v.status()).as(v.output()).isEqualTo(200);
        assertThat(v.json().getString("class")).isEqualTo("signature");

        // a key registered for encryption does not MAC, and the other way round
        assertThat(fleet.maf(source, "POST", "/esdata/protect", protect(null, encKid, "HS256", null, 1, reading))
                        .status())
                .isEqualTo(403);
        assertThat(fleet.maf(
                                source,
                                "POST",
                                "/esdata/protect",
                                protect(List.of(macKid), null, "dir", "A256GCM", 1, reading))
                        .status())
                .isEqualTo(403);
        // policy: alg none, an enc outside policy, more targets than maxEsdataTargets
        assertThat(fleet.maf(source, "POST", "/esdata/protect", protect(null, macKid, "none", null, 1, reading))
                        .status())
                .isEqualTo(403);
        assertThat(fleet.maf(
                                source,
                                "POST",
                                "/esdata/protect",
                                protect(List.of(encKid), null, "dir", "A100GCM", 1, reading))
                        .status())
                .isEqualTo(403);
        assertThat(fleet.maf(
                                source,
                                "POST",
                                "/esdata/protect",
                                protect(List.of(encKid, encKid, encKid, encKid), null, "A256KW", "A256GCM", 2, reading))
                        .status())
                .isEqualTo(403);
        // an outsider cannot use someone else's key, unknown ids are unknown, malformed input is 400
        assertThat(fleet.maf(
                                outsider,
                                "POST",
                                "/esdata/protect",
                                protect(List.of(encKid), null, "dir", "A256GCM", 1, reading))
                        .status())
                .isEqualTo(404);
        assertThat(fleet.maf(
                                source,
                                "POST",
                                "/esdata/protect",
                                protect(List.of("0".repeat(32) + "@" + fleet.maf), null, "dir", "A256GCM", 1, reading))
                        .status())
                .isEqualTo(404);
        assertThat(fleet.maf(
                                source,
                                "POST",
                                "/esdata/protect",
                                "{\"payload\":\"%%%\",\"contentSecurity\":1,\"macWith\":\"" + macKid + "\"}")
                        .status())
                .isEqualTo(400);
        assertThat(fleet.maf(
                                source,
                                "POST",
                                "/esdata/protect",
                                "{\"payload\":\"AA==\",\"contentSecurity\":7,\"macWith\":\"" + macKid + "\"}")
                        .status())
                .isEqualTo(400);
        assertThat(fleet.maf(t1, "POST", "/esdata/unprotect", unprotect("a.b", 1))
                        .status())
                .isEqualTo(400);
    }

    @Test
    void expired_keys_are_refused_and_dry_run_explains_without_producing() throws Exception {
        byte[] k = new byte[64];
        new java.security.SecureRandom().nextBytes(k);
        String shortLived = register(34, List.of(t1), k, Instant.now().plusSeconds(2));
        byte[] reading = "soon gone".getBytes(StandardCharsets.UTF_8);
        OpenSsl.Answer p = fleet.maf(
                source, "POST", "/esdata/protect", protect(List.of(shortLived), null, "dir", "A256GCM", 1, reading));
        assertThat(p.status()).isEqualTo(200);
        Thread.sleep(3000);
        assertThat(fleet.maf(t1, "POST", "/esdata/unprotect", unprotect(p.json().getString("envelope"), 1))
                        .status())
                .isEqualTo(404);

        String kid = register(34, List.of(t1, t2), k, Instant.now().plusSeconds(3600));
        OpenSsl.Answer dry = fleet.maf(
                source,
                "POST",
                "/esdata/dry-run",
                protect(List.of(kid, shortLived), null, "A256KW", "A256GCM", 2, reading));
        assertThat(dry.status()).isEqualTo(200);
        assertThat(dry.json().getBoolean("wouldSucceed")).isFalse();
        assertThat(dry.json().getList("keys.usable")).containsExactly(true, false);
        assertThat(dry.json().getString("envelope")).isNull();
        // the operators' simulator asks the same for an end-point
        Map<String, Object> sim = as(Tokens.auditor(T))
                .body(Map.of(
                        "endPoint",
                        source.kpmId(),
                        "request",
                        Map.of(
                                "payload",
                                "AA==",
                                "contentSecurity",
                                2,
                                "encryptFor",
                                List.of(kid),
                                "alg",
                                "A256KW",
                                "enc",
                                "A256GCM")))
                .post("/api/v1/tenants/" + T + "/esdata/dry-run")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .getMap("");
        assertThat(sim.get("wouldSucceed")).isEqualTo(true);
        assertThat(sim.get("option").toString()).contains("key wrap");

        // batch: one call, per-item results
        OpenSsl.Answer batch = fleet.maf(
                source,
                "POST",
                "/esdata/protect/batch",
                "{\"items\":[" + protect(List.of(kid), null, "dir", "A256GCM", 1, reading) + ","
                        + protect(List.of(shortLived), null, "dir", "A256GCM", 1, reading) + "]}");
        assertThat(batch.status()).as(batch.output()).isEqualTo(200);
        assertThat(batch.json().getList("results.status")).containsExactly(200, 404);
        // unprotected in one call too, the second item refused on its own
        OpenSsl.Answer opened = fleet.maf(
                source,
                "POST",
                "/esdata/unprotect/batch",
                "{\"items\":[{\"envelope\":\"" + batch.json().getString("results[0].envelope")
                        + "\",\"contentSecurity\":1},{\"envelope\":\"a.b.c.d.e\",\"contentSecurity\":1}]}");
        assertThat(opened.status()).as(opened.output()).isEqualTo(200);
        assertThat(opened.json().getList("results.status").get(0)).isEqualTo(200);
        assertThat(opened.json().getList("results.status").get(1)).isNotEqualTo(200);
        // an oversized batch is refused whole before any item runs
        String item = protect(List.of(kid), null, "dir", "A256GCM", 1, reading);
        OpenSsl.Answer tooMany = fleet.maf(
                source,
                "POST",
                "/esdata/protect/batch",
                "{\"items\":[" + String.join(",", java.util.Collections.nCopies(51, item)) + "]}");
        assertThat(tooMany.status()).as(tooMany.output()).isEqualTo(400);
    }
}
