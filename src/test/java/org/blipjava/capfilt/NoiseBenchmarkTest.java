package org.blipjava.capfilt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.blipjava.tasks.Blip;
import org.blipjava.tasks.LoadOptions;
import org.blipjava.testing.TinyTestModels;
import org.blipjava.training.TinyModels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The noise benchmark: generation, scoring against known decisions, and a run with the tiny models. */
class NoiseBenchmarkTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;
    @TempDir
    static Path models;
    private static Path tinyCaption;
    private static Path tinyItm;

    /** Freshly initialised models, so the outcome does not depend on a fixture set's weights. */
    @BeforeAll
    static void makeModels() throws IOException {
        tinyCaption = TinyTestModels.write(models, TinyModels.Head.CAPTION);
        tinyItm = TinyTestModels.write(models, TinyModels.Head.ITM);
    }

    @Test
    void generatesTheRequestedNoiseWithWrongCaptions() throws IOException {
        Path data = NoiseBenchmark.generate(tmp.resolve("d"), new NoiseBenchmark.Config(24, 32, 0.25, 3));
        List<JsonNode> truth = new ArrayList<>();
        for (String l : Files.readAllLines(data.resolve(NoiseBenchmark.TRUTH))) {
            truth.add(JSON.readTree(l));
        }
        assertEquals(24, truth.size());
        assertEquals(6, truth.stream().filter(t -> t.get("noisy").asBoolean()).count());
        for (JsonNode t : truth) {
            assertTrue(Files.isRegularFile(data.resolve(t.get("image").asText())));
            if (t.get("noisy").asBoolean()) {
                assertNotEquals(t.get("correct").asText(), t.get("caption").asText());
            } else {
                assertEquals(t.get("correct").asText(), t.get("caption").asText());
            }
        }
        assertEquals(24, Files.readAllLines(data.resolve("captions.jsonl")).size());
        assertThrows(IllegalArgumentException.class, () -> new NoiseBenchmark.Config(10, 32, 1.5, 0));
    }

    @Test
    void precisionRecallAndAucFromKnownDecisions() throws IOException {
        Path data = NoiseBenchmark.generate(tmp.resolve("d"), new NoiseBenchmark.Config(8, 32, 0.5, 1));
        Path out = Files.createDirectories(tmp.resolve("out"));
        List<JsonNode> truth = new ArrayList<>();
        for (String l : Files.readAllLines(data.resolve(NoiseBenchmark.TRUTH))) {
            truth.add(JSON.readTree(l));
        }
        // Remove the first two noisy images' captions and one clean one; noisy ITM 0.1, clean 0.9
        // except that one clean caption scores 0.05 (below every noisy caption).
        StringBuilder d = new StringBuilder();
        int noisySeen = 0;
        boolean cleanRemoved = false;
        for (JsonNode t : truth) {
            boolean noisy = t.get("noisy").asBoolean();
            boolean kept = true;
            double itm = noisy ? 0.1 : 0.9;
            if (noisy && noisySeen++ < 2) {
                kept = false;
            } else if (!noisy && !cleanRemoved) {
                kept = false;
                cleanRemoved = true;
                itm = 0.05;
            }
            d.append(JSON.writeValueAsString(JSON.createObjectNode().put("image", "../d/" + t.get("image").asText())
                    .put("caption", t.get("caption").asText()).put("source", "web").put("itm", itm).put("itc", 0.0)
                    .put("kept", kept))).append('\n');
            d.append(JSON.writeValueAsString(JSON.createObjectNode().put("image", "../d/" + t.get("image").asText())
                    .put("caption", "synthetic").put("source", "synthetic").put("itm", 0.0).put("itc", 0.0)
                    .put("kept", false))).append('\n');
        }
        Files.writeString(out.resolve(CapfiltRun.DECISIONS), d);
        NoiseBenchmark.Result r = NoiseBenchmark.evaluate(data, out);
        assertEquals(8, r.images());
        assertEquals(4, r.noisy());
        assertEquals(3, r.removed());
        assertEquals(2, r.removedNoisy());
        assertEquals(2 / 3.0, r.precision(), 1e-12);
        assertEquals(0.5, r.recall(), 1e-12);
        assertEquals(12 / 16.0, r.auc(), 1e-12, "3 of 4 clean captions beat all 4 noisy ones");
        assertTrue(r.toMarkdown().contains("| 8 | 4 | 3 | 2 | 0.667 | 0.500 | 0.750 |"), r.toMarkdown());
    }

    @Test
    void runsEndToEndWithTheTinyModels() throws IOException {
        LoadOptions o = LoadOptions.defaults().withThreads(2);
        try (Blip cap = Blip.load(tinyCaption, o); Blip itm = Blip.load(tinyItm, o)) {
            CapFilter f = new CapFilter(cap, itm, new CapfiltSettings(1, 0.9, 0, null, 0.5, null));
            NoiseBenchmark.Result r = NoiseBenchmark.run(f, tmp, new NoiseBenchmark.Config(12, 32, 0.5, 5),
                    new CapfiltRun.Options(5, 4, null));
            assertEquals(12, r.images());
            assertEquals(6, r.noisy());
            assertTrue(r.removedNoisy() <= Math.min(r.removed(), r.noisy()));
            assertTrue(r.auc() >= 0 && r.auc() <= 1);
        }
    }

    @Test
    void trainAndRunFineTunesTheFilterWithTheRetrievalTrainerAndResumes() throws IOException {
        LoadOptions o = LoadOptions.defaults().withThreads(2);
        NoiseBenchmark.FilterTuning d = NoiseBenchmark.FilterTuning.benchmark(7, 2);
        NoiseBenchmark.FilterTuning tuning = new NoiseBenchmark.FilterTuning(d.training().withEpochs(1).withBatch(6, 1),
                new org.blipjava.training.RetrievalSettings(0.07, true, 0.995, 0.4, 12), 2);
        NoiseBenchmark.Config c = new NoiseBenchmark.Config(8, 32, 0.5, 7);
        CapfiltSettings settings = new CapfiltSettings(1, 0.9, 0, null, 0.5, null);
        try (Blip cap = Blip.load(tinyCaption, o)) {
            NoiseBenchmark.Result r = NoiseBenchmark.trainAndRun(cap, tinyItm, tmp, c, 12, tuning,
                    settings, new CapfiltRun.Options(4, 4, null));
            assertEquals(8, r.images());
            assertEquals(4, r.noisy());
            // 12 images with two captions each, in batches of 6: 4 steps.
            assertTrue(Files.isRegularFile(tmp.resolve("filter/final/model.safetensors")));
            assertTrue(Files.isDirectory(tmp.resolve("filter/checkpoints/step-00000004")));
            byte[] tuned = Files.readAllBytes(tmp.resolve("filter/final/model.safetensors"));
            assertNotEquals(java.util.Arrays.hashCode(Files.readAllBytes(tinyItm.resolve("model.safetensors"))),
                    java.util.Arrays.hashCode(tuned), "the filter was trained");
            // Run again on the same folder: the finished fine-tuning is resumed, not redone or refused.
            NoiseBenchmark.Result again = NoiseBenchmark.trainAndRun(cap, tinyItm, tmp, c, 12, tuning,
                    settings, new CapfiltRun.Options(4, 4, null));
            assertEquals(r.removed(), again.removed());
            assertTrue(java.util.Arrays.equals(tuned, Files.readAllBytes(tmp.resolve("filter/final/model.safetensors"))));
        }
        assertThrows(IllegalArgumentException.class, () -> new NoiseBenchmark.FilterTuning(tuning.training(),
                tuning.retrieval(), 0));
    }
}
