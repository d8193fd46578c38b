package org.blipjava.training;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.blipjava.config.BlipConfig;
import org.blipjava.image.RgbImage;
import org.blipjava.tokenizer.BertTokenizer;

/** Captioning fine-tuning: LM loss on {@code prompt + caption} ({@link CaptioningObjective}). */
final class CaptionTask implements TrainingTask {
    private final CaptionData train;
    private final CaptionValidator validator;
    private final BlipConfig config;
    private final BertTokenizer tokenizer;
    private final TrainingSettings settings;

    CaptionTask(CaptionData train, CaptionValidator validator, BlipConfig config, BertTokenizer tokenizer,
                TrainingSettings settings) {
        this.train = train;
        this.validator = validator;
        this.config = config;
        this.tokenizer = tokenizer;
        this.settings = settings;
    }

    @Override
    public String architecture() {
        return "BlipForConditionalGeneration";
    }

    @Override
    public TrainingExamples examples() {
        return train;
    }

    @Override
    public BatchLoss objective(Parameters params) {
        CaptioningObjective objective = new CaptioningObjective(params, config);
        int maxLength = settings.textLimit(config);
        return (tape, pixels, examples) -> {
            List<String> captions = new ArrayList<>(examples.length);
            for (int e : examples) {
                captions.add(train.caption(e));
            }
            CaptionTexts t = CaptionTexts.encode(captions, tokenizer, settings.prompt(), maxLength,
                    config.text().bosTokenId());
            return objective.loss(tape, pixels, examples.length, t.ids(), t.mask(), t.labels(),
                    settings.labelSmoothing());
        };
    }

    @Override
    public ValidationResult validate(Parameters params, int step, Function<Path, RgbImage> reader) {
        return validator == null ? null : validator.evaluate(params, step, reader);
    }
}
