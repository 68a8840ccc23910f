package io.m2mtrust.audit;

import static io.m2mtrust.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.m2mtrust.testsupport.Api;
import io.m2mtrust.testsupport.PostgresResource;
import io.m2mtrust.testsupport.Tokens;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.List;

@QuarkusTest
class AuditChainTest {

    @Test
    void untouched_chain_verifies_with_a_valid_hsm_signature_on_its_head() {
        String t = Api.createTenant("audit-ok");
        as(Tokens.tenantAdmin(t))
                .post("/api/v1/tenants/" + t + "/keys/derive/rotate")
                .then()
                .statusCode(200);
        Response v = as(Tokens.auditor(t)).get("/api/v1/tenants/" + t + "/audit/verify");
        assertThat(v.jsonPath().getBoolean("intact")).isTrue();
        assertThat(v.jsonPath().getInt("eventsVerified")).isEqualTo(5);
        assertThat(v.jsonPath().getInt("signedHeadSeq")).isEqualTo(5);
        assertThat(v.jsonPath().getBoolean("headSignatureValid")).isTrue();
        assertThat(v.jsonPath().getString("headSignedBy")).isEqualTo("m2m/" + t + "/sign/v1");
    }

    @Test
    void a_row_changed_in_postgresql_is_reported_as_the_first_broken_link() throws Exception {
        String t = Api.createTenant("audit-tamper");
        sql("update audit_event set actor = 'someone-else' where chain = ? and seq = 2", t);
        Response v = as(Tokens.auditor(t)).get("/api/v1/tenants/" + t + "/audit/verify");
        assertThat(v.jsonPath().getBoolean("intact")).isFalse();
        assertThat(v.jsonPath().getInt("firstBrokenSeq")).isEqualTo(2);
        assertThat(v.jsonPath().getString("reason")).contains("hash");
    }

    @Test
    void a_deleted_row_is_reported_as_a_gap() throws Exception {
        String t = Api.createTenant("audit-gap");
        sql("delete from audit_event where chain = ? and seq = 3", t);
        Response v = as(Tokens.auditor(t)).get("/api/v1/tenants/" + t + "/audit/verify");
        assertThat(v.jsonPath().getBoolean("intact")).isFalse();
        assertThat(v.jsonPath().getInt("firstBrokenSeq")).isEqualTo(3);
        assertThat(v.jsonPath().getString("reason")).contains("gap");
    }

    @Test
    void a_rewritten_chain_without_the_hsm_key_fails_the_head_signature() throws Exception {
        String t = Api.createTenant("audit-rewrite");
        as(Tokens.auditor(t))
                .get("/api/v1/tenants/" + t + "/audit/verify")
                .then()
                .statusCode(200);
        // an attacker with database access drops the newest event: every remaining link is consistent,
        // but the newest signed head no longer matches
        sql("delete from audit_event where chain = ? and seq = 4", t);
        Response v = as(Tokens.auditor(t)).get("/api/v1/tenants/" + t + "/audit/verify");
        assertThat(v.jsonPath().getBoolean("intact")).isFalse();
        assertThat(v.jsonPath().getString("reason")).contains("head signature");
    }

    @Test
    void dropping_the_newest_events_and_their_signatures_is_caught_by_the_head_row() throws Exception {
        String t = Api.createTenant("audit-truncate");
        // a verification first waits for the heads in flight: afterwards the newest head is signed
        assertThat(as(Tokens.auditor(t))
                        .get("/api/v1/tenants/" + t + "/audit/verify")
                        .jsonPath()
                        .getInt("signedHeadSeq"))
                .isEqualTo(4);
        // an attacker removes the newest event and the signature over it: the older signature still verifies, but the
        // chain no longer ends where its head row says
        sql("delete from audit_head_signature where chain = ? and seq = 4", t);
        sql("delete from audit_event where chain = ? and seq = 4", t);
        Response v = as(Tokens.auditor(t)).get("/api/v1/tenants/" + t + "/audit/verify");
        assertThat(v.jsonPath().getBoolean("intact")).isFalse();
        assertThat(v.jsonPath().getString("reason")).contains("head row records 4");
    }

