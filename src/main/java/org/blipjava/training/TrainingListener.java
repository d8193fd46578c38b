package org.blipjava.training;

import java.nio.file.Path;

/**
 * What a {@link Trainer} reports while it runs; every method does nothing by default. Called on
 * the training thread; an exception thrown here ends the run (the last checkpoint stays usable).
 */
public interface TrainingListener {
    /**
     * The run starts (or resumes).
     *
     * @param startStep  the first optimizer step to run (0, or the resumed checkpoint's step)
     * @param totalSteps optimizer steps of the whole schedule
     */
    default void onStart(int startStep, int totalSteps) {}

    /** An optimizer step finished. */
    default void onStep(StepEvent event) {}

    /** A validation finished. */
    default void onValidation(ValidationResult result) {}

    /** A resumable checkpoint was written (complete, renamed into place). */
    default void onCheckpoint(int step, Path dir) {}

    /**
     * Resuming passed over a damaged checkpoint, newer than the one the run resumes from (before
     * {@link #onStart}). The run replaces it when it gets to its step.
     *
     * @param checkpoint the damaged checkpoint directory
     * @param reason     what is wrong with it, naming the file
     */
    default void onCheckpointSkipped(Path checkpoint, String reason) {}

    /** An image could not be read; its examples are skipped. Reported once per image. */
    default void onImageFailed(Path image, String error) {}

    /**
     * One optimizer step.
     *
     * @param step              steps done, this one included
     * @param totalSteps        steps of the schedule
     * @param epoch             0-based pass over the data the step's last example came from
     * @param loss              mean LM loss of the step's batches
     * @param lr                the learning rate the step used
     * @param gradNorm          global gradient norm before clipping
     * @param examplesPerSecond training speed of this step
     */
    record StepEvent(int step, int totalSteps, int epoch, double loss, double lr, double gradNorm,
                     double examplesPerSecond) {}
}
