package io.m2mtrust.maf;

import static io.m2mtrust.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;

import io.m2mtrust.bench.EnrolmentLoadDriver;
import io.m2mtrust.bench.MafLoad;
import io.m2mtrust.testsupport.MafDevices;
import io.m2mtrust.testsupport.Tokens;
import io.m2mtrust.tls.DeviceTlsListener;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

/**
 * A MAF session's holder is answered from memory on every request (no query): a revocation or a suspension on this
 * replica must still refuse the very next request of a session that is already open (issue 18's guarantee).
 */
@QuarkusTest
class MafSessionCacheTest {

    static final String T = "maf-live";
    static final String MAF = "maf." + T + ".m2m-trust.local";
    static final String NO_KEY = "/keyRetrieval/" + "0".repeat(32);

    @Inject
    DeviceTlsListener listener;

    @Test
    void a_revoked_client_and_a_suspended_tenant_are_refused_at_the_next_request_of_an_open_session() throws Exception {
        MafDevices fleet = MafDevices.create(T, listener.port(), List.of("s-1", "s-2"), doc -> {});
        MafDevices.Device one = fleet.enrolAndRegister("s-1");
        MafDevices.Device two = fleet.enrolAndRegister("s-2");
        try (MafLoad.Session s = session(one)) {
            // the first requests fill the cache: a key that does not exist is 404, not 401
            assertThat(s.exchange("GET", NO_KEY, null)).isEqualTo(404);
            assertThat(s.exchange("GET", NO_KEY, null)).isEqualTo(404);
            String reg = registrationOf(one.kpmId());
            as(Tokens.tenantAdmin(T))
                    .delete("/api/v1/tenants/" + T + "/maf-clients/" + reg)
                    .then()
                    .statusCode(204);
            assertThat(s.exchange("GET", NO_KEY, null)).isEqualTo(401);
        }
        try (MafLoad.Session s = session(two)) {
            assertThat(s.exchange("GET", NO_KEY, null)).isEqualTo(404);
            setStatus("SUSPENDED");
            try {
                assertThat(s.exchange("GET", NO_KEY, null)).isEqualTo(401);
            } finally {
                setStatus("ACTIVE");
            }
            assertThat(s.exchange("GET", NO_KEY, null)).isEqualTo(404);
        }
    }

    private MafLoad.Session session(MafDevices.Device d) throws Exception {
        return new MafLoad.Session(
                listener.port(), MAF, new EnrolmentLoadDriver.Provisioned(d.kmId(), d.km()), null, 0, null);
    }

    private static String registrationOf(String clientId) {
        List<Map<String, Object>> regs = as(Tokens.auditor(T))
                .get("/api/v1/tenants/" + T + "/maf-clients")
                .jsonPath()
                .getList("");
        return regs.stream()
                .filter(r -> clientId.equals(r.get("clientId")))
                .map(r -> (String) r.get("clientRegId"))
                .findFirst()
                .orElseThrow();
    }

    private static void setStatus(String status) {
        Response t = as(Tokens.platformAdmin()).get("/api/v1/tenants/" + T);
        as(Tokens.platformAdmin())
                .header("If-Match", t.header("ETag"))
                .body(Map.of("name", t.jsonPath().getString("name"), "status", status))
                .put("/api/v1/tenants/" + T)
                .then()
                .statusCode(200);
    }
}
