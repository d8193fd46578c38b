package org.blipjava.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.blipjava.cli.CliRun.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.blipjava.checkpoint.SafetensorsFile;
import org.blipjava.tasks.Blip;
import org.blipjava.tasks.LoadOptions;
import org.blipjava.testing.FixtureInputs;
import org.blipjava.testing.Fixtures;
import org.blipjava.testing.Fixtures.FixtureSet;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Runs the real command line ({@link Main#run}) on the fixture models. Results are compared for
 * the images whose decoded pixels equal the fixture's exactly (lossless sources); lossy sources
 * may decode slightly differently, which can legitimately change generated tokens.
 */
class CliTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static Stream<FixtureSet> sets() {
        return Fixtures.parameters(Fixtures.Kind.BLIP);
    }

    /** Which of these images decode to exactly the fixture's pixel values at the model's size. */
    static boolean[] exact(FixtureSet set, String model, List<String> images) throws Exception {
        try (Blip blip = Blip.load(set.model(model), LoadOptions.defaults().withThreads(1))) {
            return FixtureInputs.decodesExactly(set, blip, images);
        }
    }

    static List<String> flags(JsonNode kwargs) {
        List<String> out = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = kwargs.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            out.add("--" + e.getKey().replace('_', '-'));
            out.add(e.getValue().asText());
        }
        return out;
    }

    /**
     * The images a section's reference results were computed from ({@code caption.images},
     * {@code vqa.images}), one per result row.
     */
    static List<String> sectionImages(FixtureSet set, String section, int rows) {
        List<String> out = FixtureInputs.modelImages(set.expected(), section);
        assertThat(out).as("%s %s.images (one per result row)", set, section).hasSize(rows);
        return out;
    }

    static int[] ids(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    static int[] strip(int[] ids) {
        int end = ids.length;
        while (end > 1 && ids[end - 1] == 0) {
            end--;
        }
        return java.util.Arrays.copyOf(ids, end);
    }

    @ParameterizedTest
    @MethodSource("sets")
    void captionPrintsTheReferenceIds(FixtureSet set) throws Exception {
        JsonNode section = set.expected().get("caption");
        int checked = 0;
        for (Iterator<String> it = section.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            JsonNode c = section.get(name);
            if (!c.has("kwargs") || !c.has("ids")) {
                continue;
            }
            List<String> images = sectionImages(set, "caption", c.get("ids").size());
            boolean[] exact = exact(set, "tiny-caption", images);
            List<String> args = new ArrayList<>(List.of("caption", "--model", set.model("tiny-caption").toString(), "--json"));
            args.addAll(flags(c.get("kwargs")));
            if (c.has("prompt")) {
                args.add("--prompt");
                args.add(c.get("prompt").asText());
            }
            for (String img : images) {
                args.add(set.image(img).toString());
            }
            CliRun r = run(args.toArray(String[]::new));
            assertThat(r.exit()).as(name + ": " + r.err()).isZero();
            JsonNode results = r.json().get("results");
            assertThat(results).hasSize(images.size());
            for (int i = 0; i < images.size(); i++) {
                assertThat(results.get(i).get("image").asText()).isEqualTo(set.image(images.get(i)).toString());
                if (exact[i]) {
                    assertThat(ids(results.get(i).get("token_ids"))).as(name + " row " + i)
                            .containsExactly(strip(ids(c.get("ids").get(i))));
                    assertThat(results.get(i).get("caption").asText()).isEqualTo(c.get("text").get(i).asText());
                    checked++;
                }
            }
        }
        assertThat(checked).as("no caption result could be compared").isPositive();
    }

    @ParameterizedTest
    @MethodSource("sets")
    void vqaPrintsTheReferenceIds(FixtureSet set) throws Exception {
        JsonNode section = set.expected().get("vqa");
        JsonNode c = section.get("greedy");
        int n = c.get("ids").size();
        List<String> images = sectionImages(set, "vqa", n);
        boolean[] exact = exact(set, "tiny-vqa", images);
        List<String> args = new ArrayList<>(List.of("vqa", "--model", set.model("tiny-vqa").toString(), "--json",
                "--paired", "--batch-size", String.valueOf(n)));
        args.addAll(flags(c.get("kwargs")));
        for (int i = 0; i < n; i++) {
            args.add("--question");
            args.add(section.get("questions").get(i).asText());
        }
        for (String img : images) {
            args.add(set.image(img).toString());
        }
        CliRun r = run(args.toArray(String[]::new));
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode results = r.json().get("results");
        assertThat(results).hasSize(n);
        int checked = 0;
        for (int i = 0; i < n; i++) {
            assertThat(results.get(i).get("question").asText()).isEqualTo(section.get("questions").get(i).asText());
            if (exact[i]) {
                assertThat(ids(results.get(i).get("token_ids"))).containsExactly(strip(ids(c.get("ids").get(i))));
                assertThat(results.get(i).get("answer").asText()).isEqualTo(c.get("text").get(i).asText());
                checked++;
            }
        }
        assertThat(checked).isPositive();
    }

    @ParameterizedTest
    @MethodSource("sets")
    void matchAndEmbedPrintTheReferenceScores(FixtureSet set) throws Exception {
        JsonNode itm = set.expected().get("itm");
        List<String> images = new ArrayList<>();
        itm.get("images").forEach(n -> images.add(n.asText()));
        boolean[] exact = exact(set, "tiny-itm", images);
        List<String> args = new ArrayList<>(List.of("match", "--model", set.model("tiny-itm").toString(), "--json"));
        itm.get("texts").forEach(t -> {
            args.add("--text");
            args.add(t.asText());
        });
        for (String img : images) {
            args.add(set.image(img).toString());
        }
        CliRun r = run(args.toArray(String[]::new));
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode results = r.json().get("results");
        int nt = itm.get("texts").size();
        assertThat(results).hasSize(images.size() * nt);
        try (SafetensorsFile tensors = set.openTensors()) {
            float[] prob = Fixtures.floats(tensors, "itm/itm_prob_match");
            float[] cos = Fixtures.floats(tensors, "itm/itc_cosine");
            for (int i = 0; i < images.size(); i++) {
                for (int t = 0; t < nt; t++) {
                    JsonNode res = results.get(i * nt + t);
                    assertThat(res.get("text").asText()).isEqualTo(itm.get("texts").get(t).asText());
                    if (exact[i]) {
                        assertThat(res.get("itm").asDouble()).isCloseTo(prob[i * nt + t], within(1e-4));
                        assertThat(res.get("itc").asDouble()).isCloseTo(cos[i * nt + t], within(1e-4));
                    }
                }
            }
            List<String> embedArgs = new ArrayList<>(List.of("embed", "--model", set.model("tiny-itm").toString(), "--json"));
            itm.get("texts").forEach(t -> {
                embedArgs.add("--text");
                embedArgs.add(t.asText());
            });
            CliRun e = run(embedArgs.toArray(String[]::new));
            assertThat(e.exit()).as(e.err()).isZero();
            float[] feat = Fixtures.floats(tensors, "itm/text_feat");
            JsonNode er = e.json().get("results");
            int dim = feat.length / nt;
            for (int t = 0; t < nt; t++) {
                assertThat(er.get(t).get("text").asText()).isEqualTo(itm.get("texts").get(t).asText());
                for (int d = 0; d < dim; d++) {
                    assertThat(er.get(t).get("embedding").get(d).asDouble()).isCloseTo(feat[t * dim + d], within(1e-4));
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("sets")
    void oneBadImageIsReportedAndTheOthersStillGetResults(FixtureSet set, @TempDir Path tmp) throws Exception {
        Path good = set.image(FixtureInputs.modelImages(set.expected(), "caption").get(0));
        Path notImage = Files.writeString(tmp.resolve("notes.png"), "this is not an image");
        Path missing = tmp.resolve("missing.jpg");
        CliRun r = run("caption", "--model", set.model("tiny-caption").toString(), "--json",
                good.toString(), notImage.toString(), missing.toString());
        assertThat(r.exit()).isEqualTo(1);
        JsonNode doc = r.json();
        assertThat(doc.get("results")).hasSize(1);
        assertThat(doc.get("results").get(0).get("image").asText()).isEqualTo(good.toString());
        assertThat(doc.get("errors")).hasSize(2);
        assertThat(r.err()).contains("notes.png").contains("missing.jpg").doesNotContain("Exception").doesNotContain("\tat ");
        assertThat(r.err().lines().count()).isEqualTo(2);
    }

    @ParameterizedTest
    @MethodSource("sets")
    void badModelsAndArgumentsGiveOneLineAndNonZeroExit(FixtureSet set, @TempDir Path tmp) throws Exception {
        Path good = set.image(FixtureInputs.modelImages(set.expected(), "caption").get(0));
        CliRun noDir = run("caption", "--model", tmp.resolve("nope").toString(), good.toString());
        assertThat(noDir.exit()).isNotZero();
        assertThat(noDir.err().lines().count()).as(noDir.err()).isEqualTo(1);
        assertThat(noDir.err()).contains("nope");

        // A model directory without weights.
        Path partial = Files.createDirectory(tmp.resolve("partial"));
        try (Stream<Path> files = Files.list(set.model("tiny-caption"))) {
            for (Path f : files.toList()) {
                String name = f.getFileName().toString();
                if (!name.endsWith(".safetensors") && !name.endsWith(".bin")) {
                    Files.copy(f, partial.resolve(name));
                }
            }
        }
        CliRun noWeights = run("caption", "--model", partial.toString(), good.toString());
        assertThat(noWeights.exit()).isNotZero();
        assertThat(noWeights.err().lines().count()).as(noWeights.err()).isEqualTo(1);
        assertThat(noWeights.err()).contains("partial");

        String longPrompt = "word ".repeat(200);
        CliRun tooLong = run("caption", "--model", set.model("tiny-caption").toString(), "--prompt", longPrompt, good.toString());
        assertThat(tooLong.exit()).isNotZero();
        assertThat(tooLong.err().lines().count()).as(tooLong.err()).isEqualTo(1);
        assertThat(tooLong.err()).contains("prompt");

        CliRun badFlag = run("caption", "--model", set.model("tiny-caption").toString(), "--num-beams", "zero", good.toString());
        assertThat(badFlag.exit()).isEqualTo(Main.EXIT_USAGE);

        CliRun wrongHead = run("vqa", "--model", set.model("tiny-caption").toString(), "--question", "what?", good.toString());
        assertThat(wrongHead.exit()).isNotZero();
        assertThat(wrongHead.err()).contains("BlipForConditionalGeneration");
    }

    @ParameterizedTest
    @MethodSource("sets")
    void outputFileIsWrittenWhole(FixtureSet set, @TempDir Path tmp) throws Exception {
        Path good = set.image(FixtureInputs.modelImages(set.expected(), "caption").get(0));
        Path out = tmp.resolve("sub").resolve("captions.json");
        CliRun r = run("caption", "--model", set.model("tiny-caption").toString(), "--json", "--output", out.toString(), good.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).isEmpty();
        JsonNode doc = JSON.readTree(out.toFile());
        assertThat(doc.get("results")).hasSize(1);
        try (Stream<Path> left = Files.list(out.getParent())) {
            assertThat(left.toList()).containsExactly(out);
        }
    }
}
