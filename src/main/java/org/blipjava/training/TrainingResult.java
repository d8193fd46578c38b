package org.blipjava.training;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The outcome of {@link Trainer#train}.
 *
 * @param steps        optimizer steps done (over resumed runs too)
 * @param totalSteps   steps of the whole schedule
 * @param losses       the training loss of every step, from the first step of the first run
 * @param validations  the validations run, in order (a resumed run includes earlier ones)
 * @param failedImages images that could not be read, with why (their examples were skipped)
 * @param missingImages images listed by the data but absent, dropped before training
 * @param finalModel   the {@code save_pretrained} directory of the trained model, or null when
 *                     the run stopped before the end of the schedule
 * @param lastCheckpoint the newest resumable checkpoint, or null
 */
public record TrainingResult(int steps, int totalSteps, List<Double> losses, List<ValidationResult> validations,
                             Map<String, String> failedImages, List<Path> missingImages, Path finalModel,
                             Path lastCheckpoint) {
    public TrainingResult {
        losses = List.copyOf(losses);
        validations = List.copyOf(validations);
        failedImages = Map.copyOf(failedImages);
        missingImages = List.copyOf(missingImages);
    }

    /** Whether the whole schedule ran. */
    public boolean completed() {
        return steps >= totalSteps;
    }
}
