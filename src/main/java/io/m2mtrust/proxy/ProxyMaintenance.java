package io.m2mtrust.proxy;

import io.m2mtrust.cluster.NotJobLeader;
import io.m2mtrust.escertke.EscertkeService;
import io.m2mtrust.esprim.EsprimReceiver;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

/** Renews shared receiver rand objects before they run out, purges expired rand objects, replay fingerprints and abandoned ESCertKE handshakes. */
@ApplicationScoped
public class ProxyMaintenance {

    private static final Logger LOG = Logger.getLogger(ProxyMaintenance.class);

    private final EsprimReceiver receiver;
    private final EscertkeService escertke;
    private final ProxyReceiver receiving;

    ProxyMaintenance(EsprimReceiver receiver, EscertkeService escertke, ProxyReceiver receiving) {
        this.receiving = receiving;
        this.receiver = receiver;
        this.escertke = escertke;
    }

    /** Half-finished ESCertKE handshakes are dropped after their TTL (a late message 3 then gets a clean 4000). */
    @Scheduled(
            every = "${m2m.escertke.purge-every:10s}",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP,
            skipExecutionIf = Scheduled.ApplicationNotRunning.class)
    void purgeHandshakes() {
        int n = escertke.purgeExpired();
        if (n > 0) {
            LOG.debugf("dropped %d abandoned ESCertKE handshakes", n);
        }
    }

    @Scheduled(
            every = "${m2m.esprim.refresh-every:60s}",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP,
            skipExecutionIf = NotJobLeader.class)
    void refreshShared() {
        try {
            int n = receiving.refreshSharedRands();
            if (n > 0) {
                LOG.debugf("issued %d shared receiver rand objects", n);
            }
        } catch (RuntimeException e) {
            LOG.warnf("shared rand refresh failed (retried at the next run): %s", e.getMessage());
        }
    }

    @Scheduled(
            every = "${m2m.esprim.purge-every:5m}",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP,
            skipExecutionIf = NotJobLeader.class)
    void purge() {
        try {
            int n = receiver.purgeExpired();
            if (n > 0) {
                LOG.debugf("purged %d expired ESPrim rand objects and replay fingerprints", n);
            }
        } catch (RuntimeException e) {
            LOG.warnf("ESPrim purge failed (retried at the next run): %s", e.getMessage());
        }
    }
}