    @Test
    void concurrent_appends_chain_in_order_and_every_answered_event_is_under_a_signed_head() throws Exception {
        String t = Api.createTenant("audit-group");
        String admin = Tokens.tenantAdmin(t);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8);
        try {
            List<java.util.concurrent.Future<Integer>> done = new java.util.ArrayList<>();
            for (int i = 0; i < 40; i++) {
                int n = i;
                done.add(pool.submit(() -> as(admin)
                        .body(java.util.Map.of("id", "g" + n, "name", "group " + n))
                        .post("/api/v1/tenants/" + t + "/enrolment-groups")
                        .statusCode()));
            }
            for (java.util.concurrent.Future<Integer> f : done) {
                assertThat(f.get()).isEqualTo(201);
            }
        } finally {
            pool.shutdownNow();
        }
        Response v = as(Tokens.auditor(t)).get("/api/v1/tenants/" + t + "/audit/verify");
        assertThat(v.jsonPath().getBoolean("intact")).isTrue();
        assertThat(v.jsonPath().getInt("eventsVerified")).isGreaterThanOrEqualTo(44);
        assertThat(v.jsonPath().getInt("signedHeadSeq")).isEqualTo(v.jsonPath().getInt("eventsVerified"));
        assertThat(v.jsonPath().getInt("eventsAfterSignedHead")).isZero();
        assertThat(v.jsonPath().getBoolean("headSignatureValid")).isTrue();
    }

    @Inject
    AuditLog audit;

    @Inject
    EntityManager em;

    @Test
    void an_append_built_on_a_stale_head_falls_back_to_the_locked_head_and_the_chain_stays_intact() {
        String t = Api.createTenant("audit-stale");
        // a rolled-back append leaves this replica's guess of the head ahead of the row: the next append must not use
        // it
        assertThatThrownBy(() -> QuarkusTransaction.requiringNew().run(() -> {
                    audit.append(t, "test", "test.rolled-back", "x", AuditLog.Outcome.SUCCESS, null);
                    throw new IllegalStateException("roll back");
                }))
                .hasMessageContaining("roll back");
        QuarkusTransaction.requiringNew()
                .run(() -> audit.append(t, "test", "test.after-rollback", "x", AuditLog.Outcome.SUCCESS, null));
        // another replica (its own store, its own guess) appends in between: this replica's guess is stale again
        AuditStore otherReplica = new AuditStore(em);
        QuarkusTransaction.requiringNew()
                .run(() -> otherReplica.append(t, link -> {
                    AuditEvent e = new AuditEvent();
                    e.chain = t;
                    e.seq = link.seq();
                    e.prevHash = link.hash();
                    e.occurredAt = java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MICROS);
                    e.actor = "replica-2";
                    e.action = "test.other-replica";
                    e.target = "x";
                    e.outcome = "SUCCESS";
                    e.hash = AuditChainHash.of(e);
                    return e;
                }));
        QuarkusTransaction.requiringNew()
                .run(() -> audit.append(t, "test", "test.after-other-replica", "x", AuditLog.Outcome.SUCCESS, null));
        QuarkusTransaction.requiringNew()
                .run(() -> audit.append(t, "test", "test.on-its-own-head", "x", AuditLog.Outcome.SUCCESS, null));
        Response v = as(Tokens.auditor(t)).get("/api/v1/tenants/" + t + "/audit/verify");
        assertThat(v.jsonPath().getBoolean("intact")).isTrue();
        assertThat(v.jsonPath().getInt("eventsVerified")).isEqualTo(8); // 4 from the tenant's creation + 4 here
        List<String> actions = as(Tokens.auditor(t))
                .get("/api/v1/tenants/" + t + "/audit?afterSeq=4")
                .jsonPath()
                .getList("action");
        assertThat(actions)
                .containsExactly(
                        "test.after-rollback",
                        "test.other-replica",
                        "test.after-other-replica",
                        "test.on-its-own-head");
    }

    @Test
    void events_name_actor_action_target_outcome_and_time() {
        String t = Api.createTenant("audit-fields");
        Response r = as(Tokens.auditor(t)).get("/api/v1/tenants/" + t + "/audit");
        assertThat(r.jsonPath().getString("[3].actor")).contains("olivia-operator");
        assertThat(r.jsonPath().getString("[3].action")).isEqualTo("tenant.create");
        assertThat(r.jsonPath().getString("[3].target")).isEqualTo("tenant/" + t);
        assertThat(r.jsonPath().getString("[3].outcome")).isEqualTo("SUCCESS");
        assertThat(r.jsonPath().getString("[3].occurredAt")).isNotBlank();
        Api.assertProblem(as(Tokens.auditor(t)).get("/api/v1/tenants/" + t + "/audit?limit=5000"), 400, "validation");
    }

    private static void sql(String statement, String tenant) throws Exception {
        try (Connection c = PostgresResource.postgres()
                        .getDatabase("postgres", "m2mtrust")
                        .getConnection();
                PreparedStatement ps = c.prepareStatement(statement)) {
            ps.setString(1, tenant);
            assertThat(ps.executeUpdate()).isEqualTo(1);
        }
    }
}
