package io.m2mtrust.cluster;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled;
import io.quarkus.scheduler.ScheduledExecution;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;

/**
 * Skips a cluster-once job ({@code @Scheduled(skipExecutionIf = NotJobLeader.class)}) on every replica but the job
 * leader, and everywhere while the application is not running. When the leader dies its PostgreSQL session ends, the
 * advisory lock is free, and another replica takes it at its next heartbeat (ADR 0023).
 */
@Singleton
public class NotJobLeader implements Scheduled.SkipPredicate {

    private final ClusterLink link;
    private volatile boolean running;

    NotJobLeader(ClusterLink link) {
        this.link = link;
    }

    void started(@Observes StartupEvent e) {
        running = true;
    }

    void stopping(@Observes ShutdownEvent e) {
        running = false;
    }

    @Override
    public boolean test(ScheduledExecution execution) {
        return !running || !link.jobLeader();
    }
}
