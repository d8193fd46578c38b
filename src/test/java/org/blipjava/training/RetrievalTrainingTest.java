package org.blipjava.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.blipjava.image.Images;
import org.blipjava.tensor.Parallel;
import org.blipjava.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Retrieval fine-tuning (momentum ITC with a queue, ITM with hard negatives) of the fixture's
 * tiny ITM model on rendered shapes.
 */
class RetrievalTrainingTest {
    /** Text-to-image recall@1 on held-out shapes must rise by at least this much. */
    private static final double RECALL_GAIN = 0.2;

    private static Path tinyItm() {
        return Fixtures.sets().getFirst().model("tiny-itm");
    }

    private static RetrievalSettings quick() {
        // A short run needs momentum encoders that follow faster than BLIP's 0.995.
        return new RetrievalSettings(0.07, 0.9, 0.4, 32);
    }

    @Test
    void trainingRaisesHeldOutRecall(@TempDir Path tmp) throws Exception {
        CaptionData train = CaptionData.read(ShapesData.write(tmp.resolve("data"), "train", 48, 64, 1), null, null);
        CaptionData val = CaptionData.read(ShapesData.write(tmp.resolve("data"), "val", ShapesData.kinds(), 64, 2),
                null, null);
        // 96 captions, batch 8, 6 epochs: 72 steps.
        TrainingSettings s = TrainingSettings.defaults().withEpochs(6).withBatch(8, 1)
                .withOptimizer(2e-3, 0, 0.05, 5, 1.0);
        try (Parallel parallel = new Parallel(2)) {
            Trainer trainer = new Trainer(tinyItm(), s, parallel);
            RetrievalTask probe = new RetrievalTask(train, val, quick(), trainer.config(), trainer.tokenizer(),
                    trainer.imageProcessor(), s, parallel);
            ValidationResult before = probe.validate(Parameters.load(tinyItm()), 0, Images::read);
            TrainingResult r = trainer.trainRetrieval(train, val, quick(), tmp.resolve("out"), false, null);
            ValidationResult after = r.validations().getLast();
            assertThat(after.metric(ValidationResult.T2I_R1))
                    .as("t2i R@1 before %s after %s; %s", before.metric(ValidationResult.T2I_R1),
                            after.metric(ValidationResult.T2I_R1), after.outputs())
                    .isGreaterThan(before.metric(ValidationResult.T2I_R1) + RECALL_GAIN);
            assertThat(after.loss()).isLessThan(before.loss());
            assertThat(r.lastCheckpoint().resolve(Trainer.TASK_STATE_FILE)).isRegularFile();
        }
    }

    @Test
    void aKilledRunResumesWithTheSameMomentumQueueAndLosses(@TempDir Path tmp) throws Exception {
        CaptionData train = CaptionData.read(ShapesData.write(tmp.resolve("data"), "train", 12, 64, 3), null, null);
        TrainingSettings s = TrainingSettings.defaults().withEpochs(2).withBatch(4, 1)
                .withOptimizer(2e-3, 0, 0.05, 1, 1.0).withIntervals(0, 3, 1);
        try (Parallel parallel = new Parallel(2)) {
            Trainer trainer = new Trainer(tinyItm(), s, parallel);
            TrainingResult full = trainer.trainRetrieval(train, null, quick(), tmp.resolve("full"), false, null);
            Path out = tmp.resolve("killed");
            assertThatThrownBy(() -> trainer.trainRetrieval(train, null, quick(), out, false, new TrainingListener() {
                @Override
                public void onStep(StepEvent e) {
                    if (e.step() == 5) {
                        throw new IllegalStateException("killed");
                    }
                }
            })).hasMessage("killed");
            TrainingResult resumed = trainer.trainRetrieval(train, null, quick(), out, true, null);
            assertThat(resumed.losses()).hasSize(12).isEqualTo(full.losses());
            Parameters a = Parameters.load(full.finalModel());
            Parameters b = Parameters.load(resumed.finalModel());
            for (String name : a.names()) {
                assertThat(b.get(name).value()).as(name).isEqualTo(a.get(name).value());
            }
            assertThat(Files.size(full.lastCheckpoint().resolve(Trainer.TASK_STATE_FILE)))
                    .isEqualTo(Files.size(resumed.lastCheckpoint().resolve(Trainer.TASK_STATE_FILE)));
        }
    }
}
