package org.blipjava.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.blipjava.testing.FixtureInputs.config;
import static org.blipjava.testing.FixtureInputs.ints;
import static org.blipjava.model.ModelFixtures.load;
import static org.blipjava.testing.FixtureInputs.pixels;
import static org.blipjava.testing.FixtureInputs.strings;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.blipjava.checkpoint.SafetensorsFile;
import org.blipjava.config.BlipConfig;
import org.blipjava.tensor.Parallel;
import org.blipjava.testing.Fixtures;
import org.junit.jupiter.api.Test;

/**
 * The hand-written backward pass of ITM Grad-CAM: its forward gives the model's ITM logit, and
 * its gradient with respect to every layer's cross-attention probabilities matches central
 * finite differences of that logit.
 */
class ItmGradCamTest {
    @Test
    void gradientMatchesFiniteDifferences() throws Exception {
        try (Parallel parallel = new Parallel(1)) {
            check(parallel);
        }
    }

    private static void check(Parallel parallel) throws Exception {
        for (Fixtures.FixtureSet set : Fixtures.sets(Fixtures.Kind.BLIP)) {
            JsonNode itm = set.expected().get("itm");
            Path dir = set.model("tiny-itm");
            BlipConfig cfg = config(dir);
            BlipForImageTextRetrieval model = load(dir, sd -> BlipForImageTextRetrieval.load(sd, cfg, parallel));
            int size = cfg.vision().imageSize();
            float[] embeds;
            try (SafetensorsFile f = set.openTensors()) {
                embeds = model.vision(pixels(f, size, strings(itm.get("images")).subList(0, 1)), 1, size, size)
                        .lastHiddenState();
            }
            int[][] allIds = ints(itm.get("input_ids"));
            int[][] masks = ints(itm.get("attention_mask"));
            int len = (int) Arrays.stream(masks[0]).filter(v -> v == 1).count();
            int[] ids = Arrays.copyOf(allIds[0], len);
            int d = cfg.vision().hiddenSize();
            Conditioning image = Conditioning.unmasked(embeds, 1, embeds.length / d, d);
            float[] logits = model.itmLogits(embeds, 1, new int[][] {ids}, null);
            int layers = cfg.text().numHiddenLayers();
            for (int layer = 0; layer < layers; layer++) {
                ItmGradCam.Result r = model.gradCam().run(ids, image, layer, null);
                assertThat((double) r.logit()).as("logit").isCloseTo(logits[1], within(1e-4));
                float[] probs = r.probs();
                float maxGrad = 0;
                for (float g : r.grad()) {
                    maxGrad = Math.max(maxGrad, Math.abs(g));
                }
                assertThat(maxGrad).as("gradient is not all zero").isGreaterThan(0f);
                int step = Math.max(1, probs.length / 7);
                for (int i = step / 2; i < probs.length; i += step) {
                    double eps = 1e-2;
                    float[] plus = probs.clone();
                    plus[i] += (float) eps;
                    float[] minus = probs.clone();
                    minus[i] -= (float) eps;
                    double fd = (model.gradCam().run(ids, image, layer, plus).logit()
                            - model.gradCam().run(ids, image, layer, minus).logit()) / (2 * eps);
                    assertThat(r.grad()[i]).as("layer %d entry %d", layer, i)
                            .isCloseTo((float) fd, within((float) (1e-3 * maxGrad + 1e-4)));
                }
            }
            // The public map: [tokens, positions], non-negative, and zero where the gradient is negative.
            float[] cam = model.itmGradCam(embeds, ids, layers - 1);
            assertThat(cam).hasSize(len * (embeds.length / d));
            for (float v : cam) {
                assertThat(v).isGreaterThanOrEqualTo(0f);
            }
            assertThatThrownBy(() -> model.itmGradCam(embeds, ids, layers)).hasMessageContaining("layer " + layers);
        }
    }

    @Test
    void geluDerivative() {
        for (double x : List.of(-3.0, -0.5, 0.0, 0.7, 2.5)) {
            double h = 1e-5;
            double f1 = (x + h) * 0.5 * (1 + org.blipjava.tensor.Kernels.erf((x + h) / Math.sqrt(2)));
            double f0 = (x - h) * 0.5 * (1 + org.blipjava.tensor.Kernels.erf((x - h) / Math.sqrt(2)));
            assertThat(ItmGradCam.geluGrad(x)).isCloseTo((f1 - f0) / (2 * h), within(1e-6));
        }
    }
}
