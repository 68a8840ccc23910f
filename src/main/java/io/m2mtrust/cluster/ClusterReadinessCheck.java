package io.m2mtrust.cluster;

import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * Readiness is DOWN while this replica does not hear the others: it would otherwise answer from caches another
 * replica's change may have made stale (it bypasses them meanwhile, but the balancer should send traffic elsewhere).
 */
@Readiness
@ApplicationScoped
public class ClusterReadinessCheck implements HealthCheck {

    private final ClusterLink link;

    ClusterReadinessCheck(ClusterLink link) {
        this.link = link;
    }

    @Override
    public HealthCheckResponse call() {
        var b = HealthCheckResponse.named("cluster")
                .status(link.cachesTrusted())
                .withData("replica", link.replicaId())
                .withData("jobLeader", link.jobLeader())
                .withData("newestEvent", link.newestSeen());
        link.downReason().ifPresent(r -> b.withData("reason", r));
        return b.build();
    }
}
