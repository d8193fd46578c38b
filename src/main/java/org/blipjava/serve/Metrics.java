package org.blipjava.serve;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;

/**
 * The server's counters in the Prometheus text format (version 0.0.4): requests by endpoint and
 * status, request latency and batch size histograms, and the queue depth. Thread-safe; each
 * server has its own instance.
 */
public final class Metrics {
    /** Latency bucket bounds in seconds: a few milliseconds (tiny models) to a minute (big beams). */
    private static final double[] LATENCY_BOUNDS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
    private static final double[] BATCH_BOUNDS = {1, 2, 4, 8, 16, 32, 64};

    private final Map<String, LongAdder> requests = new ConcurrentSkipListMap<>();
    private final Map<String, Histogram> latency = new ConcurrentSkipListMap<>();
    private final Map<String, Histogram> batches = new ConcurrentSkipListMap<>();
    private final Map<String, LongAdder> rejected = new ConcurrentHashMap<>();
    private final IntSupplier queueDepth;

    /** @param queueDepth reads the number of requests waiting for a batch */
    public Metrics(IntSupplier queueDepth) {
        this.queueDepth = queueDepth;
    }

    /** Counts a finished request and its latency. */
    public void request(String endpoint, int status, long nanos) {
        requests.computeIfAbsent(labels("endpoint", endpoint, "status", Integer.toString(status)), k -> new LongAdder())
                .increment();
        latency.computeIfAbsent(labels("endpoint", endpoint), k -> new Histogram(LATENCY_BOUNDS))
                .observe(nanos / 1e9);
    }

    /** Counts one model call of {@code size} requests. */
    public void batch(String model, String task, int size) {
        batches.computeIfAbsent(labels("model", model, "task", task), k -> new Histogram(BATCH_BOUNDS)).observe(size);
    }

    /** Counts a request refused because the queue was full or the server was stopping. */
    public void rejected(String reason) {
        rejected.computeIfAbsent(reason, k -> new LongAdder()).increment();
    }

    /** The metrics as Prometheus text. */
    public String scrape() {
        StringBuilder out = new StringBuilder();
        out.append("# HELP blip_requests_total HTTP requests by endpoint and status.\n");
        out.append("# TYPE blip_requests_total counter\n");
        requests.forEach((l, v) -> out.append("blip_requests_total{").append(l).append("} ").append(v.sum()).append('\n'));
        out.append("# HELP blip_request_duration_seconds Request latency, from arrival to response.\n");
        out.append("# TYPE blip_request_duration_seconds histogram\n");
        latency.forEach((l, h) -> h.write(out, "blip_request_duration_seconds", l));
        out.append("# HELP blip_queue_depth Requests waiting for a batch.\n");
        out.append("# TYPE blip_queue_depth gauge\n");
        out.append("blip_queue_depth ").append(queueDepth.getAsInt()).append('\n');
        out.append("# HELP blip_batch_size Requests served by one model call.\n");
        out.append("# TYPE blip_batch_size histogram\n");
        batches.forEach((l, h) -> h.write(out, "blip_batch_size", l));
        out.append("# HELP blip_rejected_total Requests refused with 503 (queue full or stopping).\n");
        out.append("# TYPE blip_rejected_total counter\n");
        rejected.forEach((r, v) -> out.append("blip_rejected_total{reason=\"").append(r).append("\"} ")
                .append(v.sum()).append('\n'));
        return out.toString();
    }

    private static String labels(String... kv) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < kv.length; i += 2) {
            if (i > 0) {
                b.append(',');
            }
            b.append(kv[i]).append("=\"").append(kv[i + 1].replace("\\", "\\\\").replace("\"", "\\\"")
                    .replace("\n", "\\n")).append('"');
        }
        return b.toString();
    }

    /** A cumulative histogram with fixed bounds. */
    private static final class Histogram {
        private final double[] bounds;
        private final LongAdder[] counts;
        private final LongAdder count = new LongAdder();
        private final java.util.concurrent.atomic.DoubleAdder sum = new java.util.concurrent.atomic.DoubleAdder();

        Histogram(double[] bounds) {
            this.bounds = bounds;
            this.counts = new LongAdder[bounds.length];
            for (int i = 0; i < bounds.length; i++) {
                counts[i] = new LongAdder();
            }
        }

        void observe(double v) {
            for (int i = 0; i < bounds.length; i++) {
                if (v <= bounds[i]) {
                    counts[i].increment();
                    break;
                }
            }
            count.increment();
            sum.add(v);
        }

        void write(StringBuilder out, String name, String labels) {
            long cumulative = 0;
            for (int i = 0; i < bounds.length; i++) {
                cumulative += counts[i].sum();
                out.append(name).append("_bucket{").append(labels).append(",le=\"").append(format(bounds[i]))
                        .append("\"} ").append(cumulative).append('\n');
            }
            out.append(name).append("_bucket{").append(labels).append(",le=\"+Inf\"} ").append(count.sum()).append('\n');
            out.append(name).append("_sum{").append(labels).append("} ").append(format(sum.sum())).append('\n');
            out.append(name).append("_count{").append(labels).append("} ").append(count.sum()).append('\n');
        }

        private static String format(double v) {
            return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : String.format(Locale.ROOT, "%s", v);
        }
    }
}
