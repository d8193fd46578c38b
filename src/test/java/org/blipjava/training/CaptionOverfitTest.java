package org.blipjava.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.blipjava.testing.FixtureInputs.config;
import static org.blipjava.testing.FixtureInputs.firstImages;
import static org.blipjava.testing.FixtureInputs.ints;
import static org.blipjava.training.GradientFixtures.params;
import static org.blipjava.testing.FixtureInputs.pixels;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import org.blipjava.checkpoint.SafetensorsFile;
import org.blipjava.config.BlipConfig;
import org.blipjava.tensor.Parallel;
import org.blipjava.testing.Fixtures;
import org.junit.jupiter.api.Test;

/**
 * The pieces together: backward, clipping, AdamW and the schedule fit the fixture's caption
 * batch, so the LM loss falls far below its start.
 */
class CaptionOverfitTest {
    @Test
    void aFewAdamWStepsOverfitOneBatch() {
        Fixtures.FixtureSet set = Fixtures.sets(Fixtures.Kind.BLIP).get(0);
        JsonNode ex = set.expected();
        Path dir = set.model("tiny-caption");
        BlipConfig cfg = config(dir);
        JsonNode tf = ex.at("/caption/teacher_forced");
        int[][] ids = ints(tf.get("input_ids"));
        int[][] mask = ints(tf.get("attention_mask"));
        int[][] labels = ints(tf.get("labels"));
        int n = ids.length;
        int steps = 40;
        try (SafetensorsFile f = set.openTensors(); Parallel parallel = new Parallel(2)) {
            float[] px = pixels(f, cfg.vision().imageSize(), firstImages(ex, n));
            Parameters params = params(dir);
            CaptioningObjective objective = new CaptioningObjective(params, cfg);
            AdamW opt = new AdamW(params, AdamW.Settings.withWeightDecay(0.05), p -> true);
            WarmupCosineSchedule schedule = new WarmupCosineSchedule(3e-3, 1e-4, 5, steps);
            double first = Double.NaN;
            double last = Double.NaN;
            for (int s = 0; s < steps; s++) {
                params.zeroGrad();
                Tape tape = new Tape(parallel);
                Tensor loss = objective.loss(tape, px, n, ids, mask, labels, 0.0);
                tape.backward(loss);
                GradientClipping.clipByGlobalNorm(params, 5.0);
                opt.step(schedule.lr(s));
                if (s == 0) {
                    first = loss.item();
                }
                last = loss.item();
            }
            assertThat(last).as("loss after %d steps (started at %s)", steps, first).isLessThan(first * 0.5);
        }
    }
}
