package org.blipjava.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.blipjava.checkpoint.SafetensorsFile;
import org.blipjava.image.Images;
import org.blipjava.image.RgbImage;
import org.blipjava.tensor.Parallel;
import org.blipjava.testing.TinyTestModels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Retrieval fine-tuning (momentum ITC with a queue, ITM with hard negatives) of the fixture's
 * tiny ITM model on rendered shapes.
 */
class RetrievalTrainingTest {
    /**
     * Text-to-image recall@1 on held-out shapes (12 images) must rise by more than this: two more
     * images found first. Seeds 0-2 of the tiny test model rise by 0.25-0.33 in the run below.
     */
    private static final double RECALL_GAIN = 0.15;

    @TempDir
    static Path models;
    private static Path tinyItm;

    @BeforeAll
    static void writeModel() throws Exception {
        // A model of our own, so the outcome does not depend on which fixture set is installed.
        tinyItm = TinyTestModels.write(models, TinyModels.Head.ITM);
    }

    private static Path tinyItm() {
        return tinyItm;
    }

    private static RetrievalSettings quick() {
        // A short run needs momentum encoders that follow faster than BLIP's 0.995.
        return new RetrievalSettings(0.07, true, 0.9, 0.4, 32);
    }

    private static float temperatureOf(Path taskState) throws Exception {
        try (SafetensorsFile f = SafetensorsFile.open(taskState)) {
            return f.tensors().get(RetrievalTask.TEMPERATURE_KEY).toFloatArray()[0];
        }
    }

    private static Set<String> keys(Path weights) throws Exception {
        try (SafetensorsFile f = SafetensorsFile.open(weights)) {
            return new TreeSet<>(f.tensors().keySet());
        }
    }

