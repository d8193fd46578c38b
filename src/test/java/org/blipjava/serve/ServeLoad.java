package org.blipjava.serve;

import static org.blipjava.serve.ServeTesting.JSON;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.blipjava.serve.ServeTesting.Client;
import org.blipjava.serve.ServeTesting.Response;

/**
 * A load run: {@code clients} threads on loopback each send caption requests back to back for a
 * bounded time, every request tagged with a unique name the server echoes; every response is
 * checked against the caption the same image gets alone.
 */
final class ServeLoad {
    /**
     * What a run measured.
     *
     * @param sent       requests sent
     * @param answered   distinct request names answered, each exactly once
     * @param wrong      answers whose caption differs from the unbatched caption of their image
     * @param busy       503 answers (queue full)
     * @param failed     other failures (status or transport)
     * @param meanBatch  mean requests per model call, from /metrics
     */
    record Result(int clients, double seconds, int sent, int answered, int duplicated, int wrong, int busy, int failed,
            double throughput, double p50Ms, double p95Ms, double p99Ms, double meanBatch) {
        String line() {
            return String.format(Locale.ROOT, "%d clients, %.1f s: %d requests, %.1f req/s, p50 %.0f ms, p95 %.0f ms, "
                    + "p99 %.0f ms, mean batch %.2f; %d answered once each, %d duplicated, %d wrong, %d busy (503), %d failed",
                    clients, seconds, sent, throughput, p50Ms, p95Ms, p99Ms, meanBatch, answered, duplicated, wrong, busy, failed);
        }
    }

    private ServeLoad() {}

    /**
     * Runs the load.
     *
     * @param images   image name to its encoded bytes
     * @param expected image name to the caption it gets alone
     */
    static Result run(BlipServer server, String model, int clients, Duration duration, Map<String, byte[]> images,
            Map<String, String> expected) throws Exception {
        List<String> names = new ArrayList<>(images.keySet());
        Map<String, String> b64 = new ConcurrentHashMap<>();
        images.forEach((k, v) -> b64.put(k, Base64.getEncoder().encodeToString(v)));
        Map<String, AtomicInteger> answers = new ConcurrentHashMap<>();
        AtomicInteger sent = new AtomicInteger();
        AtomicInteger wrong = new AtomicInteger();
        AtomicInteger busy = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        List<Long> latencies = java.util.Collections.synchronizedList(new ArrayList<>());
        long end = System.nanoTime() + duration.toNanos();
        long start = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                int client = c;
                fs.add(pool.submit(() -> {
                    Client http = new Client(server.port());
                    for (int i = 0; System.nanoTime() < end; i++) {
                        String image = names.get((client + i) % names.size());
                        String id = client + "-" + i + "-" + image;
                        ObjectNode req = JSON.createObjectNode().put("model", model).put("image", b64.get(image))
                                .put("image_name", id);
                        sent.incrementAndGet();
                        long t0 = System.nanoTime();
                        Response r;
                        try {
                            r = http.postJson("/v1/caption", req);
                        } catch (RuntimeException e) {
                            failed.incrementAndGet();
                            continue;
                        }
                        latencies.add(System.nanoTime() - t0);
                        if (r.status() == 503) {
                            busy.incrementAndGet();
                        } else if (r.status() != 200) {
                            failed.incrementAndGet();
                        } else {
                            String echoed = r.json().path("image").asText();
                            answers.computeIfAbsent(echoed, k -> new AtomicInteger()).incrementAndGet();
                            if (!echoed.equals(id) || !r.json().path("caption").asText().equals(expected.get(image))) {
                                wrong.incrementAndGet();
                            }
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get(duration.toSeconds() + 600, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        long[] sorted = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
        int duplicated = (int) answers.values().stream().filter(a -> a.get() > 1).count();
        int ok = (int) answers.values().stream().filter(a -> a.get() == 1).count();
        return new Result(clients, seconds, sent.get(), ok, duplicated, wrong.get(), busy.get(), failed.get(),
                ok / seconds, pct(sorted, 50), pct(sorted, 95), pct(sorted, 99), meanBatch(server, model));
    }

    private static double pct(long[] sorted, int p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int i = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))] / 1e6;
    }

    static double meanBatch(BlipServer server, String model) {
        String m = server.metrics().scrape();
        String labels = Pattern.quote("{model=\"" + model + "\",task=\"caption\"}");
        Matcher sum = Pattern.compile("blip_batch_size_sum" + labels + " (\\S+)").matcher(m);
        Matcher count = Pattern.compile("blip_batch_size_count" + labels + " (\\S+)").matcher(m);
        return sum.find() && count.find() ? Double.parseDouble(sum.group(1)) / Double.parseDouble(count.group(1)) : Double.NaN;
    }
}
