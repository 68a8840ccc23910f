package io.m2mtrust.esprim;

import static io.m2mtrust.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.m2mtrust.testsupport.Api;
import io.m2mtrust.testsupport.IndependentEsprim;
import io.m2mtrust.testsupport.MiniCse;
import io.m2mtrust.testsupport.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.response.Response;
import org.jose4j.jwe.JsonWebEncryption;
import org.jose4j.jwe.KeyManagementAlgorithmIdentifiers;
import org.jose4j.keys.AesKey;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.security.SecureRandom;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The proxy as ESPrim Receiver for a CSE behind it (a oneM2M HTTP CSE stand-in): the originator here is
 * independent — its rand object, the §10.3.8 session key with plain javax.crypto, and the ESPrim object with
 * jose4j — and opens the proxy's protected response itself. Then every refusal with its oneM2M status code.
 */
@QuarkusTest
class EsprimProxyTest {

    static final String T = "esprim-co";
    static final String KID = "pair-1@keys.esprim-co.example";
    static final String ORIGINATOR = "Csensor";
    static final ObjectMapper JSON = new ObjectMapper();
    static final DateTimeFormatter BASIC =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss").withZone(ZoneOffset.UTC);
    static MiniCse cse;
    static final SecureRandom RANDOM = new SecureRandom();
    static byte[] pairwise = new byte[32];

    @BeforeEach
    void proxyInFrontOfACse() throws Exception {
        if (cse != null) {
            return;
        }
        cse = MiniCse.start("/id-in", "cse-in");
        Api.createTenant(T);
        as(Tokens.tenantAdmin(T))
                .body(Map.of("cseUrl", cse.url(), "cseId", "/id-in", "cseBase", "cse-in", "timeoutMs", 1500))
                .put("/api/v1/tenants/" + T + "/proxy")
                .then()
                .statusCode(200);
        as(Tokens.tenantAdmin(T))
                .body(Map.of("entityId", "/id-in", "resourcePath", "cse-in"))
                .put("/api/v1/tenants/" + T + "/proxy/entities")
                .then()
                .statusCode(200);
        new SecureRandom().nextBytes(pairwise);
        as(Tokens.tenantAdmin(T))
                .body(Map.of(
                        "keyId",
                        KID,
                        "suid",
                        13,
                        "holders",
                        List.of(ORIGINATOR, "/id-in"),
                        "keyValue",
                        Base64.getEncoder().encodeToString(pairwise),
                        "expiresAt",
                        Instant.now().plusSeconds(3600).toString()))
                .post("/api/v1/tenants/" + T + "/preprovisioned-keys")
                .then()
                .statusCode(201);
    }

    @AfterAll
    static void stop() {
        if (cse != null) {
            cse.close();
        }
    }

    // ---------------------------------------------------------------- an independent originator

    /** Everything an originator holds for one session. */
    record Session(Map<String, Object> receiverRand, Map<String, Object> originatorRand, byte[] key) {
        String rri() {
            return (String) receiverRand.get("esri");
        }

        String ori() {
            return (String) originatorRand.get("esri");
        }
    }

    static Response notify(String origin, Object seci, String ri) {
        return RestAssured.given()
                .header("X-M2M-Origin", origin)
                .header("X-M2M-RI", ri)
                .header("X-M2M-RVI", "3")
                .contentType("application/json")
                .body(Map.of("m2m:seci", seci))
                .post("/onem2m/" + T + "/cse-in");
    }

    @SuppressWarnings("unchecked")
    static Session session(String origin) throws Exception {
        Response r = notify(origin, Map.of("sit", 3), "rand-" + System.nanoTime());
        assertThat(r.statusCode()).as(r.asString()).isEqualTo(200);
        assertThat(r.header("X-M2M-RSC")).isEqualTo("2000");
        Map<String, Object> seci = (Map<String, Object>) r.jsonPath().getMap("").get("m2m:seci");
        assertThat(seci.get("sit")).isEqualTo(4);
        Map<String, Object> rr = (Map<String, Object>) seci.get("ero");
        Map<String, Object> oro =
                IndependentEsprim.originatorRand("o" + Long.toHexString(RANDOM.nextLong()), (String) rr.get("esrx"));
        return new Session(
                rr, oro, IndependentEsprim.sessionKey(pairwise, (String) rr.get("esrv"), (String) oro.get("esrv")));
    }

