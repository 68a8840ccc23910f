package io.m2mtrust.esprim;

import static io.m2mtrust.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.m2mtrust.testsupport.AcmeCse;
import io.m2mtrust.testsupport.Api;
import io.m2mtrust.testsupport.IndependentEsprim;
import io.m2mtrust.testsupport.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.config.EncoderConfig;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import org.jose4j.jwe.JsonWebEncryption;
import org.jose4j.keys.AesKey;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import java.util.Map;

/**
 * The proxy in front of a real, standards-conforming CSE — the ACME CSE ({@code pip install acmecse}), not
 * the test stand-in: plain primitives pass through, {@code esi} is added to ACME's own {@code <CSEBase>}, an
 * independent ESPrim originator registers an AE and creates resources at ACME through the Receiver role and
 * opens the protected answers, and ESData by policy stores a content instance at ACME signed and encrypted.
 */
@QuarkusTest
class AcmeCseProxyTest {

    static final String T = "acme-proxy-co";
    static final String KID = "pair-acme@keys.acme-proxy-co.example";
    static final String SENSOR = "Cacmesensor";
    static final ObjectMapper JSON = new ObjectMapper();
    static final SecureRandom RANDOM = new SecureRandom();
    static final byte[] PAIRWISE = new byte[32];
    static AcmeCse acme;

    @BeforeEach
    void proxyInFrontOfAcme() throws Exception {
        if (acme != null) {
            return;
        }
        acme = AcmeCse.start(Path.of("target/acmecse"));
        Api.createTenant(T);
        RANDOM.nextBytes(PAIRWISE);
        acme.putBehindProxy(T, KID, SENSOR, PAIRWISE);
    }

    @AfterAll
    static void stop() {
        if (acme != null) {
            acme.close();
        }
    }

    static Response plain(String method, String origin, String path, Integer ty, Object body) {
        // exactly "application/json;ty=N": RestAssured would append "; charset=…", which ACME refuses (it reads ty
        // as everything after "ty="), and the proxy passes Content-Type through unchanged
        var r = RestAssured.given()
                .config(RestAssured.config()
                        .encoderConfig(EncoderConfig.encoderConfig()
                                .appendDefaultContentCharsetToContentTypeIfUndefined(false)))
                .header("X-M2M-Origin", origin)
                .header("X-M2M-RI", "ri-" + System.nanoTime())
                .header("X-M2M-RVI", "3")
                .accept("application/json");
        if (body != null) {
            r = r.contentType("application/json" + (ty == null ? "" : ";ty=" + ty))
                    .body(body);
        }
        return r.request(method, "/onem2m/" + T + "/" + path);
    }

