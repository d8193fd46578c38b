package org.blipjava.training;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;
import org.blipjava.image.RgbImage;

/**
 * What a {@link Trainer} fine-tunes for: the training examples (each tied to one image), the loss
 * of a batch of them, and the validation. Implementations: {@link CaptionTask}, {@link VqaTask}.
 */
interface TrainingTask {
    /** The {@code architectures} entry the model's config.json must list. */
    String architecture();

    /** The training examples. */
    TrainingExamples examples();

    /** Number of training examples. */
    default int size() {
        return examples().size();
    }

    /** The image of example {@code i}. */
    default Path image(int i) {
        return examples().image(i);
    }

    /** Number of distinct training images. */
    default int imageCount() {
        return examples().images().size();
    }

    /** Images the data lists but that do not exist (dropped before training). */
    default List<Path> missingImages() {
        return examples().missingImages();
    }

    /** The loss of a batch, built over {@code params}. */
    BatchLoss objective(Parameters params);

    /**
     * Validates the current weights, or returns null when there is no validation data.
     *
     * @param reader decodes an image, or returns null when it cannot (already reported)
     */
    ValidationResult validate(Parameters params, int step, Function<Path, RgbImage> reader);

    /** Tensors of the task's own training state (momentum encoders, queues) for a checkpoint; none by default. */
    default List<org.blipjava.checkpoint.TensorData> stateTensors() {
        return List.of();
    }

    /** Scalars of the task's own training state, saved as the state file's metadata. */
    default java.util.Map<String, String> stateMetadata() {
        return java.util.Map.of();
    }

    /** Restores what {@link #stateTensors} and {@link #stateMetadata} saved (copying: the file closes after). */
    default void restoreState(org.blipjava.checkpoint.SafetensorsFile saved) {}

    /**
     * Scalars or tensors the task trains beside the model's weights (the retrieval task's learned
     * temperature): the optimizer updates them and the checkpoints keep their moments, but they
     * are not written to {@code model.safetensors}. The task saves their values in
     * {@link #stateTensors}. None by default.
     */
    default List<Parameter> ownParameters() {
        return List.of();
    }

    /** Called after each optimizer step (to clamp {@link #ownParameters}, for example). */
    default void afterStep() {}

    /** Values worth reporting at the end of training (for example {@code itc_temperature}); none by default. */
    default java.util.Map<String, Double> reportedValues() {
        return java.util.Map.of();
    }

    /** Small files (name to content) written beside the trained model in {@code final/}; none by default. */
    default java.util.Map<String, String> modelSideFiles() {
        return java.util.Map.of();
    }

    /** The loss of one batch: example {@code examples[r]} with image row {@code r} of {@code pixels}. */
    interface BatchLoss {
        Tensor loss(Tape tape, float[] pixels, int[] examples);
    }
}
