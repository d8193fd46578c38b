package org.blipjava.tasks;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.blipjava.checkpoint.SafetensorsFile;
import org.blipjava.testing.FixtureInputs;
import org.blipjava.tokenizer.Batch;
import org.blipjava.tokenizer.Padding;
import org.blipjava.testing.Fixtures;
import org.blipjava.testing.Fixtures.FixtureSet;
import org.junit.jupiter.api.Test;

/**
 * CLIP and FLAVA through the family-independent API ({@link ImageTextModel#load}): embeddings,
 * cosines, logit scale, ITM probabilities and zero-shot probabilities against the reference,
 * from the fixture's own pixel values (image decoding is checked elsewhere) and the fixture's
 * texts through the models' own tokenizers.
 */
class ImageTextModelParityTest {
    private static final double TOL = 1e-4;

    @Test
    void clipModelsThroughTheApi() throws Exception {
        for (FixtureSet set : Fixtures.sets(Fixtures.Kind.CLIP)) {
            JsonNode clip = set.expected().get("clip");
            List<String> images = FixtureInputs.strings(clip.get("images"));
            List<String> texts = FixtureInputs.strings(clip.get("texts"));
            try (SafetensorsFile f = set.openTensors()) {
                for (var it = clip.get("models").fieldNames(); it.hasNext(); ) {
                    String name = it.next();
                    String key = "clip/" + name + "/";
                    try (ImageTextModel m = ImageTextModel.load(set.model(name), LoadOptions.defaults().withThreads(2))) {
                        assertThat(m).isInstanceOf(Clip.class);
                        assertThat(m.family()).isEqualTo(ModelFamily.CLIP);
                        assertThat(m.hasMatchHead()).isFalse();
                        PixelValues px = clipPixels(set, f, (Clip) m, images);
                        float[][] im = m.embedImages(px);
                        // The reference tokenized to a fixed width: so do we, and check the ids on the way.
                        Clip c = (Clip) m;
                        Batch b = c.tokenizer().encodeBatch(texts, clip.get("input_ids").get(0).size(), Padding.MAX_LENGTH);
                        assertThat(b.inputIds()).as(name + " input_ids").isEqualTo(ints(clip.get("input_ids")));
                        float[][] tx = c.embedTexts(b);
                        assertRows(set + " " + name + " image_embeds", im, Fixtures.floats(f, key + "image_embeds"));
                        assertRows(set + " " + name + " text_embeds", tx, Fixtures.floats(f, key + "text_embeds"));
                        assertThat(m.match(px, texts).hasItm()).isFalse();
                        MatchScores s = new MatchScores(null, ImageTextModel.cosines(im, tx));
                        float[][] logits = scaled(s.itc(), m.logitScale());
                        assertRows(set + " " + name + " logits_per_image", logits, Fixtures.floats(f, key + "logits_per_image"));
                        checkZeroShot(set + " " + name, m, px, texts, Fixtures.floats(f, key + "logits_per_image"));
                        checkTop1(set + " " + name, s.itc(), clip.get("models").get(name).get("top1_image_to_text"));
                    }
                }
            }
        }
    }

    @Test
    void flavaModelsThroughTheApi() throws Exception {
        for (FixtureSet set : Fixtures.sets(Fixtures.Kind.FLAVA)) {
            JsonNode flava = set.expected().get("flava");
            List<String> images = FixtureInputs.strings(flava.get("images"));
            List<String> texts = FixtureInputs.strings(flava.get("texts"));
            List<Path> models = modelsOfType(set, "flava");
            assertThat(models).as("%s: FLAVA model folders", set).isNotEmpty();
            try (SafetensorsFile f = set.openTensors()) {
                for (Path dir : models) {
                    try (ImageTextModel m = ImageTextModel.load(dir, LoadOptions.defaults().withThreads(2))) {
                        String what = set + " " + dir.getFileName();
                        assertThat(m).isInstanceOf(Flava.class);
                        boolean pretraining = m.architecture().equals("FlavaForPreTraining");
                        assertThat(m.hasMatchHead()).as(what + " has an ITM head").isEqualTo(pretraining);
                        int size = ((Flava) m).imageProcessor().height();
                        PixelValues px = pixels(f, "flava/pixel_values/" + size + "/", images, size, size);
                        assertRows(what + " image_features", m.embedImages(px), Fixtures.floats(f, "flava/image_features"));
                        // The reference tokenized to a fixed width (truncating longer texts): so do we here.
                        Flava fl = (Flava) m;
                        int width = flava.get("input_ids").get(0).size();
                        Batch b = fl.tokenizer().encodeBatch(texts, width, Padding.MAX_LENGTH);
                        assertThat(b.inputIds()).as(what + " input_ids").isEqualTo(ints(flava.get("input_ids")));
                        assertRows(what + " text_features", fl.embedTexts(b), Fixtures.floats(f, "flava/text_features"));
                        MatchScores s = fl.match(px, b);
                        assertRows(what + " cosine", s.itc(), Fixtures.floats(f, "flava/cosine"));
                        assertRows(what + " logits_per_image", scaled(s.itc(), m.logitScale()),
                                Fixtures.floats(f, "flava/logits_per_image"));
                        if (pretraining) {
                            assertRows(what + " itm_prob_match", s.itm(), Fixtures.floats(f, "flava/itm_prob_match"));
                        } else {
                            assertThat(s.hasItm()).isFalse();
                        }
                    }
                }
            }
        }
    }

