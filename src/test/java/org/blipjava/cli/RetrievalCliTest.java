package org.blipjava.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.blipjava.testing.FixtureInputs.strings;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.blipjava.checkpoint.SafetensorsFile;
import org.blipjava.retrieval.RetrievalMetrics;
import org.blipjava.testing.Fixtures;
import org.blipjava.testing.Fixtures.FixtureSet;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code blip index}, {@code blip search} and {@code blip eval retrieval} on the fixture's retrieval model. */
class RetrievalCliTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final double TOL = 1e-4;

    static Stream<FixtureSet> sets() {
        return Fixtures.parameters(Fixtures.Kind.BLIP);
    }

    /** Copies the ITM images into a folder, as a user's photo folder. */
    private static Path photos(FixtureSet set, Path tmp, List<String> images) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("photos"));
        for (String img : images) {
            Files.copy(set.image(img), dir.resolve(img));
        }
        return dir;
    }

    @ParameterizedTest
    @MethodSource("sets")
    void indexThenSearchGivesTheReferenceScores(FixtureSet set, @TempDir Path tmp) throws Exception {
        JsonNode itm = set.expected().get("itm");
        List<String> images = strings(itm.get("images"));
        List<String> texts = strings(itm.get("texts"));
        boolean[] exact = CliTest.exact(set, "tiny-itm", images);
        Path dir = photos(set, tmp, images);
        Files.writeString(dir.resolve("corrupt.png"), "not an image");
        String model = set.model("tiny-itm").toString();
        Path index = tmp.resolve("index");

        CliRun first = CliRun.run("index", "--model", model, "--images", dir.toString(), "--index", index.toString(),
                "--json", "--batch-size", "3");
        assertThat(first.exit()).as(first.err()).isEqualTo(1);
        assertThat(first.err().lines().toList()).singleElement().asString().contains("corrupt.png");
        JsonNode report = first.json();
        assertThat(report.get("added").asInt()).isEqualTo(images.size());
        assertThat(report.get("size").asInt()).isEqualTo(images.size());
        assertThat(report.get("errors")).hasSize(1);

        Files.delete(dir.resolve("corrupt.png"));
        CliRun again = CliRun.run("index", "--model", model, "--images", dir.toString(), "--index", index.toString(), "--json");
        assertThat(again.exit()).as(again.err()).isZero();
        assertThat(again.json().get("added").asInt()).isZero();
        assertThat(again.json().get("updated").asInt()).isZero();
        assertThat(again.json().get("unchanged").asInt()).isEqualTo(images.size());

        int nt = texts.size();
        int checked = 0;
        try (SafetensorsFile tensors = set.openTensors()) {
            float[] cos = Fixtures.floats(tensors, "itm/itc_cosine");
            float[] prob = Fixtures.floats(tensors, "itm/itm_prob_match");
            for (int t = 0; t < nt; t++) {
                // No --model: the index's own model is used.
                CliRun s = CliRun.run("search", "--index", index.toString(), "--text", texts.get(t), "--json",
                        "--k", String.valueOf(images.size()), "--rerank", String.valueOf(images.size()));
                assertThat(s.exit()).as(s.err()).isZero();
                JsonNode results = s.json().get("results");
                assertThat(results).hasSize(images.size());
                double lastProb = Double.POSITIVE_INFINITY;
                for (JsonNode r : results) {
                    int i = images.indexOf(Path.of(r.get("path").asText()).getFileName().toString());
                    assertThat(i).isNotNegative();
                    if (!exact[i]) {
                        continue;
                    }
                    assertThat(r.get("itc").asDouble()).isCloseTo(cos[i * nt + t], within(TOL));
                    assertThat(r.get("itm").asDouble()).isCloseTo(prob[i * nt + t], within(TOL));
                    assertThat((double) prob[i * nt + t]).isLessThanOrEqualTo(lastProb + 2 * TOL);
                    lastProb = prob[i * nt + t];
                    checked++;
                }
            }
            CliRun table = CliRun.run("search", "--index", index.toString(), "--model", model, "--text", texts.get(0), "--k", "2");
            assertThat(table.exit()).as(table.err()).isZero();
            assertThat(table.out().lines().toList()).hasSize(3).first().asString().startsWith("rank\titc");
        }
        assertThat(checked).isPositive();

        // Image to image: the query image itself comes first with cosine 1.
        Path query = dir.resolve(images.get(0));
        CliRun byImage = CliRun.run("search", "--index", index.toString(), "--image", query.toString(), "--json", "--k", "1");
        assertThat(byImage.exit()).as(byImage.err()).isZero();
        JsonNode top = byImage.json().get("results").get(0);
        assertThat(top.get("path").asText()).isEqualTo(query.toAbsolutePath().normalize().toString());
        assertThat(top.get("itc").asDouble()).isCloseTo(1.0, within(TOL));
    }

    @ParameterizedTest
    @MethodSource("sets")
    void searchRefusesAnotherModelAndBadIndexes(FixtureSet set, @TempDir Path tmp) throws Exception {
        List<String> images = strings(set.expected().get("itm").get("images"));
        Path dir = photos(set, tmp, images.subList(0, 1));
        Path index = tmp.resolve("index");
        String model = set.model("tiny-itm").toString();
        CliRun built = CliRun.run("index", "--model", model, "--images", dir.toString(), "--index", index.toString());
        assertThat(built.exit()).as(built.err()).isZero();
        assertThat(built.out()).contains("1 added");

        String other = set.model("tiny-contrastive").toString();
        CliRun refused = CliRun.run("search", "--index", index.toString(), "--model", other, "--text", "a dog");
        assertThat(refused.exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(refused.err().lines().toList()).singleElement().asString()
                .contains(model).contains(other).contains("--model");

        CliRun reindex = CliRun.run("index", "--model", other, "--images", dir.toString(), "--index", index.toString());
        assertThat(reindex.exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(reindex.err().lines().toList()).singleElement().asString().contains(model);

        CliRun missing = CliRun.run("search", "--index", tmp.resolve("nope").toString(), "--text", "a dog");
        assertThat(missing.exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(missing.err().lines().toList()).singleElement().asString().contains("nope").contains("blip index");

        CliRun both = CliRun.run("search", "--index", index.toString(), "--text", "x", "--image", "y.png");
        assertThat(both.exit()).isEqualTo(Main.EXIT_USAGE);

        CliRun captioner = CliRun.run("index", "--model", set.model("tiny-caption").toString(), "--images", dir.toString(),
                "--index", tmp.resolve("other").toString());
        assertThat(captioner.exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(captioner.err().lines().toList()).singleElement().asString().contains("BlipForConditionalGeneration");
    }

    @ParameterizedTest
    @MethodSource("sets")
    void cachedItmStatesGiveTheSameRerankingWithoutTheImages(FixtureSet set, @TempDir Path tmp) throws Exception {
        List<String> images = strings(set.expected().get("itm").get("images"));
        String text = strings(set.expected().get("itm").get("texts")).get(0);
        Path dir = photos(set, tmp, images);
        String model = set.model("tiny-itm").toString();
        Path index = tmp.resolve("index");
        String n = String.valueOf(images.size());

        CliRun plain = CliRun.run("index", "--model", model, "--images", dir.toString(), "--index", index.toString());
        assertThat(plain.exit()).as(plain.err()).isZero();
        assertThat(plain.out()).doesNotContain("ITM cache");
        CliRun recomputed = CliRun.run("search", "--index", index.toString(), "--text", text, "--json", "--k", n, "--rerank", n);
        assertThat(recomputed.exit()).as(recomputed.err()).isZero();
        Path noCacheIndex = tmp.resolve("plain");
        CliRun other = CliRun.run("index", "--model", model, "--images", dir.toString(), "--index", noCacheIndex.toString());
        assertThat(other.exit()).as(other.err()).isZero();

        // Opting in later fills in the cache for the images already indexed, and states its size.
        CliRun cached = CliRun.run("index", "--model", model, "--images", dir.toString(), "--index", index.toString(),
                "--cache-itm-states", "--json");
        assertThat(cached.exit()).as(cached.err()).isZero();
        JsonNode cache = cached.json().get("itm_cache");
        assertThat(cache.get("written").asInt()).isEqualTo(images.size());
        assertThat(cache.get("entries").asInt()).isEqualTo(images.size());
        long onDisk = 0;
        try (Stream<Path> entries = Files.list(index.resolve("itm-cache"))) {
            for (Path e : entries.toList()) {
                onDisk += Files.size(e);
            }
        }
        assertThat(cache.get("bytes").asLong()).isEqualTo(onDisk);
        assertThat(cache.get("bytes_per_image").asLong())
                .isEqualTo(4L * cache.get("seq_len").asLong() * cache.get("hidden").asLong());
        CliRun summary = CliRun.run("index", "--model", model, "--images", dir.toString(), "--index", index.toString(),
                "--cache-itm-states");
        assertThat(summary.exit()).as(summary.err()).isZero();
        assertThat(summary.out()).contains(String.format(java.util.Locale.ROOT, "ITM cache: %.2f MB per image (%d x %d float32",
                cache.get("bytes_per_image").asLong() / 1e6, cache.get("seq_len").asInt(), cache.get("hidden").asInt()))
                .contains("0 written, " + n + " entries");

        // With the images gone the cache still re-ranks, to the same JSON as recomputing gave.
        try (Stream<Path> photos = Files.list(dir)) {
            for (Path p : photos.toList()) {
                Files.delete(p);
            }
        }
        CliRun fromCache = CliRun.run("search", "--index", index.toString(), "--text", text, "--json", "--k", n, "--rerank", n);
        assertThat(fromCache.exit()).as(fromCache.err()).isZero();
        assertThat(fromCache.err()).isEmpty();
        assertThat(fromCache.json()).isEqualTo(recomputed.json());

        // Without a cache the same search reports the unreadable images.
        CliRun noCache = CliRun.run("search", "--index", noCacheIndex.toString(), "--text", text, "--json", "--k", n, "--rerank", n);
        assertThat(noCache.exit()).isEqualTo(1);
        assertThat(noCache.err().lines().toList()).hasSize(images.size()).allMatch(l -> l.contains("kept in ITC order"));
        assertThat(noCache.json().get("errors")).hasSize(images.size());

        // Dropping the cache deletes its files and records that there is none: re-ranking reads the
        // (now missing) images again, as for an index that never had one.
        CliRun both = CliRun.run("index", "--model", model, "--images", dir.toString(), "--index", index.toString(),
                "--cache-itm-states", "--drop-itm-cache");
        assertThat(both.exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(both.err()).contains("exclude each other");
        // (The photos folder is empty now: index one fixture image and keep the missing ones.)
        CliRun dropped = CliRun.run("index", "--model", model, "--images", set.image(images.get(0)).toString(),
                "--index", index.toString(), "--drop-itm-cache", "--keep-missing", "--json");
        assertThat(dropped.exit()).as(dropped.err()).isZero();
        assertThat(dropped.json().has("itm_cache")).isFalse();
        assertThat(index.resolve("itm-cache")).doesNotExist();
        String all = String.valueOf(images.size() + 1);
        CliRun afterDrop = CliRun.run("search", "--index", index.toString(), "--text", text, "--json", "--k", all,
                "--rerank", all);
        assertThat(afterDrop.exit()).isEqualTo(1);
        assertThat(afterDrop.json().get("errors")).hasSize(images.size());
        CliRun reopened = CliRun.run("index", "--model", model, "--images", set.image(images.get(0)).toString(),
                "--index", index.toString(), "--keep-missing", "--json");
        assertThat(reopened.exit()).as(reopened.err()).isZero();
        assertThat(reopened.json().has("itm_cache")).as("the index records that it has no cache").isFalse();

        CliRun contrastive = CliRun.run("index", "--model", set.model("tiny-contrastive").toString(), "--images",
                set.image(images.get(0)).toString(), "--index", tmp.resolve("c").toString(), "--cache-itm-states");
        assertThat(contrastive.exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(contrastive.err().lines().toList()).singleElement().asString().contains("BlipForImageTextRetrieval");
        assertThat(tmp.resolve("c")).doesNotExist();
    }

    @ParameterizedTest
    @MethodSource("sets")
    void captionsAreStoredAndSearchableByImage(FixtureSet set, @TempDir Path tmp) throws Exception {
        List<String> images = strings(set.expected().get("itm").get("images"));
        Path dir = photos(set, tmp, images.subList(0, 2));
        Path list = Files.writeString(tmp.resolve("photos.txt"), "photos/" + images.get(0) + "\n# a comment\nphotos/" + images.get(1) + "\n");
        Path index = tmp.resolve("index");
        CliRun built = CliRun.run("index", "--model", set.model("tiny-itm").toString(), "--images", list.toString(),
                "--index", index.toString(), "--caption-model", set.model("tiny-caption").toString(), "--json");
        assertThat(built.exit()).as(built.err()).isZero();
        assertThat(built.json().get("added").asInt()).isEqualTo(2);
        CliRun s = CliRun.run("search", "--index", index.toString(), "--image", dir.resolve(images.get(0)).toString(),
                "--json", "--rerank", "2");
        assertThat(s.exit()).as(s.err()).isZero();
        JsonNode caps = s.json().get("caption_results");
        assertThat(caps).hasSize(2);
        for (JsonNode c : caps) {
            assertThat(c.get("caption").asText()).isNotBlank();
            assertThat(c.get("itm").asDouble()).isBetween(0.0, 1.0);
        }
        assertThat(caps.get(0).get("itm").asDouble()).isGreaterThanOrEqualTo(caps.get(1).get("itm").asDouble());
    }

    @ParameterizedTest
    @MethodSource("sets")
    void evalRetrievalReportsRecallFromTheReferenceScores(FixtureSet set, @TempDir Path tmp) throws Exception {
        JsonNode itm = set.expected().get("itm");
        List<String> all = strings(itm.get("images"));
        List<String> texts = strings(itm.get("texts"));
        boolean[] exact = CliTest.exact(set, "tiny-itm", all);
        List<Integer> used = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
            if (exact[i]) {
                used.add(i);
            }
        }
        assertThat(used).hasSizeGreaterThanOrEqualTo(2);
        // BLIP annotation format: each image with the texts dealt to it round-robin.
        ArrayNode ann = JSON.createArrayNode();
        List<ArrayNode> caps = new ArrayList<>();
        for (int i : used) {
            ObjectNode o = ann.addObject().put("image", all.get(i));
            caps.add(o.putArray("caption"));
        }
        List<Integer> textOrder = new ArrayList<>();
        for (int g = 0; g < used.size(); g++) {
            for (int t = g; t < texts.size(); t += used.size()) {
                caps.get(g).add(texts.get(t));
                textOrder.add(t);
            }
        }
        Path file = tmp.resolve("test.json");
        JSON.writeValue(file.toFile(), ann);
        int k = 2;
        CliRun r = CliRun.run("eval", "retrieval", "--model", set.model("tiny-itm").toString(), "--dataset", file.toString(),
                "--images", set.dir().resolve("images").toString(), "--rerank", String.valueOf(k), "--json");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode doc = r.json();
        assertThat(doc.get("images").asInt()).isEqualTo(used.size());
        assertThat(doc.get("texts").asInt()).isEqualTo(texts.size());

        int nt = texts.size();
        float[][] sim = new float[used.size()][nt];
        float[][] prob = new float[used.size()][nt];
        int[] links = new int[nt];
        try (SafetensorsFile tensors = set.openTensors()) {
            float[] cos = Fixtures.floats(tensors, "itm/itc_cosine");
            float[] p = Fixtures.floats(tensors, "itm/itm_prob_match");
            for (int c = 0; c < nt; c++) {
                int t = textOrder.get(c);
                links[c] = t % used.size();
                for (int i = 0; i < used.size(); i++) {
                    sim[i][c] = cos[used.get(i) * nt + t];
                    prob[i][c] = p[used.get(i) * nt + t];
                }
            }
        }
        checkMetrics(doc.get("itc"), RetrievalMetrics.itc(sim, links));
        checkMetrics(doc.get("itm"), RetrievalMetrics.reranked(sim, links, k, (image, ts) -> {
            float[] out = new float[ts.length];
            for (int j = 0; j < ts.length; j++) {
                out[j] = prob[image][ts[j]];
            }
            return out;
        }));

        CliRun text = CliRun.run("eval", "retrieval", "--model", set.model("tiny-itm").toString(), "--dataset", file.toString(),
                "--images", set.dir().resolve("images").toString(), "--rerank", "0");
        assertThat(text.exit()).as(text.err()).isZero();
        assertThat(text.out()).contains("i2t_R@1").contains("ITC\t").doesNotContain("ITC+ITM");

        CliRun bad = CliRun.run("eval", "retrieval", "--model", set.model("tiny-itm").toString(),
                "--dataset", Files.writeString(tmp.resolve("bad.json"), "{\"nothing\": 1}").toString());
        assertThat(bad.exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(bad.err().lines().toList()).singleElement().asString().contains("bad.json");
    }

    private static void checkMetrics(JsonNode got, RetrievalMetrics.Result want) {
        assertThat(got.get("image_to_text").get("r1").asDouble()).isCloseTo(100 * want.imageToText().r1(), within(1e-9));
        assertThat(got.get("image_to_text").get("r5").asDouble()).isCloseTo(100 * want.imageToText().r5(), within(1e-9));
        assertThat(got.get("image_to_text").get("r10").asDouble()).isCloseTo(100 * want.imageToText().r10(), within(1e-9));
        assertThat(got.get("text_to_image").get("r1").asDouble()).isCloseTo(100 * want.textToImage().r1(), within(1e-9));
        assertThat(got.get("text_to_image").get("r5").asDouble()).isCloseTo(100 * want.textToImage().r5(), within(1e-9));
        assertThat(got.get("text_to_image").get("r10").asDouble()).isCloseTo(100 * want.textToImage().r10(), within(1e-9));
        assertThat(got.get("match_accuracy").asDouble()).isCloseTo(100 * want.matchAccuracy(), within(1e-9));
    }
}
