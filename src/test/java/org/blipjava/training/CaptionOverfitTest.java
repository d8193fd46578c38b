package org.blipjava.training;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.blipjava.config.BlipConfig;
import org.blipjava.image.Images;
import org.blipjava.image.RgbImage;
import org.blipjava.tensor.Parallel;
import org.blipjava.testing.TinyTestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pieces together: backward, clipping, AdamW and the schedule fit one batch of rendered shapes
 * with a freshly initialised tiny captioner, so the LM loss falls far below its start.
 */
class CaptionOverfitTest {
    /** The loss after 40 steps must be below this fraction of the first step's. */
    private static final double LOSS_FRACTION = 0.25;

    @Test
    void aFewAdamWStepsOverfitOneBatch(@TempDir Path tmp) throws Exception {
        Path dir = TinyTestModels.write(tmp, TinyModels.Head.CAPTION);
        CaptionData data = CaptionData.read(ShapesData.write(tmp.resolve("data"), "batch", 4, 64, 11), null, null);
        int n = data.size();
        int steps = 40;
        try (Parallel parallel = new Parallel(2)) {
            // The trainer's own tokenizer, processor and config, without augmentation: one fixed batch.
            Trainer trainer = new Trainer(dir, TrainingSettings.defaults(), parallel);
            BlipConfig cfg = trainer.config();
            List<RgbImage> images = new ArrayList<>();
            List<String> captions = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                images.add(Images.read(data.image(i)));
                captions.add(data.caption(i));
            }
            float[] px = trainer.imageProcessor().preprocessBatch(images);
            CaptionTexts t = CaptionTexts.encode(captions, trainer.tokenizer(), "a picture of ", 40,
                    cfg.text().bosTokenId());
            Parameters params = Parameters.load(dir);
            CaptioningObjective objective = new CaptioningObjective(params, cfg);
            AdamW opt = new AdamW(params, AdamW.Settings.withWeightDecay(0.05), p -> true);
            WarmupCosineSchedule schedule = new WarmupCosineSchedule(1e-2, 1e-4, 5, steps);
            double first = Double.NaN;
            double last = Double.NaN;
            for (int s = 0; s < steps; s++) {
                params.zeroGrad();
                Tape tape = new Tape(parallel);
                Tensor loss = objective.loss(tape, px, n, t.ids(), t.mask(), t.labels(), 0.0);
                tape.backward(loss);
                GradientClipping.clipByGlobalNorm(params, 5.0);
                opt.step(schedule.lr(s));
                if (s == 0) {
                    first = loss.item();
                }
                last = loss.item();
            }
            assertThat(last).as("loss after %d steps (started at %s)", steps, first).isLessThan(first * LOSS_FRACTION);
        }
    }
}
