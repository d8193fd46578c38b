package org.blipjava.training;

import java.util.ArrayList;
import java.util.List;
import org.blipjava.config.BlipConfig;
import org.blipjava.tokenizer.BertTokenizer;

/** Captioning fine-tuning: LM loss on {@code prompt + caption} ({@link CaptioningObjective}). */
final class CaptionTask extends LanguageTask<CaptionData> {
    CaptionTask(CaptionData train, CaptionValidator validator, BlipConfig config, BertTokenizer tokenizer,
                TrainingSettings settings) {
        super(train, validator, config, tokenizer, settings);
    }

    @Override
    public String architecture() {
        return "BlipForConditionalGeneration";
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
}
