package org.blipjava.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.blipjava.model.ModelFixtures.assertClose;
import static org.blipjava.testing.FixtureInputs.ints;
import static org.blipjava.testing.FixtureInputs.strings;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.blipjava.checkpoint.Checkpoints;
import org.blipjava.checkpoint.LoadedWeights;
import org.blipjava.checkpoint.SafetensorsFile;
import org.blipjava.config.ClipConfig;
import org.blipjava.tensor.Parallel;
import org.blipjava.tensor.WeightPrecision;
import org.blipjava.testing.ComputeThreads;
import org.blipjava.testing.Fixtures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link ClipModel} against the reference's {@code CLIPModel} outputs, for every model of every
 * CLIP fixture set: the models, images, texts and ids all come from {@code expected.json}.
 */
class ClipParityTest {
    @RegisterExtension
    static final ComputeThreads THREADS = new ComputeThreads(2);

    /** The largest absolute difference seen per tensor name, over all sets and models (reported at the end). */
    private static final Map<String, Double> MAX_ABS = new TreeMap<>();

    /** One CLIP fixture model with its inputs. */
    record Case(Fixtures.FixtureSet set, String name, Path dir, JsonNode expected, ClipConfig config) {
        @Override
        public String toString() {
            return set.name() + "/" + name;
        }
    }

    /** Every model listed under {@code clip.models} of every CLIP set. */
    static List<Case> cases() {
        List<Case> out = new ArrayList<>();
        for (Fixtures.FixtureSet set : Fixtures.sets(Fixtures.Kind.CLIP)) {
            JsonNode clip = set.expected().get("clip");
            for (Iterator<String> it = clip.get("models").fieldNames(); it.hasNext(); ) {
                String name = it.next();
                Path dir = set.model(name);
                out.add(new Case(set, name, dir, clip.get("models").get(name), readConfig(dir)));
            }
        }
        assertThat(out).as("CLIP fixture models listed in expected.json").isNotEmpty();
        return out;
    }