    /** Zero-shot probabilities with the texts as labels and the bare-label template: softmax of each logits row. */
    private static void checkZeroShot(String what, ImageTextModel m, PixelValues px, List<String> texts, float[] logits) {
        if (texts.stream().distinct().count() != texts.size() || texts.stream().anyMatch(String::isBlank)) {
            return; // labels must be distinct and non-blank
        }
        ZeroShotClassifier c = new ZeroShotClassifier(m, texts, List.of(ZeroShotClassifier.PLACEHOLDER));
        List<List<ZeroShotClassifier.Prediction>> preds = c.classify(px, texts.size());
        int nt = texts.size();
        for (int i = 0; i < preds.size(); i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int t = 0; t < nt; t++) {
                max = Math.max(max, logits[i * nt + t]);
            }
            double sum = 0;
            for (int t = 0; t < nt; t++) {
                sum += Math.exp(logits[i * nt + t] - max);
            }
            for (ZeroShotClassifier.Prediction p : preds.get(i)) {
                int t = texts.indexOf(p.label());
                double expected = Math.exp(logits[i * nt + t] - max) / sum;
                assertThat(p.probability()).as("%s zero-shot p(image %d, %s)", what, i, p.label())
                        .isCloseTo(expected, org.assertj.core.api.Assertions.within(TOL));
            }
        }
    }

    private static void checkTop1(String what, float[][] itc, JsonNode expected) {
        if (expected == null) {
            return;
        }
        for (int i = 0; i < itc.length; i++) {
            int best = 0;
            for (int t = 1; t < itc[i].length; t++) {
                if (itc[i][t] > itc[i][best]) {
                    best = t;
                }
            }
            assertThat(best).as("%s top-1 text of image %d", what, i).isEqualTo(expected.get(i).asInt());
        }
    }

    /** The fixture's CLIP pixel values at the model's crop size, as a batch. */
    private static PixelValues clipPixels(FixtureSet set, SafetensorsFile f, Clip m, List<String> images) {
        int h = m.imageProcessor().height();
        int w = m.imageProcessor().width();
        for (JsonNode s : set.expected().get("clip_pixel_sizes")) {
            if (s.get("crop").asInt() == h) {
                return pixels(f, "clip/pixel_values/" + s.get("shortest_edge").asInt() + "x" + h + "/", images, h, w);
            }
        }
        throw new AssertionError(set + ": no clip_pixel_sizes entry with crop " + h);
    }

    private static PixelValues pixels(SafetensorsFile f, String prefix, List<String> images, int h, int w) {
        float[] out = new float[images.size() * 3 * h * w];
        for (int i = 0; i < images.size(); i++) {
            float[] one = Fixtures.floats(f, prefix + images.get(i));
            System.arraycopy(one, 0, out, i * one.length, one.length);
        }
        return new PixelValues(out, images.size(), h, w);
    }

    static List<Path> modelsOfType(FixtureSet set, String modelType) throws Exception {
        List<Path> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(set.dir().resolve("models"))) {
            for (Path p : s.sorted().toList()) {
                if (Files.isRegularFile(p.resolve("config.json"))
                        && ModelFamily.of(p).modelType().equals(modelType)) {
                    out.add(p);
                }
            }
        }
        return out;
    }

    private static int[][] ints(JsonNode rows) {
        int[][] out = new int[rows.size()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = new int[rows.get(i).size()];
            for (int j = 0; j < out[i].length; j++) {
                out[i][j] = rows.get(i).get(j).asInt();
            }
        }
        return out;
    }

    private static float[][] scaled(float[][] cos, double scale) {
        float[][] out = new float[cos.length][];
        for (int i = 0; i < cos.length; i++) {
            out[i] = new float[cos[i].length];
            for (int t = 0; t < cos[i].length; t++) {
                out[i][t] = (float) (cos[i][t] * scale);
            }
        }
        return out;
    }

    private static void assertRows(String what, float[][] actual, float[] expected) {
        int n = 0;
        for (float[] row : actual) {
            n += row.length;
        }
        assertThat(n).as("%s size", what).isEqualTo(expected.length);
        int k = 0;
        for (int i = 0; i < actual.length; i++) {
            for (int j = 0; j < actual[i].length; j++, k++) {
                double e = expected[k];
                double tol = TOL * Math.max(1, Math.abs(e));
                assertThat((double) actual[i][j]).as("%s [%d][%d]", what, i, j).isCloseTo(e,
                        org.assertj.core.api.Assertions.within(tol));
            }
        }
    }
}
