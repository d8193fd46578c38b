package org.blipjava.training;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.blipjava.config.BlipConfig;
import org.blipjava.generation.GenerationConfig;
import org.blipjava.generation.GenerationResult;
import org.blipjava.generation.Generator;
import org.blipjava.image.BlipImageProcessor;
import org.blipjava.image.RgbImage;
import org.blipjava.metrics.VqaAccuracy;
import org.blipjava.model.BlipForQuestionAnswering;
import org.blipjava.tensor.Parallel;
import org.blipjava.tokenizer.Batch;
import org.blipjava.tokenizer.BertTokenizer;
import org.blipjava.tokenizer.Padding;

/**
 * Validates a VQA model during training: the answer loss over held-out answers (with the model
 * config's label smoothing, as the reference's forward computes it) and the VQA accuracy of
 * greedily generated answers against each question's answers. Generation is what
 * {@code Blip.answer} does (the decoder attends to every question position). Not thread-safe.
 */
public final class VqaValidator extends TaskValidator {
    private final VqaData data;

    /** @param parallel compute threads, owned by the caller */
    public VqaValidator(VqaData data, BlipConfig config, BertTokenizer tokenizer, BlipImageProcessor processor,
                        TrainingSettings settings, Parallel parallel) {
        super(config, tokenizer, processor, settings, parallel);
        this.data = data;
    }

    /** Validates the weights in {@code params}; {@code reader} returns null for unreadable images. */
    @Override
    public ValidationResult evaluate(Parameters params, int step, Function<Path, RgbImage> reader) {
        BlipForQuestionAnswering model =
                BlipForQuestionAnswering.load(Checkpointing.stateDict(params), config, parallel);
        int limit = settings.textLimit(config);
        int h = processor.config().height();
        int w = processor.config().width();
        int bs = settings.batchSize();
        double lossSum = 0;
        long tokens = 0;
        for (int start = 0; start < data.size(); start += bs) {
            ReadableImages batch = ReadableImages.read(start, Math.min(data.size(), start + bs),
                    i -> data.questionOf(i).image(), reader);
            if (batch.isEmpty()) {
                continue;
            }
            List<String> qs = batch.indices().stream().map(i -> data.questionOf(i).question()).toList();
            List<String> as = batch.indices().stream().map(data::answer).toList();
            Batch q = tokenizer.encodeBatch(qs, limit, Padding.LONGEST);
            CaptionTexts a = CaptionTexts.encode(as, tokenizer, null, limit, config.text().bosTokenId(), false);
            float[] embeds = model.vision(processor.preprocessBatch(batch.images()), batch.size(), h, w).lastHiddenState();
            int n = a.targetCount();
            lossSum += model.answerLoss(embeds, batch.size(), q.inputIds(), q.attentionMask(), a.ids(), a.mask(),
                    a.labels()) * n;
            tokens += n;
        }
        Map<String, String> outputs = new LinkedHashMap<>();
        List<String> answers = new ArrayList<>();
        List<List<String>> humans = new ArrayList<>();
        int count = settings.validationCount(data.questions().size());
        GenerationConfig g = GenerationConfig.forBlip(config.text()).toBuilder()
                .maxLength(Math.min(settings.maxGenerationLength(), config.text().maxPositionEmbeddings())).build();
        int pad = config.text().padTokenId();
        for (int start = 0; start < count; start += bs) {
            ReadableImages batch = ReadableImages.read(start, Math.min(count, start + bs),
                    i -> data.questions().get(i).image(), reader);
            if (batch.isEmpty()) {
                continue;
            }
            List<VqaData.Question> qs = batch.indices().stream().map(data.questions()::get).toList();
            int n = batch.size();
            Batch q = tokenizer.encodeBatch(qs.stream().map(VqaData.Question::question).toList(), limit, Padding.LONGEST);
            float[] embeds = model.vision(processor.preprocessBatch(batch.images()), n, h, w).lastHiddenState();
            float[] questions = model.encodeQuestions(embeds, n, q.inputIds(), q.attentionMask());
            int qLen = q.inputIds()[0].length;
            GenerationResult r = Generator.generate(model.decoderFactory(questions, n, qLen, null,
                    g.maxLengthFor(1)), n, new int[] {config.text().bosTokenId()}, g);
            for (int k = 0; k < qs.size(); k++) {
                String answer = CaptionTexts.decodeGenerated(tokenizer, r.sequence(k), pad);
                answers.add(answer);
                humans.add(qs.get(k).answers());
                outputs.put(qs.get(k).image().getFileName() + " | " + qs.get(k).question(), answer);
            }
        }
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put(ValidationResult.VQA_ACCURACY,
                answers.isEmpty() ? Double.NaN : VqaAccuracy.meanAccuracy(answers, humans));
        return new ValidationResult(step, tokens == 0 ? Double.NaN : lossSum / tokens, metrics, outputs);
    }
}
