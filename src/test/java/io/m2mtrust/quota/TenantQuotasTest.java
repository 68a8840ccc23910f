package io.m2mtrust.quota;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.m2mtrust.common.QuotaExceededException;
import io.m2mtrust.hsm.HsmCrypto;
import io.m2mtrust.hsm.HsmKeyLabel;
import io.m2mtrust.hsm.KeyPurpose;
import io.m2mtrust.keys.PlatformKeys;
import io.m2mtrust.policy.PolicyService;
import io.m2mtrust.testsupport.Api;
import io.m2mtrust.testsupport.Policies;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.util.Optional;

/**
 * The shared token buckets against the suite's PostgreSQL (issue 21, ADR 0026): two replicas leasing from one bucket,
 * refusals that say when to retry, policy changes in force at once, the HSM gate, and the local fallback when the
 * buckets cannot be reached.
 */
@QuarkusTest
class TenantQuotasTest {

    @Inject
    TenantQuotas quotas;

    @Inject
    QuotaStore store;

    @Inject
    PolicyService policies;

    @Inject
    HsmCrypto hsm;

    /** Another replica: its own leases and counters, the same database and policies. */
    TenantQuotas otherReplica(QuotaStore s) {
        return new TenantQuotas(s, policies, hsm, new SimpleMeterRegistry());
    }

    @Test
    void two_replicas_together_admit_no_more_than_the_shared_bucket_allows() {
        String t = Api.ensureTenant("quota-lease");
        Policies.quotas(t, 5, 10, 1000, 2000);
        TenantQuotas other = otherReplica(store);
        int admitted = 0;
        int refused = 0;
        long t0 = System.nanoTime();
        for (int i = 0; i < 200; i++) {
            TenantQuotas replica = i % 2 == 0 ? quotas : other;
            try {
                replica.admit(t, QuotaBucket.MAF);
                admitted++;
            } catch (QuotaExceededException e) {
                refused++;
                assertThat(e.retryAfterSeconds()).isBetween(1L, 1L); // one token at 5/s is back within a second
                assertThat(e.quota()).isEqualTo("maf");
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        // every token comes from the one shared bucket: at most the burst plus what the rate refilled meanwhile
        assertThat(admitted).isLessThanOrEqualTo(10 + (int) Math.ceil(5 * seconds));
        assertThat(admitted).isGreaterThanOrEqualTo(10);
        assertThat(refused).isEqualTo(200 - admitted);
        // another bucket of the same tenant is untouched
        quotas.admit(t, QuotaBucket.MEF);
    }

    @Test
    void a_refusal_is_remembered_until_a_token_is_back_and_a_policy_change_is_in_force_at_once() {
        String t = Api.ensureTenant("quota-change");
        Policies.quotas(t, 1, 1, 1000, 2000);
        quotas.admit(t, QuotaBucket.ESDATA);
        assertThatThrownBy(() -> quotas.admit(t, QuotaBucket.ESDATA)).isInstanceOf(QuotaExceededException.class);
        // known empty here: the next refusal and the handshake gate need no database
        assertThat(quotas.knownEmptyFor(t, QuotaBucket.ESDATA)).isPositive();
        assertThat(quotas.tryAdmitLocally(t, QuotaBucket.ESDATA)).isPositive();
        Policies.quotas(t, 100, 100, 1000, 2000);
        quotas.admit(t, QuotaBucket.ESDATA); // the new rate and burst, without waiting for the old refusal to lapse
        assertThat(quotas.view(t)).anySatisfy(v -> {
            assertThat(v.bucket()).isEqualTo("esdata");
            assertThat(v.perSecond()).isEqualTo(100);
            assertThat(v.refusedHere()).isGreaterThanOrEqualTo(2);
            assertThat(v.level()).isNotNull();
        });
    }

    @Test
    void hsm_operations_under_a_tenant_key_take_its_hsm_tokens_and_platform_keys_none() {
        String t = Api.ensureTenant("quota-hsm");
        Policies.quotas(t, 1000, 2000, 1, 2);
        HsmKeyLabel derive = HsmKeyLabel.of(t, KeyPurpose.DERIVE, 1);
        int done = 0;
        QuotaExceededException refusal = null;
        for (int i = 0; i < 10 && refusal == null; i++) {
            try {
                hsm.hmacSha256(derive, new byte[] {1}).close();
                done++;
            } catch (QuotaExceededException e) {
                refusal = e;
            }
        }
        assertThat(refusal).as("the HSM quota refuses before the token is used").isNotNull();
        assertThat(refusal.quota()).isEqualTo("hsm");
        assertThat(done).isBetween(2, 3);
        // the platform's own keys belong to no tenant
        hsm.signEcdsaP256(PlatformKeys.PLATFORM_SIGN, new byte[] {1});
        Policies.quotas(t, 1000, 2000, 1000, 2000);
    }

    @Test
    void without_the_shared_buckets_each_replica_enforces_the_quota_alone() {
        String t = Api.ensureTenant("quota-alone");
        Policies.quotas(t, 1, 3, 1000, 2000);
        QuotaStore unreachable = new QuotaStore("jdbc:postgresql://127.0.0.1:9/nothing", "nobody", Optional.empty());
        TenantQuotas alone = otherReplica(unreachable);
        int admitted = 0;
        for (int i = 0; i < 10; i++) {
            try {
                alone.admit(t, QuotaBucket.PROXY);
                admitted++;
            } catch (QuotaExceededException e) {
                assertThat(e.retryAfterSeconds()).isPositive();
            }
        }
        assertThat(admitted).isBetween(3, 4);
    }
}
