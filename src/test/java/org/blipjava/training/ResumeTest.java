package org.blipjava.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.blipjava.tensor.Parallel;
import org.blipjava.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Resuming from damaged checkpoints: the newest intact one is used and the damaged newer ones are
 * reported, every damage names its file, and a folder with no intact checkpoint is refused.
 */
class ResumeTest {
    private static Path tinyCaption() {
        return Fixtures.sets(Fixtures.Kind.BLIP).getFirst().model("tiny-caption");
    }

    /** 8 images with 2 captions each, batch 4, 1 epoch: 4 steps, a checkpoint after every step, the newest 2 kept. */
    private static TrainingSettings settings() {
        return TrainingSettings.defaults().withEpochs(1).withBatch(4, 1).withOptimizer(1e-3, 0, 0.05, 0, 1.0)
                .withAugment(false).withIntervals(0, 1, 2);
    }

    private static CaptionData data(Path tmp) throws IOException {
        return CaptionData.read(ShapesData.write(tmp.resolve("data"), "train", 8, 64, 11), null, null);
    }

    private static void truncate(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() / 2);
        }
    }

    private static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** Records the checkpoints a run passes over. */
    private static final class Skipped implements TrainingListener {
        final List<Path> dirs = new ArrayList<>();
        final List<String> reasons = new ArrayList<>();

        @Override
        public void onCheckpointSkipped(Path checkpoint, String reason) {
            dirs.add(checkpoint);
            reasons.add(reason);
        }
    }

    @Test
    void aTruncatedNewestCheckpointFallsBackToThePreviousOneAndResumesExactly(@TempDir Path tmp) throws Exception {
        CaptionData train = data(tmp);
        try (Parallel parallel = new Parallel(1)) {
            TrainingResult full = new Trainer(tinyCaption(), settings(), parallel)
                    .train(train, null, tmp.resolve("full"), false, null);
            assertThat(full.steps()).isEqualTo(4);

            Path out = tmp.resolve("run");
            new Trainer(tinyCaption(), settings().withStopAfterSteps(3), parallel).train(train, null, out, false, null);
            Path checkpoints = out.resolve(Trainer.CHECKPOINTS);
            assertThat(names(checkpoints)).containsExactly("step-00000002", "step-00000003");
            truncate(checkpoints.resolve("step-00000003").resolve(Checkpointing.WEIGHTS_FILE));
            assertThat(Trainer.latestCheckpoint(checkpoints).getFileName().toString()).isEqualTo("step-00000002");

            Skipped skipped = new Skipped();
            TrainingResult resumed = new Trainer(tinyCaption(), settings(), parallel)
                    .train(train, null, out, true, skipped);
            assertThat(skipped.dirs).containsExactly(checkpoints.resolve("step-00000003"));
            assertThat(skipped.reasons.getFirst())
                    .contains(checkpoints.resolve("step-00000003").resolve(Checkpointing.WEIGHTS_FILE).toString())
                    .contains("truncated");
            // Resumed from step 2: the same losses and the same final weights as the uninterrupted run.
            assertThat(resumed.losses()).isEqualTo(full.losses());
            Parameters a = Parameters.load(full.finalModel());
            Parameters b = Parameters.load(resumed.finalModel());
            for (String name : a.names()) {
                assertThat(b.get(name).value()).as(name).isEqualTo(a.get(name).value());
            }
            // The damaged checkpoint was replaced when the run got to its step.
            assertThat(Trainer.latestCheckpoint(checkpoints).getFileName().toString()).isEqualTo("step-00000004");
        }
    }

    @Test
    void everyKindOfDamageNamesItsFileAndNoIntactCheckpointIsRefused(@TempDir Path tmp) throws Exception {
        CaptionData train = data(tmp);
        Path out = tmp.resolve("run");
        try (Parallel parallel = new Parallel(1)) {
            new Trainer(tinyCaption(), settings().withStopAfterSteps(2), parallel).train(train, null, out, false, null);
            Path checkpoints = out.resolve(Trainer.CHECKPOINTS);
            Path state1 = checkpoints.resolve("step-00000001").resolve(Trainer.STATE_FILE);
            Path state2 = checkpoints.resolve("step-00000002").resolve(Trainer.STATE_FILE);
            Files.writeString(state2, "garbage{");
            Files.delete(checkpoints.resolve("step-00000001").resolve(Trainer.OPTIMIZER_FILE));
            Trainer trainer = new Trainer(tinyCaption(), settings(), parallel);
            assertThatThrownBy(() -> trainer.train(train, null, out, true, null))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("none of its 2 checkpoint(s) can be resumed from")
                    .hasMessageContaining(state2 + ": not valid JSON")
                    .hasMessageContaining(checkpoints.resolve("step-00000001").resolve(Trainer.OPTIMIZER_FILE)
                            + " is missing")
                    .hasMessageContaining("delete " + checkpoints);
            assertThat(Trainer.latestCheckpoint(checkpoints)).isNull();
            assertThatThrownBy(() -> Trainer.startingCheckpoint(out, true))
                    .hasMessageContaining("none of its 2 checkpoint(s)");

            // A state that parses but is not a whole one: still named, still refused.
            Files.writeString(state2, "{\"task\": \"BlipForConditionalGeneration\", \"step\": 2}");
            assertThatThrownBy(() -> Trainer.startingCheckpoint(out, true))
                    .hasMessageContaining(state2 + ": \"optimizer_steps\" is missing");
            Files.writeString(state2, Files.readString(state1));
            assertThatThrownBy(() -> Trainer.startingCheckpoint(out, true))
                    .hasMessageContaining(state2 + ": it is the state of step 1, not of step 2");
        }
    }

    @Test
    void pruningKeepsTheIntactCheckpointsAndLeavesDamagedNewerOnesToBeReplaced(@TempDir Path tmp) throws Exception {
        CaptionData train = data(tmp);
        Path out = tmp.resolve("run");
        // Checkpoints every 2 steps: step 2 and step 4 (the end) are kept.
        TrainingSettings everyTwo = settings().withIntervals(0, 2, 2);
        try (Parallel parallel = new Parallel(1)) {
            new Trainer(tinyCaption(), everyTwo, parallel).train(train, null, out, false, null);
            Path checkpoints = out.resolve(Trainer.CHECKPOINTS);
            assertThat(names(checkpoints)).containsExactly("step-00000002", "step-00000004");
            truncate(checkpoints.resolve("step-00000004").resolve(Trainer.OPTIMIZER_FILE));

            // Resumed from step 2 and stopped at step 3, before the damaged step 4.
            new Trainer(tinyCaption(), everyTwo.withStopAfterSteps(3), parallel).train(train, null, out, true, null);
            assertThat(names(checkpoints)).containsExactly("step-00000002", "step-00000003", "step-00000004");
            assertThat(Trainer.latestCheckpoint(checkpoints).getFileName().toString()).isEqualTo("step-00000003");
        }
    }
}
