package org.blipjava.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.blipjava.testing.FixtureInputs.itmTexts;

import java.awt.Dimension;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.blipjava.generation.GenerationConfig;
import org.blipjava.image.RgbImage;
import org.blipjava.tasks.Blip;
import org.blipjava.tasks.LoadOptions;
import org.blipjava.tasks.MatchScores;
import org.blipjava.tasks.TaskException;
import org.blipjava.testing.FixtureInputs;
import org.blipjava.testing.Fixtures;
import org.blipjava.testing.Fixtures.FixtureSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The explanation pictures on the fixture's tiny models, and t-SNE on data with known structure. */
class ExplainTest {
    static Stream<FixtureSet> sets() {
        return Fixtures.parameters(Fixtures.Kind.BLIP);
    }

    static List<RgbImage> images(FixtureSet set, int n) {
        return FixtureInputs.targetImages(set, n).stream().map(name -> Blip.readImage(set.image(name))).toList();
    }

    @ParameterizedTest
    @MethodSource("sets")
    void heatmapCellsShowTheMatchScores(FixtureSet set) throws Exception {
        List<RgbImage> imgs = images(set, 3);
        List<String> texts = itmTexts(set);
        List<String> labels = new ArrayList<>();
        for (int i = 0; i < imgs.size(); i++) {
            labels.add("image " + i);
        }
        try (Blip blip = Blip.load(set.model("tiny-itm"), LoadOptions.defaults())) {
            MatchScores m = blip.match(imgs, texts);
            assertThat(Explain.scores(blip, imgs, texts, Explain.Score.ITM)).isDeepEqualTo(m.itm());
            assertThat(Explain.scores(blip, imgs, texts, Explain.Score.ITC)).isDeepEqualTo(m.itc());
            BufferedImage pic = Explain.similarityHeatmap(blip, imgs, labels, texts, Explain.Score.ITM);
            Dimension d = SimilarityHeatmap.size(imgs.size(), texts.size());
            BufferedImage back = PngChecks.decodeAndCheck(ReportFiles.png(pic), d.width, d.height);
            float min = Float.MAX_VALUE;
            float max = -Float.MAX_VALUE;
            for (float[] row : m.itm()) {
                for (float v : row) {
                    min = Math.min(min, v);
                    max = Math.max(max, v);
                }
            }
            // A cell's corner (away from its printed value) has the colour of its scaled score.
            for (int r = 0; r < imgs.size(); r++) {
                for (int c = 0; c < texts.size(); c++) {
                    int x = SimilarityHeatmap.LEFT + c * SimilarityHeatmap.CELL + 3;
                    int y = SimilarityHeatmap.TOP + r * SimilarityHeatmap.CELL + 3;
                    double t = max > min ? (m.itm()[r][c] - min) / (max - min) : 0;
                    assertThat(back.getRGB(x, y) & 0xffffff).isEqualTo(Drawing.viridis(t));
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("sets")
    void embeddingMapOfImagesAndTexts(FixtureSet set) throws Exception {
        List<RgbImage> imgs = images(set, 4);
        List<String> texts = itmTexts(set);
        List<String> labels = new ArrayList<>();
        List<String> cats = new ArrayList<>();
        for (int i = 0; i < imgs.size(); i++) {
            labels.add("image " + i);
            cats.add(i % 2 == 0 ? "even" : "odd");
        }
        try (Blip blip = Blip.load(set.model("tiny-itm"), LoadOptions.defaults())) {
            BufferedImage pic = Explain.embeddingMap(blip, imgs, labels, cats, texts, null, 500,
                    new Tsne.Options(5, 300, 1));
            PngChecks.decodeAndCheck(ReportFiles.png(pic), 500, 500);
        }
    }

    @ParameterizedTest
    @MethodSource("sets")
    void captionAttentionHasOneMapPerWordOverThePatchGrid(FixtureSet set) throws Exception {
        RgbImage image = images(set, 1).get(0);
        try (Blip blip = Blip.load(set.model("tiny-caption"), LoadOptions.defaults())) {
            GenerationConfig g = blip.generationDefaults().toBuilder().maxLength(10).build();
            Explain.CaptionAttention a = Explain.captionAttention(blip, image, null, g, null);
            assertThat(a.caption().text()).isEqualTo(blip.caption(List.of(image), null, g).get(0).text());
            int patch = blip.config().vision().patchSize();
            int size = blip.pixels(List.of(image)).height();
            assertThat(a.gridH()).isEqualTo(size / patch);
            assertThat(a.layer()).isEqualTo(blip.config().text().numHiddenLayers() - 1);
            assertThat(a.words()).isNotEmpty().hasSameSizeAs(a.maps());
            StringBuilder pieces = new StringBuilder();
            for (int id : a.caption().tokenIds()) {
                if (!blip.tokenizer().isSpecialTokenId(id)) {
                    pieces.append(blip.tokenizer().idToToken(id).replace("##", ""));
                }
            }
            assertThat(String.join("", a.words())).isEqualTo(pieces.toString());
            for (float[] m : a.maps()) {
                assertThat(m).hasSize(a.gridH() * a.gridW());
                double sum = 0;
                for (float v : m) {
                    assertThat(v).isBetween(0f, 1f);
                    sum += v;
                }
                // The patches share what the CLS position does not take.
                assertThat(sum).isBetween(0.0, 1.0 + 1e-5);
            }
            // Every row of every head is a probability distribution over the image positions.
            int[] ids = a.caption().tokenIds();
            float[] p = blip.captionCrossAttention(image, ids, 0);
            int heads = blip.config().text().numAttentionHeads();
            int positions = p.length / (heads * ids.length);
            assertThat(positions).isEqualTo(a.gridH() * a.gridW() + 1);
            for (int r = 0; r < heads * ids.length; r++) {
                double s = 0;
                for (int j = 0; j < positions; j++) {
                    s += p[r * positions + j];
                }
                assertThat(s).isCloseTo(1.0, within(1e-5));
            }
            assertThatThrownBy(() -> blip.captionCrossAttention(image, ids, 99)).isInstanceOf(TaskException.class)
                    .hasMessageContaining("layer 99");
            BufferedImage pic = Explain.captionAttentionPicture(image, a, 96);
            Dimension d = AttentionOverlay.size(a.words().size(), 96);
            PngChecks.decodeAndCheck(ReportFiles.png(pic), d.width, d.height);
        }
    }

    @ParameterizedTest
    @MethodSource("sets")
    void itmGradCamMapsPerWordAndTheirMean(FixtureSet set) throws Exception {
        RgbImage image = images(set, 1).get(0);
        String text = itmTexts(set).get(0);
        try (Blip blip = Blip.load(set.model("tiny-itm"), LoadOptions.defaults())) {
            Explain.GradCam g = Explain.itmGradCam(blip, image, text, null);
            int layers = blip.config().text().numHiddenLayers();
            assertThat(g.layer()).isEqualTo((2 * layers) / 3);
            assertThat(g.matchProbability()).isEqualTo(blip.match(List.of(image), List.of(text)).itm(0, 0));
            assertThat(g.words().get(0)).isEqualTo("all words");
            assertThat(String.join("", g.words().subList(1, g.words().size())))
                    .isEqualTo(String.join("", blip.tokenizer().tokenize(text)).replace("##", ""));
            int[] ids = blip.tokenizer().encode(text);
            float[] cam = blip.itmGradCam(image, text, g.layer());
            int positions = cam.length / ids.length;
            assertThat(positions).isEqualTo(g.gridH() * g.gridW() + 1);
            // The first map is the mean over the text's (non-special) tokens of the raw map.
            float[] mean = g.maps().get(0);
            for (int j = 0; j < mean.length; j++) {
                double s = 0;
                for (int t = 1; t < ids.length - 1; t++) {
                    s += cam[t * positions + 1 + j];
                }
                assertThat((double) mean[j]).isCloseTo(s / (ids.length - 2), within(1e-6));
            }
            for (float[] m : g.maps()) {
                for (float v : m) {
                    assertThat(v).isGreaterThanOrEqualTo(0f);
                }
            }
            BufferedImage pic = Explain.gradCamPicture(image, g, 80);
            Dimension d = AttentionOverlay.size(g.words().size(), 80);
            PngChecks.decodeAndCheck(ReportFiles.png(pic), d.width, d.height);
        }
        try (Blip caption = Blip.load(set.model("tiny-caption"), LoadOptions.defaults())) {
            assertThatThrownBy(() -> Explain.itmGradCam(caption, image, text, null)).isInstanceOf(TaskException.class)
                    .hasMessageContaining("BlipForImageTextRetrieval");
        }
    }

    @Test
    void tsneKeepsSeparatedClustersApart() {
        Random rnd = new Random(3);
        float[][] x = new float[30][8];
        for (int i = 0; i < x.length; i++) {
            for (int k = 0; k < 8; k++) {
                x[i][k] = (float) (rnd.nextGaussian() * 0.1 + (i < 15 ? 0 : 5) * (k == 0 ? 1 : 0));
            }
        }
        double[][] y = Tsne.embed(x, new Tsne.Options(5, 500, 7));
        double within = 0;
        double between = 0;
        int nw = 0;
        int nb = 0;
        for (int i = 0; i < y.length; i++) {
            for (int j = i + 1; j < y.length; j++) {
                double d = Math.hypot(y[i][0] - y[j][0], y[i][1] - y[j][1]);
                if ((i < 15) == (j < 15)) {
                    within += d;
                    nw++;
                } else {
                    between += d;
                    nb++;
                }
            }
        }
        assertThat(between / nb).isGreaterThan(2 * within / nw);
        assertThat(Tsne.embed(x, new Tsne.Options(5, 500, 7))).isDeepEqualTo(y);
    }

    @Test
    void overlayAndHeatmapRejectMismatchedInputs() {
        BufferedImage img = new BufferedImage(10, 10, BufferedImage.TYPE_INT_RGB);
        assertThatThrownBy(() -> AttentionOverlay.render(img, "c", List.of("a"), List.of(), 2, 2, 64))
                .hasMessageContaining("0 maps but 1 labels");
        assertThatThrownBy(() -> SimilarityHeatmap.render(new float[][] {{1f}}, List.of("a", "b"), List.of("t"), "x"))
                .hasMessageContaining("2 image labels");
    }
}
