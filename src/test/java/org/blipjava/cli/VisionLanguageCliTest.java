package org.blipjava.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.blipjava.image.RgbImage;
import org.blipjava.tasks.Blip;
import org.blipjava.tasks.ImageTextModel;
import org.blipjava.tasks.LoadOptions;
import org.blipjava.tasks.MatchScores;
import org.blipjava.tasks.ModelFamily;
import org.blipjava.tasks.ZeroShotClassifier;
import org.blipjava.testing.FixtureInputs;
import org.blipjava.testing.Fixtures;
import org.blipjava.testing.Fixtures.FixtureSet;
import org.blipjava.training.ShapesData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CLIP and FLAVA through the command line: the commands that take any family (match, embed,
 * classify, index/search, eval retrieval, explain) agree with the Java API on the same files,
 * and {@code blip compare} runs the whole study on a rendered categorized set.
 */
class VisionLanguageCliTest {
    private static final double TOL = 1e-5;

    /** The PNG images of the set's CLIP inputs, copied into a folder as a user's photos. */
    private static Path photos(FixtureSet set, Path tmp) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("photos"));
        for (String img : FixtureInputs.strings(set.expected().get("images"))) {
            Files.copy(set.image(img), dir.resolve(img));
        }
        return dir;
    }

    private static List<Path> models(FixtureSet set, ModelFamily family) throws Exception {
        List<Path> out = new ArrayList<>();
        try (var s = Files.list(set.dir().resolve("models"))) {
            for (Path p : s.sorted().toList()) {
                if (Files.isRegularFile(p.resolve("config.json")) && ModelFamily.of(p) == family) {
                    out.add(p);
                }
            }
        }
        return out;
    }

    private static List<Path> files(Path dir) throws Exception {
        try (var s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    private static List<String> texts(FixtureSet set) {
        return FixtureInputs.strings(set.expected().get("clip").get("texts")).stream()
                .filter(t -> !t.isBlank()).limit(4).toList();
    }

    @Test
    void matchAndEmbedAgreeWithTheApiForEveryFamily(@TempDir Path tmp) throws Exception {
        for (FixtureSet set : Fixtures.sets(Fixtures.Kind.CLIP)) {
            Path dir = photos(set, tmp.resolve(set.name()));
            List<Path> images = files(dir);
            List<RgbImage> decoded = images.stream().map(Blip::readImage).toList();
            List<String> texts = texts(set);
            List<Path> all = new ArrayList<>(models(set, ModelFamily.CLIP));
            all.addAll(models(set, ModelFamily.FLAVA));
            for (Path model : all) {
                List<String> args = new ArrayList<>(List.of("match", "--json", "--model", model.toString(), dir.toString()));
                texts.forEach(t -> args.addAll(List.of("--text", t)));
                CliRun run = CliRun.run(args.toArray(String[]::new));
                assertThat(run.exit()).as(run.err()).isZero();
                JsonNode results = run.json().get("results");
                try (ImageTextModel m = ImageTextModel.load(model, LoadOptions.defaults())) {
                    MatchScores s = m.match(decoded, texts);
                    assertThat(results).hasSize(images.size() * texts.size());
                    for (JsonNode r : results) {
                        int i = images.indexOf(Path.of(r.get("image").asText()));
                        int t = texts.indexOf(r.get("text").asText());
                        assertThat(r.get("itc").asDouble()).as("%s itc", model).isCloseTo(s.itc(i, t), within(TOL));
                        assertThat(r.has("itm")).as("%s reports itm only with a matching head", model)
                                .isEqualTo(m.hasMatchHead());
                        if (m.hasMatchHead()) {
                            assertThat(r.get("itm").asDouble()).isCloseTo(s.itm(i, t), within(TOL));
                        }
                    }
                    CliRun embed = CliRun.run("embed", "--json", "--model", model.toString(), "--text", texts.get(0),
                            images.get(0).toString());
                    assertThat(embed.exit()).as(embed.err()).isZero();
                    float[] image = m.embedImages(List.of(decoded.get(0)))[0];
                    float[] text = m.embedTexts(List.of(texts.get(0)))[0];
                    for (JsonNode r : embed.json().get("results")) {
                        float[] expected = r.has("image") ? image : text;
                        JsonNode e = r.get("embedding");
                        assertThat(e).hasSize(m.embeddingDimension());
                        for (int k = 0; k < expected.length; k++) {
                            assertThat(e.get(k).asDouble()).isCloseTo(expected[k], within(TOL));
                        }
                    }
                }
            }
        }
    }

    @Test
    void classifyUsesPromptEnsemblesAndReportsTopK(@TempDir Path tmp) throws Exception {
        FixtureSet set = Fixtures.sets(Fixtures.Kind.CLIP).getFirst();
        Path dir = photos(set, tmp);
        Path model = models(set, ModelFamily.CLIP).getFirst();
        List<String> labels = List.of("cat", "dog", "beach");
        List<String> templates = List.of("a photo of a {}.", "a picture of the {}");
        CliRun run = CliRun.run("classify", "--json", "--model", model.toString(), "--labels", String.join(",", labels),
                "--template", templates.get(0), "--template", templates.get(1), "--top-k", "2", dir.toString());
        assertThat(run.exit()).as(run.err()).isZero();
        List<Path> images = files(dir);
        try (ImageTextModel m = ImageTextModel.load(model, LoadOptions.defaults())) {
            var expected = new ZeroShotClassifier(m, labels, templates)
                    .classify(images.stream().map(Blip::readImage).toList(), labels.size());
            JsonNode results = run.json().get("results");
            assertThat(results).hasSize(images.size());
            for (JsonNode r : results) {
                int i = images.indexOf(Path.of(r.get("image").asText()));
                JsonNode preds = r.get("predictions");
                assertThat(preds).hasSize(2);
                assertThat(r.get("label").asText()).isEqualTo(expected.get(i).getFirst().label());
                for (int k = 0; k < 2; k++) {
                    assertThat(preds.get(k).get("label").asText()).isEqualTo(expected.get(i).get(k).label());
                    assertThat(preds.get(k).get("probability").asDouble())
                            .isCloseTo(expected.get(i).get(k).probability(), within(1e-6));
                }
                double sum = expected.get(i).stream().mapToDouble(ZeroShotClassifier.Prediction::probability).sum();
                assertThat(sum).isCloseTo(1.0, within(1e-6));
            }
        }
        CliRun bad = CliRun.run("classify", "--model", model.toString(), "--labels", "cat", dir.toString());
        assertThat(bad.exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(bad.err()).contains("at least two labels");
        CliRun noSlot = CliRun.run("classify", "--model", model.toString(), "--labels", "cat,dog", "--template",
                "a photo", dir.toString());
        assertThat(noSlot.exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(noSlot.err()).contains("{}");
    }

    @Test
    void indexSearchAndRetrievalEvaluationTakeClipAndFlava(@TempDir Path tmp) throws Exception {
        FixtureSet set = Fixtures.sets(Fixtures.Kind.CLIP).getFirst();
        Path dir = photos(set, tmp);
        List<Path> images = files(dir);
        List<String> texts = texts(set);
        List<Path> all = new ArrayList<>(models(set, ModelFamily.CLIP));
        all.addAll(models(set, ModelFamily.FLAVA));
        // A captions file pairing each image with one text, for eval retrieval.
        StringBuilder csv = new StringBuilder("image,caption\n");
        for (int i = 0; i < images.size(); i++) {
            csv.append(images.get(i).getFileName()).append(",\"").append(texts.get(i % texts.size()).replace("\"", "\"\""))
                    .append("\"\n");
        }
        Files.writeString(dir.resolve("captions.csv"), csv);
        for (Path model : all) {
            Path index = tmp.resolve("index-" + model.getFileName());
            CliRun built = CliRun.run("index", "--json", "--model", model.toString(), "--images", dir.toString(),
                    "--index", index.toString());
            assertThat(built.exit()).as(built.err()).isZero();
            assertThat(built.json().get("size").asInt()).isEqualTo(images.size());
            try (ImageTextModel m = ImageTextModel.load(model, LoadOptions.defaults())) {
                assertThat(built.json().get("dimension").asInt()).isEqualTo(m.embeddingDimension());
                float[][] cos = m.match(images.stream().map(Blip::readImage).toList(), List.of(texts.get(0))).itc();
                int rerank = m.hasMatchHead() ? images.size() : 0;
                CliRun s = CliRun.run("search", "--json", "--index", index.toString(), "--model", model.toString(),
                        "--text", texts.get(0), "--k", String.valueOf(images.size()), "--rerank", String.valueOf(rerank));
                assertThat(s.exit()).as(s.err()).isZero();
                JsonNode hits = s.json().get("results");
                assertThat(hits).hasSize(images.size());
                for (JsonNode h : hits) {
                    int i = images.indexOf(Path.of(h.get("path").asText()));
                    assertThat(h.get("itc").asDouble()).as("%s itc of %s", model, h.get("path")).isCloseTo(cos[i][0], within(1e-4));
                    assertThat(h.has("itm")).isEqualTo(m.hasMatchHead());
                }
                if (!m.hasMatchHead()) {
                    CliRun refused = CliRun.run("search", "--index", index.toString(), "--model", model.toString(),
                            "--text", texts.get(0), "--rerank", "2");
                    assertThat(refused.exit()).isEqualTo(Main.EXIT_USAGE);
                    assertThat(refused.err()).contains("--rerank 0");
                }
                CliRun eval = CliRun.run("eval", "retrieval", "--json", "--model", model.toString(), "--dataset",
                        dir.resolve("captions.csv").toString());
                assertThat(eval.exit()).as(eval.err()).isZero();
                assertThat(eval.json().get("images").asInt()).isEqualTo(images.size());
                assertThat(eval.json().has("itm")).as("%s re-ranks by default only with a matching head", model)
                        .isEqualTo(m.hasMatchHead());
                CliRun heat = CliRun.run("explain", "heatmap", "--model", model.toString(), "--text", texts.get(0),
                        "--text", texts.get(1), "--output", tmp.resolve(model.getFileName() + ".png").toString(),
                        images.get(0).toString());
                assertThat(heat.exit()).as(heat.err()).isZero();
                assertThat(ImageIO.read(tmp.resolve(model.getFileName() + ".png").toFile())).isNotNull();
            }
        }
    }

    @Test
    void bothFamiliesRefuseBlipOnlyCommandsClearly(@TempDir Path tmp) throws Exception {
        FixtureSet set = Fixtures.sets(Fixtures.Kind.CLIP).getFirst();
        Path model = models(set, ModelFamily.CLIP).getFirst();
        Path image = photos(set, tmp).resolve(FixtureInputs.strings(set.expected().get("images")).getFirst());
        CliRun run = CliRun.run("caption", "--model", model.toString(), image.toString());
        assertThat(run.exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(run.err()).contains("CLIP").contains("needs a BLIP checkpoint").doesNotContain("Exception");
    }

    @Test
    void compareRunsTheStudyOnARenderedCategorizedSet(@TempDir Path tmp) throws Exception {
        FixtureSet blipSet = Fixtures.sets(Fixtures.Kind.BLIP).getFirst();
        FixtureSet vlm = Fixtures.sets(Fixtures.Kind.CLIP).getFirst();
        Path data = tmp.resolve("data");
        ShapesData.writeCategorized(data, 3, 48, 7);
        Path clip = models(vlm, ModelFamily.CLIP).getFirst();
        List<Path> flavas = models(vlm, ModelFamily.FLAVA);
        Path blipItm = blipSet.model("tiny-itm");
        Path captioner = blipSet.model("tiny-caption");
        List<String> args = new ArrayList<>(List.of("compare", "--json", "--dataset", data.toString(), "--report-dir",
                tmp.resolve("out").toString(), "--model", blipItm.toString(), "--model", clip.toString(),
                "--model", captioner.toString(), "--max-length", "8"));
        for (Path f : flavas) {
            args.addAll(List.of("--model", f.toString()));
        }
        CliRun run = CliRun.run(args.toArray(String[]::new));
        assertThat(run.exit()).as(run.err()).isZero();
        JsonNode doc = run.json();
        int n = 3 * ShapesData.SHAPES.size();
        assertThat(doc.get("images").asInt()).isEqualTo(n);
        assertThat(doc.get("texts").asInt()).isEqualTo(n);
        assertThat(doc.get("categories")).hasSize(ShapesData.SHAPES.size());
        assertThat(doc.get("models")).hasSize(2 + flavas.size());
        assertThat(doc.get("captioners")).hasSize(1);
        assertThat(doc.get("captioners").get(0).get("captions")).hasSize(n);
        assertThat(doc.get("captioners").get(0).get("bleu")).hasSize(4);

        // CLIP's top-1 image->text accuracy recomputed from the API on the same files.
        JsonNode clipRow = null;
        for (JsonNode m : doc.get("models")) {
            if (m.get("model").asText().equals(clip.toString())) {
                clipRow = m;
            }
            assertThat(m.has("itm")).as("%s", m.get("model")).isEqualTo(!m.get("model").asText().equals(clip.toString())
                    && !m.get("architecture").asText().equals("FlavaModel"));
        }
        assertThat(clipRow).isNotNull();
        var ds = org.blipjava.data.CaptionDatasets.read(data, null, null);
        try (ImageTextModel m = ImageTextModel.load(clip, LoadOptions.defaults())) {
            List<RgbImage> imgs = ds.samples().stream().map(s -> Blip.readImage(s.image())).toList();
            List<String> caps = ds.samples().stream().map(s -> s.captions().getFirst()).toList();
            float[][] cos = m.match(imgs, caps).itc();
            int hits = 0;
            for (int i = 0; i < cos.length; i++) {
                int best = 0;
                for (int t = 1; t < cos[i].length; t++) {
                    if (cos[i][t] > cos[i][best]) {
                        best = t;
                    }
                }
                hits += best == i ? 1 : 0;
            }
            assertThat(clipRow.get("itc").get("image_to_text").get("top1").asDouble())
                    .isCloseTo(hits / (double) n, within(1e-9));
        }
        Path out = tmp.resolve("out");
        String html = Files.readString(out.resolve("compare.html"));
        for (JsonNode m : doc.get("models")) {
            String slug = org.blipjava.report.ModelComparison.slug(m.get("model").asText());
            for (String kind : List.of("-heatmap.png", "-tsne.png")) {
                BufferedImage png = ImageIO.read(out.resolve(slug + kind).toFile());
                assertThat(png).as(slug + kind).isNotNull();
                assertThat(png.getWidth()).isGreaterThan(100);
            }
            assertThat(html).contains(m.get("model").asText());
        }
        assertThat(html).contains("CIDEr-D").contains("data:image/png;base64,").doesNotContain("src=\"file:");
        assertThat(Files.readString(out.resolve("compare.json"))).contains("\"captioners\"");
        assertThat(run.out().toLowerCase(Locale.ROOT)).contains("\"models\"");
    }
}
