package io.m2mtrust.tls;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** The device listeners' worker pools: fixed threads, a bounded queue, refusal (not blocking) when it is full. */
final class DeviceWorkers {

    /** Work queued beyond the threads; past it a listener refuses (TLS: pauses reading; DTLS/CoAP: 5.03). */
    static final int QUEUE = 10_000;

    private DeviceWorkers() {}

    static ExecutorService bounded(String namePrefix, int threads) {
        AtomicInteger n = new AtomicInteger();
        return new ThreadPoolExecutor(
                threads,
                threads,
                60,
                TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(QUEUE),
                r -> {
                    Thread t = new Thread(r, namePrefix + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                },
                new ThreadPoolExecutor.AbortPolicy());
    }
}
