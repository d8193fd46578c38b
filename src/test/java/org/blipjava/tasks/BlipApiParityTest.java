package org.blipjava.tasks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.blipjava.testing.FixtureInputs.strings;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.blipjava.checkpoint.SafetensorsFile;
import org.blipjava.generation.GenerationConfig;
import org.blipjava.testing.Fixtures;
import org.blipjava.testing.Fixtures.FixtureSet;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Java API against the reference: every generation case of the fixture (exact ids and
 * texts, beam scores to 1e-4), ITM/ITC scores and features, through {@link Blip} with the
 * fixture's own pixel values, so that image decoding differences cannot hide or cause a failure.
 */
class BlipApiParityTest {
    private static final double TOL = 1e-4;

    static Stream<FixtureSet> sets() {
        return Fixtures.parameters(Fixtures.Kind.BLIP);
    }

    private static Blip load(FixtureSet set, String model, int threads) {
        return Blip.load(set.model(model), LoadOptions.defaults().withThreads(threads));
    }

    @ParameterizedTest
    @MethodSource("sets")
    void captionGenerationMatchesReference(FixtureSet set) throws Exception {
        JsonNode expected = set.expected();
        JsonNode section = expected.get("caption");
        try (Blip blip = load(set, "tiny-caption", 2); SafetensorsFile tensors = set.openTensors()) {
            List<String> cases = FixtureGeneration.cases(section);
            assertThat(cases).isNotEmpty();
            for (String name : cases) {
                JsonNode c = section.get(name);
                int n = c.get("ids").size();
                List<String> images = FixtureGeneration.images(expected, section, n);
                PixelValues px = FixtureGeneration.pixels(tensors, images, blip.config().vision().imageSize());
                GenerationConfig g = FixtureGeneration.config(blip.generationDefaults(), c.get("kwargs"));
                String prompt = c.has("prompt") ? c.get("prompt").asText() : null;
                List<GeneratedText> out = blip.caption(px, prompt, g);
                checkGenerated("caption." + name, c, out, blip.config().text().padTokenId());
            }
        }
    }

    @ParameterizedTest
    @MethodSource("sets")
    void vqaGenerationMatchesReference(FixtureSet set) throws Exception {
        JsonNode expected = set.expected();
        JsonNode section = expected.get("vqa");
        List<String> questions = strings(section.get("questions"));
        try (Blip blip = load(set, "tiny-vqa", 2); SafetensorsFile tensors = set.openTensors()) {
            List<String> cases = FixtureGeneration.cases(section);
            assertThat(cases).isNotEmpty();
            for (String name : cases) {
                JsonNode c = section.get(name);
                int n = c.get("ids").size();
                List<String> images = FixtureGeneration.images(expected, section, n);
                PixelValues px = FixtureGeneration.pixels(tensors, images, blip.config().vision().imageSize());
                GenerationConfig g = FixtureGeneration.config(blip.generationDefaults(), c.get("kwargs"));
                List<GeneratedText> out = blip.answer(px, questions.subList(0, n), g);
                checkGenerated("vqa." + name, c, out, blip.config().text().padTokenId());
            }
        }
    }

    /** The same generation cases with the weights read from pytorch_model.bin instead of safetensors. */
    @ParameterizedTest
    @MethodSource("sets")
    void pytorchBinWeightsGiveTheSameGenerations(FixtureSet set, @TempDir Path tmp) throws Exception {
        JsonNode expected = set.expected();
        // A set may ship these models as safetensors only: then there is no .bin to check (skipped).
        Assumptions.assumeTrue(Files.isRegularFile(set.model("tiny-caption").resolve("pytorch_model.bin"))
                        || Files.isRegularFile(set.model("tiny-vqa").resolve("pytorch_model.bin")),
                "no pytorch_model.bin for tiny-caption or tiny-vqa in " + set);
        int compared = 0;
        for (String[] pair : new String[][] {{"tiny-caption", "caption"}, {"tiny-vqa", "vqa"}}) {
            Path src = set.model(pair[0]);
            if (!Files.isRegularFile(src.resolve("pytorch_model.bin"))) {
                continue;
            }
            // A copy of the model directory that has only the .bin weights.
            Path dir = Files.createDirectory(tmp.resolve(pair[0]));
            try (Stream<Path> files = Files.list(src)) {
                for (Path f : files.toList()) {
                    if (!f.getFileName().toString().contains("safetensors")) {
                        Files.createSymbolicLink(dir.resolve(f.getFileName()), f.toAbsolutePath());
                    }
                }
            }
            JsonNode section = expected.get(pair[1]);
            try (Blip blip = Blip.load(dir, LoadOptions.defaults().withThreads(1)); SafetensorsFile tensors = set.openTensors()) {
                for (String name : FixtureGeneration.cases(section)) {
                    JsonNode c = section.get(name);
                    int n = c.get("ids").size();
                    PixelValues px = FixtureGeneration.pixels(tensors, FixtureGeneration.images(expected, section, n),
                            blip.config().vision().imageSize());
                    GenerationConfig g = FixtureGeneration.config(blip.generationDefaults(), c.get("kwargs"));
                    List<GeneratedText> out = pair[1].equals("caption")
                            ? blip.caption(px, c.has("prompt") ? c.get("prompt").asText() : null, g)
                            : blip.answer(px, strings(section.get("questions")).subList(0, n), g);
                    checkGenerated(pair[0] + " (.bin) " + name, c, out, blip.config().text().padTokenId());
                    compared++;
                }
            }
        }
        assertThat(compared).as("generation cases compared with .bin weights in " + set).isPositive();
    }