    @Test
    void trainingRaisesHeldOutRecall(@TempDir Path tmp) throws Exception {
        CaptionData train = CaptionData.read(ShapesData.write(tmp.resolve("data"), "train", 48, 64, 1), null, null);
        CaptionData val = CaptionData.read(ShapesData.write(tmp.resolve("data"), "val", ShapesData.kinds(), 64, 2),
                null, null);
        // 96 captions, batch 8, 12 epochs: 144 steps.
        TrainingSettings s = TrainingSettings.defaults().withEpochs(12).withBatch(8, 1)
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
            // The learned temperature and its AdamW moments come back with the checkpoint.
            double temp = full.taskValues().get(TrainingResult.ITC_TEMPERATURE);
            assertThat(temp).isNotEqualTo((double) 0.07f);
            assertThat(resumed.taskValues()).isEqualTo(full.taskValues());
            assertThat(temperatureOf(resumed.lastCheckpoint().resolve(Trainer.TASK_STATE_FILE))).isEqualTo((float) temp);
            assertThat(keys(resumed.lastCheckpoint().resolve(Trainer.OPTIMIZER_FILE)))
                    .contains("exp_avg.temp", "exp_avg_sq.temp");
            Parameters a = Parameters.load(full.finalModel());
            Parameters b = Parameters.load(resumed.finalModel());
            for (String name : a.names()) {
                assertThat(b.get(name).value()).as(name).isEqualTo(a.get(name).value());
            }
            assertThat(Files.size(full.lastCheckpoint().resolve(Trainer.TASK_STATE_FILE)))
                    .isEqualTo(Files.size(resumed.lastCheckpoint().resolve(Trainer.TASK_STATE_FILE)));

            // Without its task state (momentum encoders, queue, temperature) a retrieval checkpoint is
            // damaged: resuming would silently start those afresh.
            Path taskState = resumed.lastCheckpoint().resolve(Trainer.TASK_STATE_FILE);
            Files.delete(taskState);
            assertThatThrownBy(() -> trainer.trainRetrieval(train, null, quick(), out, true, null))
                    .hasMessageContaining(taskState + " is missing");
        }
    }

    /** Four examples of distinct images of {@code data}, and their pixels as the trainer preprocesses them. */
    private record Pairs(int[] examples, float[] pixels) {
        static Pairs of(CaptionData data, Trainer trainer, int n) {
            List<Integer> chosen = new ArrayList<>();
            Set<Integer> images = new TreeSet<>();
            for (int i = 0; i < data.size() && chosen.size() < n; i++) {
                if (images.add(data.imageId(i))) {
                    chosen.add(i);
                }
            }
            List<RgbImage> rgb = chosen.stream().map(i -> Images.read(data.image(i))).toList();
            return new Pairs(chosen.stream().mapToInt(Integer::intValue).toArray(),
                    trainer.imageProcessor().preprocessBatch(rgb));
        }
    }

    /**
     * A fresh task (empty queue, momentum = weights) with the temperature at {@code temp}. Alpha 0:
     * the soft targets use the temperature too but carry no gradient (BLIP computes them under
     * no_grad), so a finite difference only matches the tape with ground-truth targets.
     */
    private static RetrievalTask taskAt(CaptionData data, Trainer trainer, Parallel parallel, float temp) {
        RetrievalSettings hardTargets = new RetrievalSettings(0.07, true, 0.9, 0.0, 32);
        RetrievalTask task = new RetrievalTask(data, null, hardTargets, trainer.config(), trainer.tokenizer(),
                trainer.imageProcessor(), trainer.settings(), parallel);
        task.temperatureParameter().value()[0] = temp;
        return task;
    }

    @Test
    void theLossGradientForTheTemperatureMatchesFiniteDifferences(@TempDir Path tmp) throws Exception {
        CaptionData train = CaptionData.read(ShapesData.write(tmp.resolve("data"), "train", 8, 64, 5), null, null);
        TrainingSettings s = TrainingSettings.defaults().withBatch(4, 1).withAugment(false);
        try (Parallel parallel = new Parallel(2)) {
            Trainer trainer = new Trainer(tinyItm(), s, parallel);
            Parameters params = Parameters.load(tinyItm());
            Pairs batch = Pairs.of(train, trainer, 4);
            float t0 = 0.07f;
            RetrievalTask task = taskAt(train, trainer, parallel, t0);
            Tape tape = new Tape(parallel);
            Tensor loss = task.objective(params).loss(tape, batch.pixels(), batch.examples());
            tape.backward(loss);
            double analytic = task.temperatureParameter().grad()[0];

            float up = t0 + 1e-3f;
            float down = t0 - 1e-3f;
            double lossUp = taskAt(train, trainer, parallel, up).objective(params)
                    .loss(new Tape(parallel), batch.pixels(), batch.examples()).item();
            double lossDown = taskAt(train, trainer, parallel, down).objective(params)
                    .loss(new Tape(parallel), batch.pixels(), batch.examples()).item();
            double numeric = (lossUp - lossDown) / ((double) up - down);
            assertThat(analytic).as("dL/dtemp analytic %s vs numeric %s", analytic, numeric).isNotZero();
            assertThat(Math.abs(analytic - numeric)).as("dL/dtemp analytic %s vs numeric %s", analytic, numeric)
                    .isLessThanOrEqualTo(0.02 * Math.abs(numeric));
        }
    }

    @Test
    void afterEachStepTheLearnedTemperatureIsClamped(@TempDir Path tmp) throws Exception {
        CaptionData train = CaptionData.read(ShapesData.write(tmp.resolve("data"), "train", 4, 64, 4), null, null);
        try (Parallel parallel = new Parallel(1)) {
            Trainer trainer = new Trainer(tinyItm(), TrainingSettings.defaults(), parallel);
            RetrievalTask task = taskAt(train, trainer, parallel, 0.9f);
            assertThat(task.ownParameters()).containsExactly(task.temperatureParameter());
            task.afterStep();
            assertThat(task.currentTemperature()).isEqualTo((double) (float) RetrievalSettings.MAX_TEMPERATURE);
            task.temperatureParameter().value()[0] = 1e-5f;
            task.afterStep();
            assertThat(task.currentTemperature()).isEqualTo((double) (float) RetrievalSettings.MIN_TEMPERATURE);
            RetrievalTask fixed = new RetrievalTask(train, null, quick().withTemperature(0.9, false), trainer.config(),
                    trainer.tokenizer(), trainer.imageProcessor(), trainer.settings(), parallel);
            fixed.afterStep();
            assertThat(fixed.ownParameters()).isEmpty();
            assertThat(fixed.currentTemperature()).isEqualTo(0.9);
        }
    }

    @Test
    void theLearnedTemperatureStaysWithinBlipsClamp(@TempDir Path tmp) throws Exception {
        CaptionData train = CaptionData.read(ShapesData.write(tmp.resolve("data"), "train", 8, 64, 6), null, null);
        CaptionData val = CaptionData.read(ShapesData.write(tmp.resolve("data"), "val", 4, 64, 7), null, null);
        // A learning rate this large moves the temperature by about 1 on the first step (AdamW's
        // step is about lr), so from 0.0011 it lands on one end of the clamp whichever way it goes.
        TrainingSettings s = TrainingSettings.defaults().withEpochs(3).withBatch(4, 1).withAugment(false)
                .withOptimizer(1.0, 1.0, 0.05, 0, 0).withIntervals(1, 0, 1);
        RetrievalSettings low = quick().withTemperature(0.0011, true);
        try (Parallel parallel = new Parallel(2)) {
            TrainingResult r = new Trainer(tinyItm(), s, parallel).trainRetrieval(train, val, low, tmp.resolve("out"),
                    false, null);
            List<Double> temps = r.validations().stream().map(v -> v.metric(TrainingResult.ITC_TEMPERATURE)).toList();
            assertThat(temps).hasSize(r.steps() + 1).first().isEqualTo((double) 0.0011f);
            assertThat(temps).allSatisfy(t -> assertThat(t).isBetween((double) (float) RetrievalSettings.MIN_TEMPERATURE,
                    (double) (float) RetrievalSettings.MAX_TEMPERATURE));
            assertThat(temps.get(1)).isIn((double) (float) RetrievalSettings.MIN_TEMPERATURE,
                    (double) (float) RetrievalSettings.MAX_TEMPERATURE);
            assertThat(r.taskValues().get(TrainingResult.ITC_TEMPERATURE)).isEqualTo(temps.getLast());
        }
    }

    @Test
    void aFixedTemperatureStaysAndNoRunWritesItIntoTheModel(@TempDir Path tmp) throws Exception {
        CaptionData train = CaptionData.read(ShapesData.write(tmp.resolve("data"), "train", 8, 64, 8), null, null);
        TrainingSettings s = TrainingSettings.defaults().withEpochs(1).withBatch(4, 1).withAugment(false)
                .withOptimizer(1e-2, 0, 0.05, 0, 1.0);
        Set<String> input = keys(tinyItm().resolve(Checkpointing.WEIGHTS_FILE));
        try (Parallel parallel = new Parallel(2)) {
            Trainer trainer = new Trainer(tinyItm(), s, parallel);
            TrainingResult fixed = trainer.trainRetrieval(train, null, quick().withTemperature(0.07, false),
                    tmp.resolve("fixed"), false, null);
            assertThat(fixed.taskValues()).containsEntry(TrainingResult.ITC_TEMPERATURE, 0.07);
            assertThat(keys(fixed.lastCheckpoint().resolve(Trainer.OPTIMIZER_FILE))).doesNotContain("exp_avg.temp");
            assertThat(Files.readString(fixed.finalModel().resolve(RetrievalTask.TEMPERATURE_FILE)))
                    .contains("\"temperature\": 0.07,", "\"learnable\": false");

            TrainingResult learned = trainer.trainRetrieval(train, null, quick(), tmp.resolve("learned"), false, null);
            double temp = learned.taskValues().get(TrainingResult.ITC_TEMPERATURE);
            assertThat(temp).isNotEqualTo((double) 0.07f);
            assertThat(Files.readString(learned.finalModel().resolve(RetrievalTask.TEMPERATURE_FILE)))
                    .contains("\"temperature\": " + (float) temp + ",", "\"learnable\": true");
            // The Hugging Face class has no temperature weight: the saved models have exactly the input's keys.
            for (TrainingResult r : List.of(fixed, learned)) {
                assertThat(keys(r.finalModel().resolve(Checkpointing.WEIGHTS_FILE))).isEqualTo(input);
                assertThat(keys(r.lastCheckpoint().resolve(Checkpointing.WEIGHTS_FILE))).isEqualTo(input);
            }
            assertThatThrownBy(() -> trainer.trainRetrieval(train, null, quick().withTemperature(0.07, false),
                    tmp.resolve("learned"), true, null)).hasMessageContaining("--fixed-temperature");
        }
    }
}
