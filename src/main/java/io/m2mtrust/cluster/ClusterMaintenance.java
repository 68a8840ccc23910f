package io.m2mtrust.cluster;

import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import jakarta.transaction.Transactional;
import org.hibernate.Session;
import org.jboss.logging.Logger;

/** Prunes cluster events older than an hour (their notifications were delivered long ago); on the job leader only. */
@ApplicationScoped
public class ClusterMaintenance {

    private static final Logger LOG = Logger.getLogger(ClusterMaintenance.class);
    static final long KEEP_SECONDS = 3600;

    private final EntityManager em;

    ClusterMaintenance(EntityManager em) {
        this.em = em;
    }

    @Scheduled(
            every = "${m2m.cluster.prune-every:10m}",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP,
            skipExecutionIf = NotJobLeader.class)
    @Transactional
    void prune() {
        int n = em.unwrap(Session.class).doReturningWork(c -> ClusterEventStore.prune(c, KEEP_SECONDS));
        if (n > 0) {
            LOG.debugf("pruned %d cluster events", n);
        }
    }
}
