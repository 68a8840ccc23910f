package io.m2mtrust.hsm;

import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * Readiness is DOWN while the token does not answer and UP again, without a restart, once the
 * periodic probe has reopened it.
 */
@Readiness
@ApplicationScoped
public class HsmReadinessCheck implements HealthCheck {

    private final Pkcs11Token token;

    HsmReadinessCheck(Pkcs11Token token) {
        this.token = token;
    }

    @Scheduled(every = "${m2m.hsm.probe-interval:5s}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void probePeriodically() {
        token.probe();
    }

    @Override
    public HealthCheckResponse call() {
        boolean up = token.probe();
        var b = HealthCheckResponse.named("hsm").status(up);
        token.downReason().ifPresent(r -> b.withData("reason", r));
        b.withData("reopens", token.reopenCount());
        return b.build();
    }
}
