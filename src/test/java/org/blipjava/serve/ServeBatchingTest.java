package org.blipjava.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.blipjava.serve.ServeTesting.ints;
import static org.blipjava.serve.ServeTesting.withImage;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.blipjava.generation.GenerationConfig;
import org.blipjava.image.Images;
import org.blipjava.image.RgbImage;
import org.blipjava.serve.ServeTesting.Client;
import org.blipjava.serve.ServeTesting.Response;
import org.blipjava.tasks.Blip;
import org.blipjava.tasks.GeneratedText;
import org.blipjava.tasks.ImageTextModel;
import org.blipjava.tasks.MatchScores;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Dynamic batching gives the results of unbatched calls; a full queue answers 503 and loses nothing. */
@Timeout(120)
class ServeBatchingTest {
    static ServedModels models;

    @BeforeAll
    static void load() {
        models = ServeTesting.models();
    }

    @AfterAll
    static void close() {
        if (models != null) {
            models.close();
        }
    }

    static ImageTextModel model(String name) {
        return models.all().stream().filter(e -> e.name().equals(name)).findFirst().orElseThrow().model();
    }

    static RgbImage decoded(String name) {
        return Images.read(ServeTesting.image(name));
    }

    /** Sends every request at once (each on its own thread) and returns the responses in order. */
    static List<Response> concurrently(List<java.util.concurrent.Callable<Response>> calls) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(calls.size());
        try {
            List<Future<Response>> fs = pool.invokeAll(calls, 60, TimeUnit.SECONDS);
            List<Response> out = new ArrayList<>();
            for (Future<Response> f : fs) {
                out.add(f.get());
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    /** Mean batch size of a model's task, from the Prometheus text. */
    static double meanBatch(BlipServer server, String model, String task) {
        String m = server.metrics().scrape();
        String labels = Pattern.quote("{model=\"" + model + "\",task=\"" + task + "\"}");
        Matcher sum = Pattern.compile("blip_batch_size_sum" + labels + " (\\S+)").matcher(m);
        Matcher count = Pattern.compile("blip_batch_size_count" + labels + " (\\S+)").matcher(m);
        assertThat(sum.find() && count.find()).as(m).isTrue();
        return Double.parseDouble(sum.group(1)) / Double.parseDouble(count.group(1));
    }

    @Test
    void batchedResultsEqualUnbatchedOnes() throws Exception {
        // A long window and one worker: the concurrent requests are gathered into batches.
        try (BlipServer server = BlipServer.start(models, null, ServeOptions.defaults().withAddress("127.0.0.1", 0)
                .withBatching(8, Duration.ofMillis(400), 64, 1))) {
            Client c = new Client(server.port());
            Blip captioner = (Blip) model("tiny-caption");
            Blip vqa = (Blip) model("tiny-vqa");
            ImageTextModel itm = model("tiny-itm");
            GenerationConfig beams = captioner.generationDefaults().toBuilder().numBeams(3).build();
            List<String> questions = List.of("what is this?", "who is there?", "why is it red?", "how is it made?");
            List<String> texts = List.of("a red square", "a photo of a cat");
            List<java.util.concurrent.Callable<Response>> calls = new ArrayList<>();
            for (String img : ServeTesting.IMAGES) {
                calls.add(() -> c.postJson("/v1/caption", withImage(img)));
                ObjectNode beam = withImage(img);
                beam.putObject("options").put("num_beams", 3);
                calls.add(() -> c.postJson("/v1/caption", beam));
                ObjectNode match = withImage(img).put("model", "tiny-itm");
                texts.forEach(match.putArray("texts")::add);
                calls.add(() -> c.postJson("/v1/match", match));
            }
            for (int i = 0; i < questions.size(); i++) {
                String q = questions.get(i);
                String img = ServeTesting.IMAGES.get(i);
                calls.add(() -> c.postJson("/v1/vqa", withImage(img).put("question", q)));
            }
            List<Response> rs = concurrently(calls);

            int k = 0;
            for (String img : ServeTesting.IMAGES) {
                RgbImage image = decoded(img);
                GeneratedText greedy = captioner.caption(List.of(image), null, captioner.generationDefaults()).get(0);
                GeneratedText beam = captioner.caption(List.of(image), null, beams).get(0);
                MatchScores s = itm.match(List.of(image), texts);
                Response g = rs.get(k++);
                Response b = rs.get(k++);
                Response m = rs.get(k++);
                assertThat(g.status()).as(g.body()).isEqualTo(200);
                assertThat(ints(g.json().path("token_ids"))).as(img).isEqualTo(ints(greedy.tokenIds()));
                assertThat(ints(b.json().path("token_ids"))).as(img).isEqualTo(ints(beam.tokenIds()));
                assertThat(b.json().path("score").asDouble()).as(img).isEqualTo(beam.score());
                for (int t = 0; t < texts.size(); t++) {
                    assertThat((float) m.json().path("results").get(t).path("itm").asDouble()).isEqualTo(s.itm(0, t));
                    assertThat((float) m.json().path("results").get(t).path("itc").asDouble()).isEqualTo(s.itc(0, t));
                }
            }
            for (int i = 0; i < questions.size(); i++) {
                GeneratedText answer = vqa.answer(List.of(decoded(ServeTesting.IMAGES.get(i))), List.of(questions.get(i)),
                        vqa.generationDefaults()).get(0);
                Response r = rs.get(k++);
                assertThat(r.status()).as(r.body()).isEqualTo(200);
                assertThat(ints(r.json().path("token_ids"))).isEqualTo(ints(answer.tokenIds()));
            }
            // The equality above is only worth something if requests were in fact batched.
            assertThat(meanBatch(server, "tiny-caption", "caption")).isGreaterThan(1.5);
            assertThat(meanBatch(server, "tiny-itm", "match")).isGreaterThan(1.5);
            assertThat(meanBatch(server, "tiny-vqa", "vqa")).isGreaterThan(1.5);
        }
    }

    @Test
    void aFullQueueAnswers503WithRetryAfterAndLosesNothing() throws Exception {
        // Distinct prompts never share a batch and each waits out its 100 ms window: a queue of 2 overflows.
        try (BlipServer server = BlipServer.start(models, null, ServeOptions.defaults().withAddress("127.0.0.1", 0)
                .withBatching(8, Duration.ofMillis(100), 2, 1))) {
            Client c = new Client(server.port());
            Blip captioner = (Blip) model("tiny-caption");
            int n = 16;
            List<java.util.concurrent.Callable<Response>> calls = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String prompt = "picture " + i;
                calls.add(() -> c.postJson("/v1/caption", withImage(ServeTesting.TINY).put("prompt", prompt)));
            }
            List<Response> rs = concurrently(calls);
            int ok = 0;
            int busy = 0;
            RgbImage image = decoded(ServeTesting.TINY);
            for (int i = 0; i < n; i++) {
                Response r = rs.get(i);
                if (r.status() == 200) {
                    ok++;
                    GeneratedText expected = captioner.caption(List.of(image), "picture " + i,
                            captioner.generationDefaults()).get(0);
                    assertThat(r.json().path("caption").asText()).isEqualTo(expected.text());
                } else {
                    busy++;
                    assertThat(r.status()).as(r.body()).isEqualTo(503);
                    assertThat(r.errorCode()).isEqualTo("overloaded");
                    assertThat(r.headers().firstValue("Retry-After")).hasValue("1");
                }
            }
            assertThat(ok + busy).isEqualTo(n);
            assertThat(busy).isPositive();
            assertThat(ok).isGreaterThanOrEqualTo(2);
            String m = server.metrics().scrape();
            assertThat(m).contains("blip_rejected_total{reason=\"queue_full\"} " + busy);
            assertThat(m).contains("blip_requests_total{endpoint=\"/v1/caption\",status=\"200\"} " + ok);
            assertThat(m).contains("blip_queue_depth 0");
        }
    }

    @Test
    void shutdownFinishesRequestsInFlight() throws Exception {
        BlipServer server = BlipServer.start(models, null, ServeOptions.defaults().withAddress("127.0.0.1", 0)
                .withBatching(8, Duration.ofMillis(500), 64, 1));
        Client c = new Client(server.port());
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Response>> inFlight = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                inFlight.add(pool.submit(() -> c.postJson("/v1/caption", withImage(ServeTesting.TINY))));
            }
            // Wait until all four are queued (they sit out the 500 ms window), then stop.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (server.metrics().scrape().contains("blip_queue_depth 4") == false && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            server.close();
            for (Future<Response> f : inFlight) {
                assertThat(f.get().status()).as(f.get().body()).isEqualTo(200);
            }
            assertThatThrownBy(() -> c.get("/healthz")).isInstanceOf(java.io.UncheckedIOException.class);
        } finally {
            pool.shutdownNow();
            server.close();
        }
    }

    @Test
    void aFailingBatchIsRetriedRequestByRequest() throws Exception {
        Batcher batcher = new Batcher(8, Duration.ofMillis(200), 16, 1, null);
        try {
            Batcher.Key key = new Batcher.Key("m", "t", null, false);
            java.util.function.Function<List<String>, List<String>> f = in -> {
                if (in.contains("bad")) {
                    throw new IllegalArgumentException("bad input");
                }
                return in.stream().map(String::toUpperCase).toList();
            };
            var a = batcher.<String, String>submit(key, "a", f);
            var bad = batcher.<String, String>submit(key, "bad", f);
            var b = batcher.<String, String>submit(key, "b", f);
            assertThat(a.result().get(10, TimeUnit.SECONDS)).isEqualTo("A");
            assertThat(b.result().get(10, TimeUnit.SECONDS)).isEqualTo("B");
            assertThatThrownBy(() -> bad.result().get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .hasRootCauseMessage("bad input");
        } finally {
            batcher.close();
        }
    }

    @Test
    void anAbandonedRequestLeavesTheQueueAndIsNeverRun() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        List<String> ran = java.util.Collections.synchronizedList(new ArrayList<>());
        Batcher batcher = new Batcher(1, Duration.ZERO, 4, 1, null);
        try {
            java.util.function.Function<List<String>, List<String>> f = in -> {
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                ran.addAll(in);
                return in;
            };
            var first = batcher.<String, String>submit(new Batcher.Key("m", "t", null, false), "first", f);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (batcher.depth() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(2); // until the worker holds "first"
            }
            var second = batcher.<String, String>submit(new Batcher.Key("m", "t", null, false), "second", f);
            assertThat(batcher.depth()).isEqualTo(1);
            second.abandon();
            assertThat(batcher.depth()).isZero();
            release.countDown();
            assertThat(first.result().get(10, TimeUnit.SECONDS)).isEqualTo("first");
            batcher.close();
            assertThat(ran).containsExactly("first");
        } finally {
            release.countDown();
            batcher.close();
        }
    }
}
