package org.blipjava.training;

import java.util.ArrayList;
import java.util.List;
import org.blipjava.config.BlipConfig;
import org.blipjava.tokenizer.Batch;
import org.blipjava.tokenizer.BertTokenizer;
import org.blipjava.tokenizer.Padding;

/**
 * VQA fine-tuning as BLIP does it: the question ({@code [CLS] question [SEP]}) through the
 * image-grounded encoder, the answer ({@code [DEC] answer [SEP]}) through the decoder attending to
 * the question encoding, LM loss with the settings' label smoothing ({@link VqaObjective}).
 */
final class VqaTask extends LanguageTask<VqaData> {
    VqaTask(VqaData train, VqaValidator validator, BlipConfig config, BertTokenizer tokenizer,
            TrainingSettings settings) {
        super(train, validator, config, tokenizer, settings);
    }

    @Override
    public String architecture() {
        return "BlipForQuestionAnswering";
    }

    @Override
    public BatchLoss objective(Parameters params) {
        VqaObjective objective = new VqaObjective(params, config);
        int limit = settings.textLimit(config);
        return (tape, pixels, examples) -> {
            List<String> questions = new ArrayList<>(examples.length);
            List<String> answers = new ArrayList<>(examples.length);
            for (int e : examples) {
                questions.add(train.questionOf(e).question());
                answers.add(train.answer(e));
            }
            Batch q = tokenizer.encodeBatch(questions, limit, Padding.LONGEST);
            CaptionTexts a = CaptionTexts.encode(answers, tokenizer, null, limit, config.text().bosTokenId(), false);
            return objective.loss(tape, pixels, examples.length, q.inputIds(), q.attentionMask(), a.ids(), a.mask(),
                    a.labels(), settings.labelSmoothing());
        };
    }
}
