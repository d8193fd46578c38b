package org.blipjava.training;

import java.nio.file.Path;
import java.util.function.Function;
import org.blipjava.config.BlipConfig;
import org.blipjava.image.BlipImageProcessor;
import org.blipjava.image.RgbImage;
import org.blipjava.tensor.Parallel;
import org.blipjava.tokenizer.BertTokenizer;

/**
 * What the caption and VQA validators share: the model's config, tokenizer and image processor,
 * the training settings (batch size, text limits, how many images to generate for) and the
 * compute threads, owned by the caller.
 */
abstract class TaskValidator {
    final BlipConfig config;
    final BertTokenizer tokenizer;
    final BlipImageProcessor processor;
    final TrainingSettings settings;
    final Parallel parallel;

    TaskValidator(BlipConfig config, BertTokenizer tokenizer, BlipImageProcessor processor, TrainingSettings settings,
                  Parallel parallel) {
        this.config = config;
        this.tokenizer = tokenizer;
        this.processor = processor;
        this.settings = settings;
        this.parallel = parallel;
    }

    /**
     * Validates the weights in {@code params}.
     *
     * @param step   the optimizer step, reported in the result
     * @param reader decodes an image, or returns null when it cannot (the caller reports it)
     */
    public abstract ValidationResult evaluate(Parameters params, int step, Function<Path, RgbImage> reader);
}