    static ClipConfig readConfig(Path dir) {
        try {
            return ClipConfig.read(dir.resolve("config.json"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Loads from whichever weight file the folder has (safetensors preferred, else pytorch_model.bin). */
    static ClipModel load(Path dir, ClipConfig cfg, Parallel parallel) {
        try (LoadedWeights w = Checkpoints.open(dir)) {
            return ClipModel.load(w.stateDict(), cfg, parallel, WeightPrecision.F32);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The {@code clip/pixel_values/{shortest_edge}x{crop}/} prefix of the model's inputs: among the
     * sizes {@code expected.json} lists, the one whose crop is the model's {@code image_size},
     * preferring the shortest edge the model's own preprocessor config asks for.
     */
    static String pixelPrefix(Case c) {
        int size = c.config().vision().imageSize();
        List<Integer> edges = new ArrayList<>();
        for (JsonNode s : c.set().expected().get("clip_pixel_sizes")) {
            if (s.get("crop").asInt() == size) {
                edges.add(s.get("shortest_edge").asInt());
            }
        }
        assertThat(edges).as("%s: clip_pixel_sizes with crop %d", c, size).isNotEmpty();
        int edge = edges.get(0);
        Integer wanted = preprocessorShortestEdge(c.dir());
        if (wanted != null && edges.contains(wanted)) {
            edge = wanted;
        } else {
            assertThat(edges).as("%s: one pixel size with crop %d", c, size).hasSize(1);
        }
        return "clip/pixel_values/" + edge + "x" + size + "/";
    }

    /** {@code size} of preprocessor_config.json: an integer (legacy) or {@code {"shortest_edge": N}}; null if absent. */
    private static Integer preprocessorShortestEdge(Path dir) {
        Path f = dir.resolve("preprocessor_config.json");
        if (!Files.isRegularFile(f)) {
            return null;
        }
        try {
            JsonNode size = new ObjectMapper().readTree(f.toFile()).path("size");
            if (size.isInt()) {
                return size.asInt();
            }
            return size.has("shortest_edge") ? size.get("shortest_edge").asInt() : null;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static float[] pixels(SafetensorsFile f, String prefix, List<String> images, int size) {
        float[] out = new float[images.size() * 3 * size * size];
        for (int i = 0; i < images.size(); i++) {
            float[] one = Fixtures.floats(f, prefix + images.get(i));
            assertThat(one).as("%s%s", prefix, images.get(i)).hasSize(3 * size * size);
            System.arraycopy(one, 0, out, i * one.length, one.length);
        }
        return out;
    }

    /** Asserts within the fixtures' tolerance and records the largest absolute difference. */
    private static void check(Case c, String tensor, float[] actual, float[] expected) {
        assertClose(c + " " + tensor, actual, expected);
        double max = 0;
        for (int i = 0; i < actual.length; i++) {
            max = Math.max(max, Math.abs(actual[i] - expected[i]));
        }
        synchronized (MAX_ABS) {
            MAX_ABS.merge(tensor, max, Math::max);
        }
        System.out.printf("ClipParityTest %s %s: max abs diff %.3g%n", c, tensor, max);
    }

    @AfterAll
    static void report() {
        MAX_ABS.forEach((k, v) -> System.out.printf("ClipParityTest max abs diff over all models: %s %.3g%n", k, v));
    }

    @Test
    void everyFixtureModelMatchesTheReference() {
        for (Case c : cases()) {
            JsonNode clip = c.set().expected().get("clip");
            List<String> images = strings(clip.get("images"));
            int[][] ids = ints(clip.get("input_ids"));
            int[][] mask = ints(clip.get("attention_mask"));
            int nImages = images.size();
            int nTexts = ids.length;
            int size = c.config().vision().imageSize();
            ClipModel model = load(c.dir(), c.config(), THREADS.get());
            String base = "clip/" + c.name() + "/";
            try (SafetensorsFile f = c.set().openTensors()) {
                float[] px = pixels(f, pixelPrefix(c), images, size);
                ClipVisionModel.Output vis = model.vision(px, nImages, size, size);
                check(c, "vision_last_hidden_state", vis.lastHiddenState(), Fixtures.floats(f, base + "vision_last_hidden_state"));
                check(c, "vision_pooler_output", vis.pooled(), Fixtures.floats(f, base + "vision_pooler_output"));
                ClipTextModel.Output txt = model.text(ids, mask);
                check(c, "text_last_hidden_state", txt.lastHiddenState(), Fixtures.floats(f, base + "text_last_hidden_state"));
                check(c, "text_pooler_output", txt.pooled(), Fixtures.floats(f, base + "text_pooler_output"));
                float[] imageEmbeds = model.imageEmbeds(vis);
                float[] textEmbeds = model.textEmbeds(txt);
                check(c, "image_embeds", imageEmbeds, Fixtures.floats(f, base + "image_embeds"));
                check(c, "text_embeds", textEmbeds, Fixtures.floats(f, base + "text_embeds"));
                float[] logits = model.logitsPerImage(imageEmbeds, nImages, textEmbeds, nTexts);
                check(c, "logits_per_image", logits, Fixtures.floats(f, base + "logits_per_image"));
                int n = Math.min(nImages, nTexts);
                float[] square = new float[n * n];
                for (int i = 0; i < n; i++) {
                    System.arraycopy(logits, i * nTexts, square, i * n, n);
                }
                check(c, "loss_first_pairs", new float[] {(float) ClipModel.contrastiveLoss(square, n)},
                        Fixtures.floats(f, base + "loss_first_pairs"));
                if (c.expected().has("top1_image_to_text")) {
                    for (int i = 0; i < nImages; i++) {
                        int best = 0;
                        for (int t = 1; t < nTexts; t++) {
                            if (logits[i * nTexts + t] > logits[i * nTexts + best]) {
                                best = t;
                            }
                        }
                        assertThat(best).as("%s top-1 text of image %d", c, i)
                                .isEqualTo(c.expected().get("top1_image_to_text").get(i).asInt());
                    }
                }
            }
        }
    }

    @Test
    void configDefaultsGiveWhatExpectedJsonRecordsForEachModel() {
        // The fixture configs list only what differs from the reference's defaults, so this checks the defaults.
        for (Case c : cases()) {
            if (c.expected().has("hidden_act")) {
                assertThat(c.config().text().hiddenAct()).as("%s text hidden_act", c)
                        .isEqualTo(c.expected().get("hidden_act").asText());
                assertThat(c.config().vision().hiddenAct()).as("%s vision hidden_act", c)
                        .isEqualTo(c.expected().get("hidden_act").asText());
            }
            if (c.expected().has("eos_token_id")) {
                assertThat(c.config().text().eosTokenId()).as("%s eos_token_id", c)
                        .isEqualTo(c.expected().get("eos_token_id").asInt());
            }
        }
    }

    @Test
    void batchesAndThreadCountsDoNotChangeAnyRow() {
        Case c = cases().get(0);
        JsonNode clip = c.set().expected().get("clip");
        List<String> images = strings(clip.get("images"));
        int[][] ids = ints(clip.get("input_ids"));
        int[][] mask = ints(clip.get("attention_mask"));
        int size = c.config().vision().imageSize();
        try (Parallel one = new Parallel(1); SafetensorsFile f = c.set().openTensors()) {
            ClipModel serial = load(c.dir(), c.config(), one);
            ClipModel threaded = load(c.dir(), c.config(), THREADS.get());
            float[] px = pixels(f, pixelPrefix(c), images, size);
            ClipVisionModel.Output all = threaded.vision(px, images.size(), size, size);
            assertThat(serial.vision(px, images.size(), size, size).lastHiddenState())
                    .containsExactly(all.lastHiddenState());
            ClipTextModel.Output allText = threaded.text(ids, mask);
            assertThat(serial.text(ids, mask).lastHiddenState()).containsExactly(allText.lastHiddenState());
            // The last image and the last text alone give (to rounding) their rows of the batch.
            int last = images.size() - 1;
            int per = 3 * size * size;
            float[] onePx = new float[per];
            System.arraycopy(px, last * per, onePx, 0, per);
            ClipVisionModel.Output alone = threaded.vision(onePx, 1, size, size);
            float[] row = new float[alone.pooled().length];
            System.arraycopy(all.pooled(), last * row.length, row, 0, row.length);
            assertClose("last image alone", alone.pooled(), row);
            int t = ids.length - 1;
            ClipTextModel.Output aloneText = threaded.text(new int[][] {ids[t]}, new int[][] {mask[t]});
            float[] textRow = new float[aloneText.pooled().length];
            System.arraycopy(allText.pooled(), t * textRow.length, textRow, 0, textRow.length);
            assertClose("last text alone", aloneText.pooled(), textRow);
        }
    }

    @Test
    void paddingAfterTheEndTokenDoesNotChangeThePooledOutput() {
        // With causal attention the pooled position never sees what follows it: trimming or
        // extending the padding changes nothing there (a check that the masks are wired as the reference's).
        for (Case c : cases()) {
            JsonNode clip = c.set().expected().get("clip");
            int[][] ids = ints(clip.get("input_ids"));
            int[][] mask = ints(clip.get("attention_mask"));
            ClipModel model = load(c.dir(), c.config(), THREADS.get());
            ClipTextModel.Output padded = model.text(ids, mask);
            int[] at = model.textModel().pooledPositions(ids);
            int d = padded.hidden();
            for (int r = 0; r < ids.length; r++) {
                int len = Math.min(at[r] + 1, ids[r].length);
                int[][] trimmedIds = {java.util.Arrays.copyOf(ids[r], len)};
                ClipTextModel.Output trimmed = model.text(trimmedIds, null);
                float[] want = java.util.Arrays.copyOfRange(padded.pooled(), r * d, (r + 1) * d);
                assertThat(model.textModel().pooledPositions(trimmedIds)[0]).as("%s row %d", c, r).isEqualTo(len - 1);
                assertClose(c + " row " + r + " without padding", trimmed.pooled(), want);
            }
        }
    }

    @Test
    void imagesOfAnotherSizeAndMalformedTextInputsAreRefused() {
        Case c = cases().get(0);
        ClipModel model = load(c.dir(), c.config(), THREADS.get());
        int size = c.config().vision().imageSize();
        int other = size + c.config().vision().patchSize();
        assertThatThrownBy(() -> model.vision(new float[3 * other * other], 1, other, other))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("image_size");
        assertThatThrownBy(() -> model.vision(new float[3 * size * size - 1], 1, size, size))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("pixels");
        int max = c.config().text().maxPositionEmbeddings();
        assertThatThrownBy(() -> model.text(new int[][] {new int[max + 1]}, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("max_position_embeddings");
        assertThatThrownBy(() -> model.text(new int[][] {{1, 2}, {1}}, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("row 1");
        assertThatThrownBy(() -> model.text(new int[][] {{1, 2}}, new int[][] {{1, 2}}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0 or 1");
        assertThatThrownBy(() -> model.text(new int[][] {{1, c.config().text().vocabSize()}}, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("vocabulary");
    }

    @Test
    void aRowWhoseKeysAreAllPaddingStaysFinite() {
        Case c = cases().get(0);
        ClipModel model = load(c.dir(), c.config(), THREADS.get());
        int eos = c.config().text().eosTokenId();
        ClipTextModel.Output out = model.text(new int[][] {{eos, eos, eos}}, new int[][] {{0, 0, 0}});
        for (float v : out.lastHiddenState()) {
            assertThat(v).isFinite();
        }
    }
}
