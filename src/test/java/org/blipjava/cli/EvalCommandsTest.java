package org.blipjava.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.blipjava.cli.CliRun.run;
import static org.blipjava.testing.FixtureInputs.itmTexts;
import static org.blipjava.testing.FixtureInputs.targetImages;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.blipjava.generation.GenerationConfig;
import org.blipjava.metrics.CaptionScores;
import org.blipjava.metrics.CaptionSet;
import org.blipjava.metrics.Meteor;
import org.blipjava.metrics.VqaAccuracy;
import org.blipjava.tasks.Blip;
import org.blipjava.tasks.LoadOptions;
import org.blipjava.testing.Fixtures;
import org.blipjava.testing.Fixtures.FixtureSet;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code blip eval caption|vqa} on the fixture's tiny models and a small dataset built from the
 * fixture's images and texts: the reports hold what the Java API generates for the same images,
 * the scores the metrics give for those captions, and the entries that had to be skipped.
 */
class EvalCommandsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static Stream<FixtureSet> sets() {
        return Fixtures.parameters(Fixtures.Kind.BLIP);
    }

    @ParameterizedTest
    @MethodSource("sets")
    void evalCaptionWritesJsonAndHtmlReports(FixtureSet set, @TempDir Path tmp) throws Exception {
        List<String> names = targetImages(set, 3);
        List<String> texts = itmTexts(set);
        Path data = tmp.resolve("data");
        Files.createDirectories(data.resolve("imgs"));
        StringBuilder jsonl = new StringBuilder();
        Map<String, List<String>> refs = new LinkedHashMap<>();
        for (int i = 0; i < names.size(); i++) {
            Files.copy(set.image(names.get(i)), data.resolve("imgs").resolve(names.get(i)));
            List<String> r = List.of(texts.get(i % texts.size()), texts.get((i + 1) % texts.size()));
            refs.put("imgs/" + names.get(i), r);
            for (String t : r) {
                jsonl.append(JSON.writeValueAsString(Map.of("image", "imgs/" + names.get(i), "caption", t))).append('\n');
            }
        }
        Files.write(data.resolve("imgs/broken.png"), new byte[] {1, 2, 3});
        jsonl.append("{\"image\": \"imgs/broken.png\", \"caption\": \"x\"}\n");
        jsonl.append("{\"image\": \"imgs/missing.png\", \"caption\": \"y\"}\n");
        Files.writeString(data.resolve("captions.jsonl"), jsonl);
        Path reports = tmp.resolve("reports");
        Path model = set.model("tiny-caption");

        CliRun r = run("eval", "caption", "--model", model.toString(), "--dataset", data.toString(),
                "--report-dir", reports.toString(), "--max-length", "12", "--batch-size", "2", "--no-progress");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("METEOR", "CIDEr-D", "2 skipped");

        JsonNode report = JSON.readTree(reports.resolve("report.json").toFile());
        JsonNode per = report.get("per_image");
        assertThat(per).hasSize(names.size());
        assertThat(report.get("skipped")).hasSize(2);
        assertThat(report.get("skipped").toString()).contains("broken.png", "missing.png");

        // The captions are what the API generates with the same settings.
        Map<String, String> cands = new LinkedHashMap<>();
        try (Blip blip = Blip.load(model, LoadOptions.defaults())) {
            GenerationConfig g = blip.generationDefaults().toBuilder().maxLength(12).build();
            for (int i = 0; i < names.size(); i++) {
                String want = blip.caption(List.of(Blip.readImage(set.image(names.get(i)))), null, g).get(0).text();
                assertThat(per.get(i).get("id").asText()).isEqualTo("imgs/" + names.get(i));
                assertThat(per.get(i).get("caption").asText()).isEqualTo(want);
                cands.put("imgs/" + names.get(i), want);
            }
        }
        // The scores are the metrics' scores of those captions.
        CaptionScores s = CaptionScores.score(CaptionSet.of(refs, cands), false, Meteor.english());
        JsonNode corpus = report.get("corpus");
        for (int n = 0; n < 4; n++) {
            assertThat(corpus.get("bleu").get(n).asDouble()).isCloseTo(s.bleu().corpus().get(n), within(1e-12));
        }
        assertThat(corpus.get("meteor").asDouble()).isCloseTo(s.meteor().corpus(), within(1e-12));
        assertThat(corpus.get("rouge_l").asDouble()).isCloseTo(s.rougeL().corpus(), within(1e-12));
        assertThat(corpus.get("cider_d").asDouble()).isCloseTo(s.ciderD().corpus(), within(1e-12));
        for (int i = 0; i < names.size(); i++) {
            assertThat(per.get(i).get("scores").get("cider_d").asDouble())
                    .isCloseTo(s.ciderD().perImage().get(i), within(1e-12));
            assertThat(per.get(i).get("scores").get("bleu").get(3).asDouble())
                    .isCloseTo(s.bleu().perImage().get(3).get(i), within(1e-12));
        }

        String html = Files.readString(reports.resolve("report.html"), StandardCharsets.UTF_8);
        assertThat(html).startsWith("<!DOCTYPE html>").contains("<style>", "<script>", "sortBy(")
                .doesNotContain("src=\"http", "href=\"http");
        assertThat(html.split("<img class=\"thumb\"", -1)).hasSize(names.size() + 1);
        assertThat(html.split("src=\"data:image/jpeg;base64,", -1)).hasSize(names.size() + 1);
        for (String c : cands.values()) {
            assertThat(html).contains(c.replace("&", "&amp;").replace("<", "&lt;").replace("\"", "&quot;"));
        }
        assertThat(Files.list(reports).map(p -> p.getFileName().toString()).toList())
                .containsExactlyInAnyOrder("report.json", "report.html");

        // --json prints the corpus scores and counts; the report is rewritten in place.
        CliRun j = run("eval", "caption", "--model", model.toString(), "--dataset", data.toString(), "--limit", "1",
                "--report-dir", reports.toString(), "--max-length", "12", "--no-progress", "--json");
        assertThat(j.exit()).as(j.err()).isZero();
        JsonNode summary = JSON.readTree(j.out());
        assertThat(summary.get("images").asInt()).isEqualTo(1);
        assertThat(summary.get("corpus").get("bleu")).hasSize(4);
        assertThat(JSON.readTree(reports.resolve("report.json").toFile()).get("per_image")).hasSize(1);
    }

    @ParameterizedTest
    @MethodSource("sets")
    void evalVqaScoresAccuracy(FixtureSet set, @TempDir Path tmp) throws Exception {
        List<String> names = targetImages(set, 2);
        List<String> questions = new ArrayList<>();
        set.expected().get("vqa").get("questions").forEach(q -> questions.add(q.asText()));
        Path data = tmp.resolve("data");
        Files.createDirectories(data);
        ArrayNode list = JSON.createArrayNode();
        for (int i = 0; i < names.size(); i++) {
            Files.copy(set.image(names.get(i)), data.resolve(names.get(i)));
            ObjectNode q = list.addObject().put("image", names.get(i)).put("question", questions.get(i % questions.size()))
                    .put("question_id", 100 + i);
            q.putArray("answer").add("yes").add("yes").add("no").add("2");
        }
        list.addObject().put("image", "gone.png").put("question", "q?").putArray("answer").add("a");
        Files.writeString(data.resolve("vqa.json"), JSON.writeValueAsString(list));
        Path reports = tmp.resolve("out");
        Path model = set.model("tiny-vqa");

        CliRun r = run("eval", "vqa", "--model", model.toString(), "--dataset", data.toString(),
                "--report-dir", reports.toString(), "--max-length", "6", "--no-progress", "--json");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode summary = JSON.readTree(r.out());
        JsonNode report = JSON.readTree(reports.resolve("report.json").toFile());
        JsonNode per = report.get("per_question");
        assertThat(per).hasSize(names.size());
        assertThat(report.get("skipped")).hasSize(1);
        double sum = 0;
        try (Blip blip = Blip.load(model, LoadOptions.defaults())) {
            GenerationConfig g = blip.generationDefaults().toBuilder().maxLength(6).build();
            for (int i = 0; i < names.size(); i++) {
                String want = blip.answer(List.of(Blip.readImage(set.image(names.get(i)))),
                        List.of(questions.get(i % questions.size())), g).get(0).text();
                assertThat(per.get(i).get("id").asText()).isEqualTo(String.valueOf(100 + i));
                assertThat(per.get(i).get("answer").asText()).isEqualTo(want);
                double acc = VqaAccuracy.accuracy(want, List.of("yes", "yes", "no", "2"));
                assertThat(per.get(i).get("accuracy").asDouble()).isCloseTo(acc, within(1e-12));
                sum += acc;
            }
        }
        assertThat(report.get("accuracy").asDouble()).isCloseTo(sum / names.size(), within(1e-12));
        assertThat(summary.get("accuracy").asDouble()).isCloseTo(sum / names.size(), within(1e-12));
        assertThat(Files.readString(reports.resolve("report.html"))).contains("VQA accuracy", "gone.png");
    }

    @ParameterizedTest
    @MethodSource("sets")
    void datasetWithoutUsableImagesIsAOneLineError(FixtureSet set, @TempDir Path tmp) throws Exception {
        Files.writeString(tmp.resolve("captions.jsonl"), "{\"image\": \"nope.png\", \"caption\": \"x\"}\n");
        CliRun r = run("eval", "caption", "--model", set.model("tiny-caption").toString(), "--dataset", tmp.toString(),
                "--report-dir", tmp.resolve("out").toString(), "--no-progress");
        assertThat(r.exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(r.err()).contains("no usable images", "nope.png");
        assertThat(Files.exists(tmp.resolve("out"))).isFalse();
    }
}
