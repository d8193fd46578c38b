package org.blipjava.training;

import java.nio.file.Path;
import java.util.function.Function;
import org.blipjava.config.BlipConfig;
import org.blipjava.image.RgbImage;
import org.blipjava.tokenizer.BertTokenizer;

/**
 * What the caption and VQA tasks share: their examples, an optional validator, and the model's
 * config, tokenizer and the settings their LM losses are built with.
 *
 * @param <D> the examples' type
 */
abstract class LanguageTask<D extends TrainingExamples> implements TrainingTask {
    final D train;
    private final TaskValidator validator;
    final BlipConfig config;
    final BertTokenizer tokenizer;
    final TrainingSettings settings;

    /** @param validator null without validation data */
    LanguageTask(D train, TaskValidator validator, BlipConfig config, BertTokenizer tokenizer,
                 TrainingSettings settings) {
        this.train = train;
        this.validator = validator;
        this.config = config;
        this.tokenizer = tokenizer;
        this.settings = settings;
    }

    @Override
    public TrainingExamples examples() {
        return train;
    }

    @Override
    public ValidationResult validate(Parameters params, int step, Function<Path, RgbImage> reader) {
        return validator == null ? null : validator.evaluate(params, step, reader);
    }
}
