package io.m2mtrust.common;

import static io.m2mtrust.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import io.m2mtrust.testsupport.Api;
import io.m2mtrust.testsupport.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

/**
 * Admission control: a full lane answers 503 with Retry-After at once (problem+json on the admin API, a oneM2M answer
 * on the proxy binding), health still answers, and every admitted request returns its slot whatever its outcome.
 * The lanes are filled through the bean itself: the filter in front of the routes is the real one.
 */
@QuarkusTest
class AdmissionTest {

    static final String T = "admission-co";

    @Inject
    Admission admission;

    @Test
    void a_full_api_lane_refuses_with_503_and_retry_after_and_probes_still_answer() {
        Api.ensureTenant(T);
        Admission.Lane lane = admission.api();
        int held = fill(lane);
        try {
            as(Tokens.tenantAdmin(T))
                    .get("/api/v1/tenants/" + T + "/policy")
                    .then()
                    .statusCode(503)
                    .header("Retry-After", "1")
                    .contentType("application/problem+json")
                    .body("type", equalTo("urn:m2m-trust:problem:overloaded"))
                    .body("status", equalTo(503));
            // refused before authentication: an anonymous request costs no more
            Api.anonymous().get("/api/v1/tenants/" + T + "/policy").then().statusCode(503);
            Api.anonymous().get("/q/health/ready").then().statusCode(200);
            // the other lane is not affected
            assertThat(admission.proxy().tryEnter()).isTrue();
            admission.proxy().leave();
        } finally {
            release(lane, held);
        }
        as(Tokens.tenantAdmin(T)).get("/api/v1/tenants/" + T + "/policy").then().statusCode(200);
    }

    @Test
    void a_full_proxy_lane_answers_the_onem2m_binding_with_503_and_rsc_5000() {
        Admission.Lane lane = admission.proxy();
        int held = fill(lane);
        try {
            Api.anonymous()
                    .header("X-M2M-Origin", "Cx")
                    .header("X-M2M-RI", "req-1")
                    .get("/onem2m/" + T + "/cse-in")
                    .then()
                    .statusCode(503)
                    .header("Retry-After", "1")
                    .header("X-M2M-RSC", "5000")
                    .header("X-M2M-RI", "req-1");
        } finally {
            release(lane, held);
        }
        // admitted again: no proxy is configured for this tenant, a oneM2M 4004, and the slot comes back
        Api.anonymous()
                .header("X-M2M-Origin", "Cx")
                .header("X-M2M-RI", "req-2")
                .get("/onem2m/" + T + "/cse-in")
                .then()
                .header("X-M2M-RSC", "4004");
        awaitInFlight(lane, 0);
    }

    @Test
    void every_admitted_request_returns_its_slot_whatever_its_outcome() {
        Api.ensureTenant(T);
        // a straggler of an earlier test may still hold a slot: start from a quiet lane, or the baseline is inflated
        int before = quietInFlight(admission.api());
        for (int i = 0; i < 20; i++) {
            as(Tokens.tenantAdmin(T))
                    .get("/api/v1/tenants/" + T + "/policy")
                    .then()
                    .statusCode(200);
            Api.anonymous().get("/api/v1/tenants/" + T + "/policy").then().statusCode(401);
            as(Tokens.tenantAdmin("someone-else"))
                    .get("/api/v1/tenants/" + T + "/policy")
                    .then()
                    .statusCode(404);
            as(Tokens.tenantAdmin(T))
                    .contentType("application/json")
                    .body("{not json")
                    .put("/api/v1/tenants/" + T + "/policy")
                    .then()
                    .statusCode(400);
        }
        awaitInFlight(admission.api(), before);
    }

    /** The lane's count once it has been idle (0), or after 5 s whatever it is then. */
    private static int quietInFlight(Admission.Lane lane) {
        long until = System.nanoTime() + 5_000_000_000L;
        while (lane.inFlight() != 0 && System.nanoTime() < until) {
            Thread.onSpinWait();
        }
        return lane.inFlight();
    }

    /** The slot comes back in the response's end handler, which may run just after the client has read it. */
    private static void awaitInFlight(Admission.Lane lane, int expected) {
        long until = System.nanoTime() + 5_000_000_000L;
        while (lane.inFlight() != expected && System.nanoTime() < until) {
            Thread.onSpinWait();
        }
        assertThat(lane.inFlight()).isEqualTo(expected);
    }

    /**
     * Fills the lane, once no request of an earlier test holds a slot in it: a straggler leaving after the lane was
     * filled would free a slot that the request under test then takes (seen once as a 200 instead of the 503).
     */
    private static int fill(Admission.Lane lane) {
        quietInFlight(lane);
        int held = 0;
        while (lane.tryEnter()) {
            held++;
        }
        assertThat(lane.inFlight()).isEqualTo(lane.limit());
        return held;
    }

    private static void release(Admission.Lane lane, int held) {
        for (int i = 0; i < held; i++) {
            lane.leave();
        }
    }
}
