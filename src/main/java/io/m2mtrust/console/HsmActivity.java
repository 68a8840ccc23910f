package io.m2mtrust.console;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The last hour of HSM activity for the console's charts: once a minute, per HSM operation, how many succeeded
 * and their mean latency since the previous sample (from the {@code m2m.hsm.operation} timers the HSM layer
 * keeps). This replica's view only; Prometheus has the fleet's.
 */
@ApplicationScoped
public class HsmActivity {

    static final int MINUTES = 60;

    /** One minute of one operation. */
    public record Point(Instant at, long ops, double meanMs) {}

    private record Total(long count, double totalMs) {}

    private final MeterRegistry registry;
    private final Map<String, ArrayDeque<Point>> series = new LinkedHashMap<>();
    private final Map<String, Total> last = new LinkedHashMap<>();

    HsmActivity(MeterRegistry registry) {
        this.registry = registry;
    }

    @Scheduled(every = "${m2m.console.hsm-sample-every:60s}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    synchronized void sample() {
        Instant now = Instant.now();
        for (Timer t : registry.find("m2m.hsm.operation").tag("outcome", "ok").timers()) {
            String op = t.getId().getTag("op");
            Total total = new Total(t.count(), t.totalTime(TimeUnit.MILLISECONDS));
            Total before = last.put(op, total);
            if (before == null) {
                continue; // the first sample only sets the baseline
            }
            long ops = total.count() - before.count();
            double mean = ops == 0 ? 0 : (total.totalMs() - before.totalMs()) / ops;
            ArrayDeque<Point> s = series.computeIfAbsent(op, k -> new ArrayDeque<>());
            s.addLast(new Point(now, ops, mean));
            while (s.size() > MINUTES) {
                s.removeFirst();
            }
        }
    }

    /** A chart per operation: its points (oldest first), as SVG-ready bars scaled to the busiest minute. */
    public record Chart(String op, List<Point> points, long maxOps, double maxMeanMs, long totalOps) {
        public String maxMean() {
            return String.format(java.util.Locale.ROOT, "%.2f", maxMeanMs);
        }

        public List<Bar> bars() {
            List<Bar> out = new ArrayList<>();
            int i = 0;
            for (Point p : points) {
                int h = maxOps == 0 ? 0 : (int) Math.round(60.0 * p.ops() / maxOps);
                int lh = maxMeanMs == 0 ? 0 : (int) Math.round(60.0 * p.meanMs() / maxMeanMs);
                out.add(new Bar(
                        i * 5,
                        60 - h,
                        h,
                        60 - lh,
                        p.ops(),
                        String.format(java.util.Locale.ROOT, "%.2f", p.meanMs()),
                        p.at().toString().substring(11, 16)));
                i++;
            }
            return out;
        }
    }

    /** One minute as drawn: x, the ops bar's y and height, the latency mark's y, and the numbers for the title. */
    public record Bar(int x, int y, int height, int latencyY, long ops, String meanMs, String minute) {}

    public synchronized List<Chart> charts() {
        List<Chart> out = new ArrayList<>();
        series.forEach((op, s) -> {
            List<Point> points = List.copyOf(s);
            long max = points.stream().mapToLong(Point::ops).max().orElse(0);
            double maxMean = points.stream().mapToDouble(Point::meanMs).max().orElse(0);
            out.add(new Chart(
                    op,
                    points,
                    max,
                    maxMean,
                    points.stream().mapToLong(Point::ops).sum()));
        });
        return out;
    }
}
