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
 * @param taskValues   task values at the end worth reporting, by name (retrieval:
 *                     {@value #ITC_TEMPERATURE}); empty for the other tasks
 */
public record TrainingResult(int steps, int totalSteps, List<Double> losses, List<ValidationResult> validations,
                             Map<String, String> failedImages, List<Path> missingImages, Path finalModel,
                             Path lastCheckpoint, Map<String, Double> taskValues) {
    /** The retrieval task's ITC temperature at the end of training (learned or fixed). */
    public static final String ITC_TEMPERATURE = "itc_temperature";

    public TrainingResult {
        taskValues = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(taskValues));
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