    private static void checkGenerated(String what, JsonNode c, List<GeneratedText> out, int pad) {
        JsonNode ids = c.get("ids");
        assertThat(out).as(what).hasSize(ids.size());
        for (int i = 0; i < ids.size(); i++) {
            assertThat(out.get(i).tokenIds()).as(what + " ids of row " + i)
                    .containsExactly(FixtureGeneration.stripped(ids.get(i), pad));
            if (c.has("text")) {
                assertThat(out.get(i).text()).as(what + " text of row " + i).isEqualTo(c.get("text").get(i).asText());
            }
            JsonNode scores = c.get("sequences_scores");
            if (scores != null && !scores.isNull()) {
                assertThat(out.get(i).score()).as(what + " sequences_scores of row " + i)
                        .isCloseTo(scores.get(i).asDouble(), within(TOL * Math.max(1, Math.abs(scores.get(i).asDouble()))));
            }
        }
    }

    @ParameterizedTest
    @MethodSource("sets")
    void matchAndEmbeddingsMatchReference(FixtureSet set) throws Exception {
        JsonNode itm = set.expected().get("itm");
        List<String> texts = strings(itm.get("texts"));
        List<String> images = strings(itm.get("images"));
        try (Blip blip = load(set, "tiny-itm", 1); SafetensorsFile tensors = set.openTensors()) {
            PixelValues px = FixtureGeneration.pixels(tensors, images, blip.config().vision().imageSize());
            MatchScores s = blip.match(px, texts);
            float[] prob = Fixtures.floats(tensors, "itm/itm_prob_match");
            float[] cos = Fixtures.floats(tensors, "itm/itc_cosine");
            for (int i = 0; i < images.size(); i++) {
                for (int t = 0; t < texts.size(); t++) {
                    assertClose("itm " + i + "," + t, s.itm(i, t), prob[i * texts.size() + t]);
                    assertClose("itc " + i + "," + t, s.itc(i, t), cos[i * texts.size() + t]);
                }
            }
            assertRowsClose("image_feat", blip.embedImages(px), Fixtures.floats(tensors, "itm/image_feat"));
            assertRowsClose("text_feat", blip.embedTexts(texts), Fixtures.floats(tensors, "itm/text_feat"));
        }
    }

    @ParameterizedTest
    @MethodSource("sets")
    void contrastiveEmbeddingsMatchReference(FixtureSet set) throws Exception {
        JsonNode c = set.expected().get("contrastive");
        List<String> images = strings(c.get("images"));
        try (Blip blip = load(set, "tiny-contrastive", 1); SafetensorsFile tensors = set.openTensors()) {
            PixelValues px = FixtureGeneration.pixels(tensors, images, blip.config().vision().imageSize());
            assertRowsClose("image_embeds", blip.embedImages(px), Fixtures.floats(tensors, "contrastive/image_embeds"));
            List<String> texts = new ArrayList<>();
            // The fixture gives this section's texts as ids; decode them back to the texts.
            c.get("input_ids").forEach(row -> {
                int[] ids = FixtureGeneration.stripped(row, blip.config().text().padTokenId());
                texts.add(blip.tokenizer().decode(ids, true));
            });
            assertRowsClose("text_embeds", blip.embedTexts(texts), Fixtures.floats(tensors, "contrastive/text_embeds"));
        }
    }

    @ParameterizedTest
    @MethodSource("sets")
    void captioningFromFourThreadsEqualsOneByOne(FixtureSet set) throws Exception {
        JsonNode expected = set.expected();
        JsonNode section = expected.get("caption");
        try (Blip blip = load(set, "tiny-caption", 2); SafetensorsFile tensors = set.openTensors()) {
            List<String> cases = FixtureGeneration.cases(section);
            List<PixelValues> inputs = new ArrayList<>();
            List<GenerationConfig> configs = new ArrayList<>();
            List<String> prompts = new ArrayList<>();
            for (int k = 0; k < 4; k++) {
                JsonNode c = section.get(cases.get(k % cases.size()));
                List<String> images = FixtureGeneration.images(expected, section, c.get("ids").size());
                inputs.add(FixtureGeneration.pixels(tensors, images, blip.config().vision().imageSize()));
                configs.add(FixtureGeneration.config(blip.generationDefaults(), c.get("kwargs")));
                prompts.add(c.has("prompt") ? c.get("prompt").asText() : null);
            }
            List<List<GeneratedText>> sequential = new ArrayList<>();
            for (int k = 0; k < 4; k++) {
                sequential.add(blip.caption(inputs.get(k), prompts.get(k), configs.get(k)));
            }
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<List<GeneratedText>>> futures = new ArrayList<>();
                for (int k = 0; k < 4; k++) {
                    int kk = k;
                    futures.add(pool.submit(() -> blip.caption(inputs.get(kk), prompts.get(kk), configs.get(kk))));
                }
                for (int k = 0; k < 4; k++) {
                    List<GeneratedText> got = futures.get(k).get();
                    assertThat(got).hasSameSizeAs(sequential.get(k));
                    for (int i = 0; i < got.size(); i++) {
                        assertThat(got.get(i).tokenIds()).containsExactly(sequential.get(k).get(i).tokenIds());
                        assertThat(got.get(i).text()).isEqualTo(sequential.get(k).get(i).text());
                    }
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    private static void assertClose(String what, double actual, double expected) {
        assertThat(actual).as(what).isCloseTo(expected, within(TOL * Math.max(1, Math.abs(expected))));
    }

    private static void assertRowsClose(String what, float[][] actual, float[] expected) {
        int dim = expected.length / actual.length;
        for (int i = 0; i < actual.length; i++) {
            assertThat(actual[i]).as(what + " row " + i).hasSize(dim);
            for (int d = 0; d < dim; d++) {
                assertClose(what + "[" + i + "][" + d + "]", actual[i][d], expected[i * dim + d]);
            }
        }
    }
}