    static String esprimObject(Session s, Map<String, Object> inner, boolean withOro, String enc) throws Exception {
        JsonWebEncryption jwe = new JsonWebEncryption();
        jwe.setAlgorithmHeaderValue(KeyManagementAlgorithmIdentifiers.DIRECT);
        jwe.setEncryptionMethodHeaderParameter(enc);
        jwe.setKeyIdHeaderValue(KID);
        jwe.setHeader("ori", s.ori());
        jwe.setHeader("rri", s.rri());
        if (withOro) {
            jwe.getHeaders().setObjectHeaderValue("oro", s.originatorRand());
        }
        jwe.setContentTypeHeaderValue("application/vnd.onem2m-preq+json");
        jwe.setKey(new AesKey(Arrays.copyOf(s.key(), enc.equals("A128GCM") ? 16 : 32)));
        jwe.setPlaintext(JSON.writeValueAsString(inner));
        return jwe.getCompactSerialization();
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> openResponse(Session s, Response r) throws Exception {
        assertThat(r.statusCode()).as(r.asString()).isEqualTo(200);
        Map<String, Object> seci = (Map<String, Object>) r.jsonPath().getMap("").get("m2m:seci");
        assertThat(seci.get("sit")).isEqualTo(5);
        JsonWebEncryption jwe = new JsonWebEncryption();
        jwe.setCompactSerialization((String) seci.get("epo"));
        assertThat(jwe.getHeader("rri")).isEqualTo(s.rri());
        assertThat(jwe.getHeader("ori")).isEqualTo(s.ori());
        assertThat(jwe.getKeyIdHeaderValue()).isEqualTo(KID);
        jwe.setKey(new AesKey(s.key()));
        return JSON.readValue(jwe.getPlaintextString(), Map.class);
    }

    static Map<String, Object> request(int op, String to, String from, String rqi, Integer ty, Object pc) {
        return IndependentEsprim.primitive(op, to, from, rqi, ty, pc);
    }

    static String rqi() {
        return "rq-" + System.nanoTime();
    }

    // ---------------------------------------------------------------- the exchange

    @Test
    @SuppressWarnings("unchecked")
    void an_independent_originator_creates_and_retrieves_through_esprim_and_opens_the_protected_responses()
            throws Exception {
        Session s = session(ORIGINATOR);
        String ae = "Csensor" + System.nanoTime();
        Map<String, Object> create = request(
                1,
                "cse-in",
                ORIGINATOR,
                rqi(),
                2,
                Map.of("m2m:ae", Map.of("rn", ae, "api", "Nsensor", "rr", false, "srv", List.of("3"))));
        Map<String, Object> created = openResponse(
                s, notify(ORIGINATOR, Map.of("sit", 5, "epo", esprimObject(s, create, true, "A256GCM")), "outer-1"));
        assertThat(created.get("rsc")).isEqualTo(2001);
        assertThat(created.get("rqi")).isEqualTo(create.get("rqi"));
        assertThat(((Map<String, Object>) created.get("pc")).get("m2m:ae")).isNotNull();
        assertThat(cse.exists("cse-in/" + ae)).isTrue();
        MiniCse.Seen seen = cse.seen().get(cse.seen().size() - 1);
        assertThat(seen.origin()).isEqualTo(ORIGINATOR);
        assertThat(seen.requestId()).isEqualTo(create.get("rqi"));
        assertThat(seen.contentType()).contains("ty=2");

        // the second exchange names the originator rand object by ori only; SP-relative To
        Map<String, Object> retrieve = request(2, "/id-in/cse-in/" + ae, ORIGINATOR, rqi(), null, null);
        Map<String, Object> got = openResponse(
                s, notify(ORIGINATOR, Map.of("sit", 5, "epo", esprimObject(s, retrieve, false, "A256GCM")), "outer-2"));
        assertThat(got.get("rsc")).isEqualTo(2000);
        assertThat(((Map<String, Object>) ((Map<String, Object>) got.get("pc")).get("m2m:ae")).get("api"))
                .isEqualTo("Nsensor");
    }

    @Test
    void e2e_sec_info_is_added_to_the_cse_base_and_plain_primitives_pass_through() {
        Response cb = RestAssured.given()
                .header("X-M2M-Origin", "Cany")
                .header("X-M2M-RI", "cb-1")
                .header("X-M2M-RVI", "3")
                .get("/onem2m/" + T + "/cse-in");
        assertThat(cb.statusCode()).isEqualTo(200);
        assertThat(cb.header("X-M2M-RSC")).isEqualTo("2000");
        assertThat(cb.jsonPath().getList("'m2m:cb'.esi.esf", Integer.class)).contains(13, 23, 33);
        assertThat(cb.jsonPath().getString("'m2m:cb'.esi.esro.esrv")).matches("_[0-9a-f]{32}");
        // a plain create passes through unchanged
        Response made = RestAssured.given()
                .header("X-M2M-Origin", "Cplain")
                .header("X-M2M-RI", "p-1")
                .header("X-M2M-RVI", "3")
                .contentType("application/json;ty=2")
                .body(Map.of("m2m:ae", Map.of("rn", "Cplain", "api", "Nplain", "rr", false, "srv", List.of("3"))))
                .post("/onem2m/" + T + "/cse-in");
        assertThat(made.statusCode()).as(made.asString()).isEqualTo(201);
        assertThat(made.header("X-M2M-RSC")).isEqualTo("2001");
        assertThat(made.header("X-M2M-RI")).isEqualTo("p-1");
        // only CSE-relative addresses below the CSE base pass
        Response elsewhere = RestAssured.given()
                .header("X-M2M-Origin", "Cany")
                .header("X-M2M-RI", "e-1")
                .get("/onem2m/" + T + "/admin/secrets");
        assertThat(elsewhere.header("X-M2M-RSC")).isEqualTo("4004");
        Response dotdot = RestAssured.given()
                .urlEncodingEnabled(false)
                .header("X-M2M-Origin", "Cany")
                .header("X-M2M-RI", "e-2")
                .get("/onem2m/" + T + "/cse-in/%2e%2e/admin");
        assertThat(dotdot.header("X-M2M-RSC")).isEqualTo("4004");
    }

    @Test
    @SuppressWarnings("unchecked")
    void repeated_rand_requests_of_one_originator_reuse_its_live_rand_object() {
        Map<String, Object> a = (Map<String, Object>) ((Map<String, Object>) notify("Crepeat", Map.of("sit", 3), "r-1")
                        .jsonPath()
                        .getMap("")
                        .get("m2m:seci"))
                .get("ero");
        Map<String, Object> b = (Map<String, Object>) ((Map<String, Object>) notify("Crepeat", Map.of("sit", 3), "r-2")
                        .jsonPath()
                        .getMap("")
                        .get("m2m:seci"))
                .get("ero");
        Map<String, Object> c = (Map<String, Object>) ((Map<String, Object>) notify("Cother2", Map.of("sit", 3), "r-3")
                        .jsonPath()
                        .getMap("")
                        .get("m2m:seci"))
                .get("ero");
        assertThat(b.get("esri")).isEqualTo(a.get("esri"));
        assertThat(c.get("esri")).isNotEqualTo(a.get("esri"));
        assertThat((String) a.get("esri")).startsWith("r");
    }

    // ---------------------------------------------------------------- refusals

    static String rsc(Response r) {
        return r.header("X-M2M-RSC");
    }

    @Test
    void a_replay_arriving_with_the_original_is_refused_once_whichever_wins() throws Exception {
        Session s = session(ORIGINATOR);
        Map<String, Object> warm = request(2, "cse-in", ORIGINATOR, rqi(), null, null);
        assertThat(rsc(notify(ORIGINATOR, Map.of("sit", 5, "epo", esprimObject(s, warm, true, "A256GCM")), "w-1")))
                .isEqualTo("2000");
        // the same object 8 times at once, then 8 objects (fresh IVs) carrying one inner request id at once: the
        // fingerprints land in the same write groups of the replay ledger, and exactly one of each set is opened
        String same = esprimObject(s, request(2, "cse-in", ORIGINATOR, rqi(), null, null), false, "A256GCM");
        Map<String, Object> oneRequest = request(2, "cse-in", ORIGINATOR, rqi(), null, null);
        List<String> sameRequest = new java.util.ArrayList<>();
        for (int i = 0; i < 8; i++) {
            sameRequest.add(esprimObject(s, oneRequest, false, "A256GCM"));
        }
        for (List<String> objects : List.of(java.util.Collections.nCopies(8, same), sameRequest)) {
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8);
            try {
                java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
                List<java.util.concurrent.Future<String>> answers = new java.util.ArrayList<>();
                for (int i = 0; i < objects.size(); i++) {
                    String epo = objects.get(i);
                    String outer = "race-" + i + "-" + System.nanoTime();
                    answers.add(pool.submit(() -> {
                        go.await();
                        return rsc(notify(ORIGINATOR, Map.of("sit", 5, "epo", epo), outer));
                    }));
                }
                go.countDown();
                List<String> codes = new java.util.ArrayList<>();
                for (var a : answers) {
                    codes.add(a.get(60, java.util.concurrent.TimeUnit.SECONDS));
                }
                assertThat(codes).as(codes.toString()).containsOnly("2000", "4000");
                assertThat(codes.stream().filter("2000"::equals).count())
                        .as(codes.toString())
                        .isEqualTo(1);
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void every_receiver_check_answers_with_its_status_code() throws Exception {
        Session s = session(ORIGINATOR);
        Map<String, Object> ok = request(2, "cse-in", ORIGINATOR, rqi(), null, null);
        String first = esprimObject(s, ok, true, "A256GCM");
        assertThat(rsc(notify(ORIGINATOR, Map.of("sit", 5, "epo", first), "o-1")))
                .isEqualTo("2000");
        // replay: the same object again, and the same inner request id in a new object
        Response replay = notify(ORIGINATOR, Map.of("sit", 5, "epo", first), "o-2");
        assertThat(rsc(replay)).isEqualTo("4000");
        assertThat(replay.statusCode()).isEqualTo(400);
        assertThat(rsc(notify(ORIGINATOR, Map.of("sit", 5, "epo", esprimObject(s, ok, false, "A256GCM")), "o-3")))
                .isEqualTo("4000");
        // malformed JWE, no epo, unknown securityInfoType
        assertThat(rsc(notify(ORIGINATOR, Map.of("sit", 5, "epo", "not.a.jwe"), "o-4")))
                .isEqualTo("4000");
        assertThat(rsc(notify(ORIGINATOR, Map.of("sit", 5), "o-5"))).isEqualTo("4000");
        assertThat(rsc(notify(ORIGINATOR, Map.of("sit", 42), "o-6"))).isEqualTo("4000");
        assertThat(rsc(notify(ORIGINATOR, Map.of("sit", 3, "epo", "x"), "o-6b")))
                .isEqualTo("4000");
        // unsupported enc: the originator offered only A256GCM
        assertThat(rsc(notify(
                        ORIGINATOR,
                        Map.of(
                                "sit",
                                5,
                                "epo",
                                esprimObject(s, request(2, "cse-in", ORIGINATOR, rqi(), null, null), false, "A128GCM")),
                        "o-7")))
                .isEqualTo("4111");
        // unknown key id
        String unknownKid = esprimObject(s, request(2, "cse-in", ORIGINATOR, rqi(), null, null), false, "A256GCM")
                .replaceFirst("^[^.]+", header(s, "kid", "nobody@keys.esprim-co.example"));
        assertThat(rsc(notify(ORIGINATOR, Map.of("sit", 5, "epo", unknownKid), "o-8")))
                .isEqualTo("4112");
        // unknown receiver and originator rand ids
        Session otherRri = new Session(
                Map.of("esri", "rUnknown", "esrv", s.receiverRand().get("esrv")), s.originatorRand(), s.key());
        assertThat(rsc(notify(
                        ORIGINATOR,
                        Map.of(
                                "sit",
                                5,
                                "epo",
                                esprimObject(
                                        otherRri,
                                        request(2, "cse-in", ORIGINATOR, rqi(), null, null),
                                        false,
                                        "A256GCM")),
                        "o-9")))
                .isEqualTo("4114");
        Map<String, Object> oro2 = new LinkedHashMap<>(s.originatorRand());
        oro2.put("esri", "oNeverSent");
        Session otherOri = new Session(s.receiverRand(), oro2, s.key());
        assertThat(rsc(notify(
                        ORIGINATOR,
                        Map.of(
                                "sit",
                                5,
                                "epo",
                                esprimObject(
                                        otherOri,
                                        request(2, "cse-in", ORIGINATOR, rqi(), null, null),
                                        false,
                                        "A256GCM")),
                        "o-10")))
                .isEqualTo("4113");
        // tampered ciphertext
        String[] p = esprimObject(s, request(2, "cse-in", ORIGINATOR, rqi(), null, null), false, "A256GCM")
                .split("\\.");
        char c = p[3].charAt(2);
        String tampered = p[0] + ".." + p[2] + "." + p[3].substring(0, 2) + (c == 'A' ? 'B' : 'A') + p[3].substring(3)
                + "." + p[4];
        assertThat(rsc(notify(ORIGINATOR, Map.of("sit", 5, "epo", tampered), "o-11")))
                .isEqualTo("4115");
        // impersonation: a holder of the key claims to be someone else inside
        assertThat(rsc(notify(
                        ORIGINATOR,
                        Map.of(
                                "sit",
                                5,
                                "epo",
                                esprimObject(s, request(2, "cse-in", "Cmallory", rqi(), null, null), false, "A256GCM")),
                        "o-12")))
                .isEqualTo("4116");
        // a receiver rand object issued to another originator
        Session forOther = session("Cother");
        Map<String, Object> oro3 = new LinkedHashMap<>(s.originatorRand());
        oro3.put("esri", "o3" + System.nanoTime());
        oro3.put("esrx", forOther.receiverRand().get("esrx"));
        Session stolen = withKey(new Session(forOther.receiverRand(), oro3, null));
        assertThat(rsc(notify(
                        ORIGINATOR,
                        Map.of(
                                "sit",
                                5,
                                "epo",
                                esprimObject(
                                        stolen, request(2, "cse-in", ORIGINATOR, rqi(), null, null), true, "A256GCM")),
                        "o-13")))
                .isEqualTo("4116");
        // an inner Notify that itself carries securityInfo: no recursion
        assertThat(rsc(notify(
                        ORIGINATOR,
                        Map.of(
                                "sit",
                                5,
                                "epo",
                                esprimObject(
                                        s,
                                        request(
                                                5,
                                                "cse-in",
                                                ORIGINATOR,
                                                rqi(),
                                                null,
                                                Map.of("m2m:seci", Map.of("sit", 3))),
                                        false,
                                        "A256GCM")),
                        "o-14")))
                .isEqualTo("4000");
        // expired rand objects: the originator's (stored from its oro), then the receiver's
        Session late = session("Clate");
        sql("update esprim_rand set expires_at = now() - interval '1 second' where role = 'RECEIVER' and rand_id = '"
                + late.rri() + "'");
        assertThat(rsc(notify(
                        "Clate",
                        Map.of(
                                "sit",
                                5,
                                "epo",
                                esprimObject(s, request(2, "cse-in", ORIGINATOR, rqi(), null, null), false, "A256GCM")
                                        .replaceFirst("^[^.]+", header(s, "rri", late.rri()))),
                        "o-16")))
                .isEqualTo("4114");
        // the originator's stored rand object expired: named by ori with another receiver rand (the shared one from
        // esi),
        // so no session the receiver already holds in memory applies
        sql("update esprim_rand set expires_at = now() - interval '1 second' where role = 'ORIGINATOR' and rand_id = '"
                + s.ori() + "'");
        String shared = RestAssured.given()
                .header("X-M2M-Origin", ORIGINATOR)
                .header("X-M2M-RI", "cb-2")
                .get("/onem2m/" + T + "/cse-in")
                .jsonPath()
                .getString("'m2m:cb'.esi.esro.esri");
        assertThat(rsc(notify(
                        ORIGINATOR,
                        Map.of(
                                "sit",
                                5,
                                "epo",
                                esprimObject(s, request(2, "cse-in", ORIGINATOR, rqi(), null, null), false, "A256GCM")
                                        .replaceFirst("^[^.]+", header(s, "rri", shared))),
                        "o-17")))
                .isEqualTo("4113");
        // oversized primitive
        Response big = RestAssured.given()
                .header("X-M2M-Origin", ORIGINATOR)
                .header("X-M2M-RI", "o-15")
                .contentType("application/json")
                .body("{\"m2m:seci\":{\"sit\":5,\"epo\":\"" + "A".repeat(600_000) + "\"}}")
                .post("/onem2m/" + T + "/cse-in");
        assertThat(rsc(big)).isEqualTo("4000");
        assertThat(big.statusCode()).isEqualTo(400);
    }

    static void sql(String statement) throws Exception {
        try (java.sql.Connection c = io.m2mtrust.testsupport.PostgresResource.postgres()
                        .getDatabase("postgres", "m2mtrust")
                        .getConnection();
                java.sql.Statement st = c.createStatement()) {
            st.execute(statement);
        }
    }

    /** The session key for a session's rand objects (the test's own derivation). */
    static Session withKey(Session s) {
        return new Session(
                s.receiverRand(),
                s.originatorRand(),
                IndependentEsprim.sessionKey(pairwise, (String) s.receiverRand().get("esrv"), (String)
                        s.originatorRand().get("esrv")));
    }

    /** A protected header like the session's, with one member changed (the tag then cannot match, but kid is checked first). */
    static String header(Session s, String name, String value) throws Exception {
        Map<String, Object> h = new LinkedHashMap<>();
        h.put("alg", "dir");
        h.put("enc", "A256GCM");
        h.put("kid", KID);
        h.put("ori", s.ori());
        h.put("rri", s.rri());
        h.put(name, value);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(JSON.writeValueAsBytes(h));
    }

    @Test
    @SuppressWarnings("unchecked")
    void a_cse_that_is_slow_or_down_gives_a_clear_protected_error_and_esprim_required_refuses_plain_primitives()
            throws Exception {
        Session s = session(ORIGINATOR);
        cse.slow(2500);
        try {
            Map<String, Object> slow = openResponse(
                    s,
                    notify(
                            ORIGINATOR,
                            Map.of(
                                    "sit",
                                    5,
                                    "epo",
                                    esprimObject(
                                            s, request(2, "cse-in", ORIGINATOR, rqi(), null, null), true, "A256GCM")),
                            "s-1"));
            assertThat(slow.get("rsc")).isEqualTo(4008);
            // the same for a primitive that only passes through (the non-blocking client's idle timeout)
            Response plainSlow = RestAssured.given()
                    .header("X-M2M-Origin", "Cplain")
                    .header("X-M2M-RI", "s-0")
                    .get("/onem2m/" + T + "/cse-in/Cplain");
            assertThat(rsc(plainSlow)).isEqualTo("4008");
            assertThat(plainSlow.statusCode()).isEqualTo(408);
        } finally {
            cse.slow(0);
        }
        // a CSE that is not there
        as(Tokens.tenantAdmin(T))
                .body(Map.of("cseUrl", "http://127.0.0.1:1", "cseId", "/id-in", "cseBase", "cse-in", "timeoutMs", 1500))
                .put("/api/v1/tenants/" + T + "/proxy")
                .then()
                .statusCode(200);
        try {
            Map<String, Object> down = openResponse(
                    s,
                    notify(
                            ORIGINATOR,
                            Map.of(
                                    "sit",
                                    5,
                                    "epo",
                                    esprimObject(
                                            s, request(2, "cse-in", ORIGINATOR, rqi(), null, null), false, "A256GCM")),
                            "s-2"));
            assertThat(down.get("rsc")).isEqualTo(5103);
            Response plain = RestAssured.given()
                    .header("X-M2M-Origin", "Cplain")
                    .header("X-M2M-RI", "s-3")
                    .get("/onem2m/" + T + "/cse-in/Cplain");
            assertThat(rsc(plain)).isEqualTo("5103");
        } finally {
            as(Tokens.tenantAdmin(T))
                    .body(Map.of("cseUrl", cse.url(), "cseId", "/id-in", "cseBase", "cse-in", "timeoutMs", 1500))
                    .put("/api/v1/tenants/" + T + "/proxy")
                    .then()
                    .statusCode(200);
        }
        // ESPrim required: plain primitives to the entity are refused, ESPrim still works
        as(Tokens.tenantAdmin(T))
                .body(Map.of("entityId", "/id-in", "resourcePath", "cse-in", "esprimRequired", true))
                .put("/api/v1/tenants/" + T + "/proxy/entities")
                .then()
                .statusCode(200);
        try {
            Response plain = RestAssured.given()
                    .header("X-M2M-Origin", "Cplain")
                    .header("X-M2M-RI", "s-4")
                    .get("/onem2m/" + T + "/cse-in");
            assertThat(rsc(plain)).isEqualTo("4107");
            assertThat(plain.statusCode()).isEqualTo(403);
            Map<String, Object> viaEsprim = openResponse(
                    s,
                    notify(
                            ORIGINATOR,
                            Map.of(
                                    "sit",
                                    5,
                                    "epo",
                                    esprimObject(
                                            s, request(2, "cse-in", ORIGINATOR, rqi(), null, null), false, "A256GCM")),
                            "s-5"));
            assertThat(viaEsprim.get("rsc")).isEqualTo(2000);
        } finally {
            as(Tokens.tenantAdmin(T))
                    .body(Map.of("entityId", "/id-in", "resourcePath", "cse-in", "esprimRequired", false))
                    .put("/api/v1/tenants/" + T + "/proxy/entities")
                    .then()
                    .statusCode(200);
        }
    }

    @Test
    void proxy_admin_refuses_bad_configuration_and_other_tenants() {
        as(Tokens.tenantAdmin(T))
                .body(Map.of("cseUrl", "ftp://x", "cseId", "id-in", "cseBase", "cse in"))
                .put("/api/v1/tenants/" + T + "/proxy")
                .then()
                .statusCode(400);
        as(Tokens.tenantAdmin(T))
                .body(Map.of("entityId", "/id-in", "resourcePath", "elsewhere"))
                .put("/api/v1/tenants/" + T + "/proxy/entities")
                .then()
                .statusCode(400);
        as(Tokens.auditor(T))
                .body(Map.of("entityId", "/id-in", "resourcePath", "cse-in"))
                .put("/api/v1/tenants/" + T + "/proxy/entities")
                .then()
                .statusCode(403);
        as(Tokens.tenantAdmin("other-co"))
                .get("/api/v1/tenants/" + T + "/proxy")
                .then()
                .statusCode(404);
        Response none = RestAssured.given().header("X-M2M-Origin", "Cx").get("/onem2m/no-such-tenant/cse-in");
        assertThat(rsc(none)).isEqualTo("4004");
    }
}