    /** What ACME itself holds, asked directly (not through the proxy). */
    static JsonPath atAcme(String path) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create(acme.url() + "/" + path))
                                .header("X-M2M-Origin", "CAdmin")
                                .header("X-M2M-RI", "direct-" + System.nanoTime())
                                .header("X-M2M-RVI", "3")
                                .header("Accept", "application/json")
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JsonPath.from(r.body());
    }

    @Test
    void plain_primitives_pass_through_to_acme_and_its_cse_base_advertises_e2e_security() throws Exception {
        Response cb = plain("GET", "CAdmin", AcmeCse.CSE_BASE, null, null);
        assertThat(cb.statusCode()).as(cb.asString()).isEqualTo(200);
        assertThat(cb.header("X-M2M-RSC")).isEqualTo("2000");
        assertThat(cb.jsonPath().getString("'m2m:cb'.csi")).isEqualTo("/id-in");
        assertThat(cb.jsonPath().getString("'m2m:cb'.spi")).isEqualTo("//acme.example.com"); // ACME's own answer
        assertThat(cb.jsonPath().getList("'m2m:cb'.esi.esf", Integer.class)).contains(13, 23, 33);
        assertThat(cb.jsonPath().getString("'m2m:cb'.esi.esro.esrv")).matches("_[0-9a-f]{32}");

        String ae = "Cplain" + System.nanoTime();
        Response made = plain(
                "POST",
                ae,
                AcmeCse.CSE_BASE,
                2,
                Map.of("m2m:ae", Map.of("rn", ae, "api", "Nplain", "rr", false, "srv", List.of("3"))));
        assertThat(made.statusCode()).as(made.asString()).isEqualTo(201);
        assertThat(made.header("X-M2M-RSC")).isEqualTo("2001");
        assertThat(made.jsonPath().getString("'m2m:ae'.aei")).isEqualTo(ae);
        assertThat(atAcme(AcmeCse.CSE_BASE + "/" + ae).getString("'m2m:ae'.api"))
                .isEqualTo("Nplain");
        Response updated = plain(
                "PUT", ae, AcmeCse.CSE_BASE + "/" + ae, null, Map.of("m2m:ae", Map.of("lbl", List.of("via-proxy"))));
        assertThat(updated.header("X-M2M-RSC")).as(updated.asString()).isEqualTo("2004");
        assertThat(atAcme(AcmeCse.CSE_BASE + "/" + ae).getList("'m2m:ae'.lbl")).containsExactly("via-proxy");
        // ACME's own refusals come back as ACME gave them
        Response missing = plain("GET", ae, AcmeCse.CSE_BASE + "/no-such-resource", null, null);
        assertThat(missing.header("X-M2M-RSC")).isEqualTo("4004");
        Response deleted = plain("DELETE", ae, AcmeCse.CSE_BASE + "/" + ae, null, null);
        assertThat(deleted.header("X-M2M-RSC")).as(deleted.asString()).isEqualTo("2002");
        assertThat(plain("GET", "CAdmin", AcmeCse.CSE_BASE + "/" + ae, null, null)
                        .header("X-M2M-RSC"))
                .isEqualTo("4004");
    }

    /**
     * TS-0009 §6.4: one {@code X-M2M-RSC} on every answer, and no oneM2M header twice — read with the JDK's HTTP
     * client, which keeps every header line (a client that folds repeats saw {@code 2000, 2000}).
     */
    @Test
    void every_answer_carries_exactly_one_x_m2m_rsc_and_no_onem2m_header_twice() throws Exception {
        String base = "http://localhost:" + RestAssured.port;
        String ae = "Cone" + System.nanoTime();
        String create = JSON.writeValueAsString(
                Map.of("m2m:ae", Map.of("rn", ae, "api", "None", "rr", false, "srv", List.of("3"))));
        String rand = JSON.writeValueAsString(Map.of("m2m:seci", Map.of("sit", 3)));
        record Call(String method, String path, String origin, String contentType, String body, String rsc) {}
        List<Call> calls = List.of(
                new Call(
                        "GET",
                        "/onem2m/" + T + "/" + AcmeCse.CSE_BASE,
                        "CAdmin",
                        null,
                        null,
                        "2000"), // pass-through, esi injected
                new Call(
                        "POST",
                        "/onem2m/" + T + "/" + AcmeCse.CSE_BASE,
                        ae,
                        "application/json;ty=2",
                        create,
                        "2001"), // pass-through create
                new Call(
                        "GET",
                        "/onem2m/" + T + "/" + AcmeCse.CSE_BASE + "/no-such",
                        "CAdmin",
                        null,
                        null,
                        "4004"), // ACME's own refusal
                new Call(
                        "POST",
                        "/onem2m/" + T + "/" + AcmeCse.CSE_BASE,
                        SENSOR,
                        "application/json",
                        rand,
                        "2000"), // ESPrim receiver: rand object
                new Call(
                        "POST",
                        "/onem2m/" + T + "/" + AcmeCse.CSE_BASE,
                        SENSOR,
                        "application/json",
                        "{\"m2m:seci\":{\"sit\":5,\"epo\":\"not.an.esprim.object\"}}",
                        null), // ESPrim receiver: refusal
                new Call("GET", "/onem2m/no-proxy-co/cse-in", "CAdmin", null, null, "4004"), // the proxy's own error
                new Call(
                        "POST",
                        "/onem2m/" + T + "/" + AcmeCse.CSE_BASE,
                        "CAdmin",
                        "application/json",
                        "x".repeat(300_000),
                        "4000"), // oversized
                new Call(
                        "GET",
                        "/onem2m-out/" + T + "/nobody/cse-in",
                        "CAdmin",
                        null,
                        null,
                        "4004"), // originator role, no remote
                new Call(
                        "GET",
                        "/onem2m-out/" + T + "/nobody/cse-in",
                        null,
                        null,
                        null,
                        null)); // originator role, no From
        HttpClient http = HttpClient.newHttpClient();
        for (Call c : calls) {
            String ri = "one-" + System.nanoTime();
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + c.path()))
                    .header("X-M2M-RI", ri)
                    .header("X-M2M-RVI", "3")
                    .header("Accept", "application/json")
                    .method(
                            c.method(),
                            c.body() == null
                                    ? HttpRequest.BodyPublishers.noBody()
                                    : HttpRequest.BodyPublishers.ofString(c.body()));
            if (c.origin() != null) {
                b.header("X-M2M-Origin", c.origin());
            }
            if (c.contentType() != null) {
                b.header("Content-Type", c.contentType());
            }
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            String what = c.method() + " " + c.path() + " → " + r.statusCode() + " "
                    + r.headers().map();
            List<String> rsc = r.headers().allValues("X-M2M-RSC");
            assertThat(rsc).as(what).hasSize(1);
            assertThat(rsc.get(0)).as(what).matches("[0-9]{4}");
            if (c.rsc() != null) {
                assertThat(rsc.get(0)).as(what).isEqualTo(c.rsc());
            }
            r.headers().map().forEach((name, values) -> {
                if (name.toLowerCase().startsWith("x-m2m-")) {
                    assertThat(values).as(what + ": " + name).hasSize(1);
                }
            });
            // the request identifier comes back at most once, and as sent on what the CSE answered
            List<String> ris = r.headers().allValues("X-M2M-RI");
            assertThat(ris).as(what).hasSizeLessThanOrEqualTo(1);
            if (calls.indexOf(c) < 3) {
                assertThat(ris).as(what).containsExactly(ri);
            }
        }
    }

    @SuppressWarnings("unchecked")
    @Test
    void an_independent_esprim_originator_registers_and_writes_at_acme_through_the_receiver_role() throws Exception {
        // receiver rand object (type 3 -> 4), then the session key by the digest's formula with plain javax.crypto
        Response randAnswer = RestAssured.given()
                .header("X-M2M-Origin", SENSOR)
                .header("X-M2M-RI", "rand-1")
                .header("X-M2M-RVI", "3")
                .contentType("application/json")
                .body(Map.of("m2m:seci", Map.of("sit", 3)))
                .post("/onem2m/" + T + "/" + AcmeCse.CSE_BASE);
        assertThat(randAnswer.statusCode()).as(randAnswer.asString()).isEqualTo(200);
        Map<String, Object> rr = (Map<String, Object>)
                ((Map<String, Object>) randAnswer.jsonPath().getMap("").get("m2m:seci")).get("ero");
        Map<String, Object> oro =
                IndependentEsprim.originatorRand("o" + Long.toHexString(RANDOM.nextLong()), (String) rr.get("esrx"));
        byte[] session = IndependentEsprim.sessionKey(PAIRWISE, (String) rr.get("esrv"), (String) oro.get("esrv"));

        Map<String, Object> register = request(
                1,
                AcmeCse.CSE_BASE,
                2,
                Map.of("m2m:ae", Map.of("rn", SENSOR, "api", "Nacme", "rr", false, "srv", List.of("3"))));
        Map<String, Object> registered = exchange(session, rr, oro, register);
        assertThat(registered.get("rsc")).as(registered.toString()).isEqualTo(2001);
        assertThat(registered.get("rqi")).isEqualTo(register.get("rqi"));
        assertThat(((Map<String, Object>) ((Map<String, Object>) registered.get("pc")).get("m2m:ae")).get("aei"))
                .isEqualTo(SENSOR);

        Map<String, Object> container = exchange(
                session,
                rr,
                oro,
                request(1, AcmeCse.CSE_BASE + "/" + SENSOR, 3, Map.of("m2m:cnt", Map.of("rn", "readings"))));
        assertThat(container.get("rsc")).as(container.toString()).isEqualTo(2001);
        Map<String, Object> cin = exchange(
                session,
                rr,
                oro,
                request(
                        1,
                        AcmeCse.CSE_BASE + "/" + SENSOR + "/readings",
                        4,
                        Map.of("m2m:cin", Map.of("rn", "r1", "cnf", "text/plain:0", "con", "21.5"))));
        assertThat(cin.get("rsc")).as(cin.toString()).isEqualTo(2001);
        // ACME really holds it, made by the inner originator
        JsonPath stored = atAcme(AcmeCse.CSE_BASE + "/" + SENSOR + "/readings/r1");
        assertThat(stored.getString("'m2m:cin'.con")).isEqualTo("21.5");
        // a retrieve with an SP-relative To, and ACME's "not found" carried inside the protected answer
        Map<String, Object> got = exchange(
                session, rr, oro, request(2, "/id-in/" + AcmeCse.CSE_BASE + "/" + SENSOR + "/readings/r1", null, null));
        assertThat(got.get("rsc")).isEqualTo(2000);
        assertThat(((Map<String, Object>) ((Map<String, Object>) got.get("pc")).get("m2m:cin")).get("con"))
                .isEqualTo("21.5");
        Map<String, Object> none =
                exchange(session, rr, oro, request(2, AcmeCse.CSE_BASE + "/" + SENSOR + "/nothing-here", null, null));
        assertThat(none.get("rsc")).isEqualTo(4004);
    }

    static Map<String, Object> request(int op, String to, Integer ty, Object pc) {
        return IndependentEsprim.primitive(op, to, SENSOR, "in-" + System.nanoTime(), ty, pc);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> exchange(
            byte[] session, Map<String, Object> rr, Map<String, Object> oro, Map<String, Object> inner)
            throws Exception {
        String epo = IndependentEsprim.esprimObject(
                session, KID, (String) oro.get("esri"), (String) rr.get("esri"), oro, JSON.writeValueAsString(inner));
        Response r = RestAssured.given()
                .header("X-M2M-Origin", SENSOR)
                .header("X-M2M-RI", "outer-" + System.nanoTime())
                .header("X-M2M-RVI", "3")
                .contentType("application/json")
                .body(Map.of("m2m:seci", Map.of("sit", 5, "epo", epo)))
                .post("/onem2m/" + T + "/" + AcmeCse.CSE_BASE);
        assertThat(r.statusCode()).as(r.asString()).isEqualTo(200);
        Map<String, Object> seci = (Map<String, Object>) r.jsonPath().getMap("").get("m2m:seci");
        assertThat(seci.get("sit")).isEqualTo(5);
        JsonWebEncryption jwe = new JsonWebEncryption();
        jwe.setCompactSerialization((String) seci.get("epo"));
        assertThat(jwe.getHeader("ori")).isEqualTo(oro.get("esri"));
        jwe.setKey(new AesKey(session));
        return JSON.readValue(jwe.getPlaintextString(), Map.class);
    }

    @Test
    void esdata_by_policy_stores_the_content_at_acme_protected_and_the_listed_reader_reads_it_in_the_clear()
            throws Exception {
        as(Tokens.tenantAdmin(T)).post("/api/v1/tenants/" + T + "/ca").then().statusCode(201);
        for (String e : List.of("writer", "reader")) {
            as(Tokens.tenantAdmin(T))
                    .body(Map.of("id", e, "subjectType", "FQDN", "subjectId", e + ".acme-proxy.example"))
                    .post("/api/v1/tenants/" + T + "/endpoints")
                    .then()
                    .statusCode(201);
        }
        plain(
                        "POST",
                        "Cwriter",
                        AcmeCse.CSE_BASE,
                        2,
                        Map.of("m2m:ae", Map.of("rn", "Cwriter", "api", "Nwriter", "rr", false, "srv", List.of("3"))))
                .then()
                .statusCode(201);
        // ACME enforces access control: the writer grants the reader (and a stranger) RETRIEVE on its container
        String acp = plain(
                        "POST",
                        "Cwriter",
                        AcmeCse.CSE_BASE + "/Cwriter",
                        1,
                        Map.of(
                                "m2m:acp",
                                Map.of(
                                        "rn",
                                        "meterAcp",
                                        "pv",
                                        Map.of(
                                                "acr",
                                                List.of(
                                                        Map.of("acor", List.of("Cwriter"), "acop", 63),
                                                        Map.of("acor", List.of("Creader", "Cstranger"), "acop", 2))),
                                        "pvs",
                                        Map.of("acr", List.of(Map.of("acor", List.of("Cwriter"), "acop", 63))))))
                .then()
                .statusCode(201)
                .extract()
                .jsonPath()
                .getString("'m2m:acp'.ri");
        plain(
                        "POST",
                        "Cwriter",
                        AcmeCse.CSE_BASE + "/Cwriter",
                        3,
                        Map.of("m2m:cnt", Map.of("rn", "meter", "acpi", List.of(acp))))
                .then()
                .statusCode(201);
        as(Tokens.tenantAdmin(T))
                .body(Map.of(
                        "id",
                        "meter",
                        "containerPath",
                        AcmeCse.CSE_BASE + "/Cwriter/meter",
                        "endpoint",
                        "writer",
                        "sign",
                        true,
                        "encryptForCertificatesOf",
                        List.of("reader.acme-proxy.example"),
                        "contentSecurity",
                        1,
                        "readers",
                        List.of(Map.of("originator", "Creader", "endpoint", "reader"))))
                .put("/api/v1/tenants/" + T + "/proxy/esdata-rules")
                .then()
                .statusCode(200);

        Response made = plain(
                "POST",
                "Cwriter",
                AcmeCse.CSE_BASE + "/Cwriter/meter",
                4,
                Map.of("m2m:cin", Map.of("rn", "m1", "cnf", "application/json:0", "con", "{\"kWh\":815}")));
        assertThat(made.statusCode()).as(made.asString()).isEqualTo(201);
        JsonPath stored = atAcme(AcmeCse.CSE_BASE + "/Cwriter/meter/m1");
        assertThat(stored.getString("'m2m:cin'.cnf")).isEqualTo("application/json:0:1");
        assertThat(stored.getString("'m2m:cin'.con"))
                .doesNotContain("815")
                .matches("[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]*){4}");

        Response forReader = plain("GET", "Creader", AcmeCse.CSE_BASE + "/Cwriter/meter/m1", null, null);
        assertThat(forReader.statusCode()).as(forReader.asString()).isEqualTo(200);
        assertThat(forReader.jsonPath().getString("'m2m:cin'.con")).isEqualTo("{\"kWh\":815}");
        assertThat(forReader.jsonPath().getString("'m2m:cin'.cnf")).isEqualTo("application/json:0");
        Response forStranger = plain("GET", "Cstranger", AcmeCse.CSE_BASE + "/Cwriter/meter/m1", null, null);
        assertThat(forStranger.jsonPath().getString("'m2m:cin'.con")).isEqualTo(stored.getString("'m2m:cin'.con"));
    }
}
