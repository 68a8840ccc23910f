package io.m2mtrust.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.m2mtrust.policy.PolicyService;
import io.m2mtrust.testsupport.Api;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * The replica's link to the others, against the real PostgreSQL: another "replica" is a plain JDBC connection that
 * changes a row behind this replica's back and then publishes the cluster event the service publishes itself. The
 * cache keeps the old row until the event arrives; a lost link drops every cache and turns readiness DOWN until it is
 * back; the job leader's advisory lock is exclusive and moves when its session ends.
 */
@QuarkusTest
class ClusterLinkTest {

    static final String T = "cluster-co";

    @Inject
    PolicyService policies;

    @Inject
    ClusterLink link;

    @Inject
    DataSource db;

    @BeforeEach
    void tenant() throws InterruptedException {
        Api.ensureTenant(T);
        await(link::cachesTrusted, "the link is up");
    }

    @Test
    void another_replicas_change_reaches_this_replicas_cache_when_its_event_commits() throws Exception {
        long before = policies.current(T).maxEsdataTargets;
        long changed = before + 1;
        try (Connection c = db.getConnection()) {
            c.setAutoCommit(false);
            setMaxTargets(c, changed);
            c.commit();
            // written, but no event yet: this replica still answers from its cache (so the cache is real)
            assertThat((long) policies.current(T).maxEsdataTargets).isEqualTo(before);
            ClusterEventStore.insertAndNotify(
                    c, "other-replica", ReplicaCaches.KIND, ReplicaCaches.payload("policy", T));
            c.commit();
            c.setAutoCommit(true);
        }
        await(() -> policies.current(T).maxEsdataTargets == changed, "the other replica's policy change is seen");
    }

    @Test
    void an_event_rolled_back_with_its_change_reaches_no_replica() throws Exception {
        long before = policies.current(T).maxEsdataTargets;
        long seen = link.newestSeen();
        try (Connection c = db.getConnection()) {
            c.setAutoCommit(false);
            ClusterEventStore.insertAndNotify(
                    c, "other-replica", ReplicaCaches.KIND, ReplicaCaches.payload("policy", T));
            c.rollback();
            // a committed marker afterwards: once it has arrived, the rolled-back one would have arrived before it
            setMaxTargets(c, before + 5);
            c.commit();
            long marker = ClusterEventStore.insertAndNotify(c, "other-replica", "nobody-listens", "{}");
            c.commit();
            c.setAutoCommit(true);
            await(() -> link.newestSeen() >= marker, "the marker arrives");
            assertThat(link.newestSeen()).isGreaterThan(seen);
        }
        // the policy entry survived (only the rolled-back event named it): still the cached value
        assertThat((long) policies.current(T).maxEsdataTargets).isEqualTo(before);
        try (Connection c = db.getConnection()) {
            setMaxTargets(c, before);
        }
    }

    @Test
    void a_payload_too_large_for_a_notification_is_read_back_by_its_number() throws Exception {
        long before = policies.current(T).maxEsdataTargets;
        try (Connection c = db.getConnection()) {
            setMaxTargets(c, before + 2);
            // a revocation naming 2,000 identities: far more than pg_notify carries
            StringBuilder ids = new StringBuilder();
            for (int i = 0; i < 2000; i++) {
                ids.append(i == 0 ? "" : ",").append("\"device-").append(i).append("\"");
            }
            String large = "{\"topic\":\"policy\",\"tenant\":\"" + T + "\",\"padding\":[" + ids + "]}";
            assertThat(large.length()).isGreaterThan(ClusterEventStore.MAX_INLINE_BYTES);
            ClusterEventStore.insertAndNotify(c, "other-replica", ReplicaCaches.KIND, large);
        }
        await(() -> policies.current(T).maxEsdataTargets == before + 2, "the large event is applied");
        try (Connection c = db.getConnection()) {
            setMaxTargets(c, before);
            ClusterEventStore.insertAndNotify(
                    c, "other-replica", ReplicaCaches.KIND, ReplicaCaches.payload("policy", T));
        }
    }

    @Test
    void a_lost_link_drops_every_cache_turns_readiness_down_and_comes_back() throws Exception {
        long before = policies.current(T).maxEsdataTargets;
        try (Connection c = db.getConnection()) {
            setMaxTargets(c, before + 3); // no event: only a lost link can make this replica read it
            try (PreparedStatement ps = c.prepareStatement(
                    "select pg_terminate_backend(pid) from pg_stat_activity where application_name = ?")) {
                ps.setString(1, "m2m-trust cluster link " + link.replicaId());
                ps.executeQuery().close();
            }
        }
        // the link notices within its heartbeat, drops its caches and reconnects
        await(() -> policies.current(T).maxEsdataTargets == before + 3, "the cache was dropped with the link");
        await(link::cachesTrusted, "the link is back");
        RestAssured.given().get("/q/health/ready").then().statusCode(200);
        try (Connection c = db.getConnection()) {
            setMaxTargets(c, before);
            ClusterEventStore.insertAndNotify(
                    c, "other-replica", ReplicaCaches.KIND, ReplicaCaches.payload("policy", T));
        }
    }

    @Test
    void the_job_leader_lock_is_held_by_one_session_and_moves_when_it_ends() throws Exception {
        await(link::jobLeader, "this replica, alone, is the job leader");
        try (Connection other = db.getConnection()) {
            assertThat(ClusterEventStore.tryLeaderLock(other, ClusterLink.JOB_LEADER_LOCK))
                    .isFalse();
        }
    }

    private void setMaxTargets(Connection c, long value) throws SQLException {
        try (PreparedStatement ps =
                c.prepareStatement("update tenant_policy set max_esdata_targets = ? where tenant_id = ?")) {
            ps.setLong(1, value);
            ps.setString(2, T);
            assertThat(ps.executeUpdate()).isEqualTo(1);
        }
    }

    static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (System.nanoTime() < end) {
            if (condition.getAsBoolean()) {
                return;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("timed out waiting until " + what);
    }
}
