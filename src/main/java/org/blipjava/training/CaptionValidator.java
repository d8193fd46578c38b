package org.blipjava.training;

import java.nio.file.Path;
import java.util.Arrays;
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
import org.blipjava.metrics.Bleu;
import org.blipjava.metrics.CaptionSet;
import org.blipjava.metrics.CiderD;
import org.blipjava.model.BlipForConditionalGeneration;
import org.blipjava.tensor.Parallel;
import org.blipjava.tasks.GeneratedText;
import org.blipjava.tokenizer.BertTokenizer;

/**
 * Validates a captioner during training: the LM loss over held-out captions, and captions
 * generated greedily for held-out images scored with BLEU-4 and CIDEr-D (coco-caption
 * tokenization) against each image's captions.
 *
 * <p>The current weights are copied into an inference model ({@code org.blipjava.model}), so
 * generation is exactly what {@code Blip.caption} would produce from the saved checkpoint. Not
 * thread-safe (it shares the trainer's thread).
 */
public final class CaptionValidator extends TaskValidator {
    private final CaptionData data;

    /**
     * @param data      held-out captions
     * @param processor the model's image processor (no augmentation is applied)
     * @param parallel  compute threads, owned by the caller
     */
    public CaptionValidator(CaptionData data, BlipConfig config, BertTokenizer tokenizer, BlipImageProcessor processor,
                            TrainingSettings settings, Parallel parallel) {
        super(config, tokenizer, processor, settings, parallel);
        this.data = data;
    }

    /**
     * Validates the weights in {@code params}.
     *
     * @param step   the optimizer step, reported in the result
     * @param reader decodes an image, or returns null when it cannot (the caller reports it)
     */
    @Override
    public ValidationResult evaluate(Parameters params, int step, Function<Path, RgbImage> reader) {
        BlipForConditionalGeneration model =
                BlipForConditionalGeneration.load(Checkpointing.stateDict(params), config, parallel);
        double loss = loss(model, reader);
        Map<String, String> generated = new LinkedHashMap<>();
        Map<String, List<String>> references = new LinkedHashMap<>();
        generate(model, reader, generated, references);
        double bleu4 = Double.NaN;
        double cider = Double.NaN;
        if (!generated.isEmpty()) {
            CaptionSet set = CaptionSet.of(references, generated).tokenized();
            bleu4 = Bleu.score(set).corpus().get(Bleu.MAX_N - 1);
            cider = CiderD.score(set).corpus();
        }
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put(ValidationResult.BLEU4, bleu4);
        metrics.put(ValidationResult.CIDER_D, cider);
        return new ValidationResult(step, loss, metrics, generated);
    }

    /** Token-weighted mean loss over every validation caption whose image is readable. */
    private double loss(BlipForConditionalGeneration model, Function<Path, RgbImage> reader) {
        double sum = 0;
        long tokens = 0;
        int bs = settings.batchSize();
        for (int start = 0; start < data.size(); start += bs) {
            ReadableImages batch = ReadableImages.read(start, Math.min(data.size(), start + bs), data::image, reader);
            if (batch.isEmpty()) {
                continue;
            }
            List<String> caps = batch.indices().stream().map(data::caption).toList();
            CaptionTexts t = CaptionTexts.encode(caps, tokenizer, settings.prompt(), settings.textLimit(config),
                    config.text().bosTokenId());
            int n = t.targetCount();
            if (n == 0) {
                continue;
            }
            float[] px = processor.preprocessBatch(batch.images());
            int h = processor.config().height();
            int w = processor.config().width();
            sum += model.lmLoss(px, batch.size(), h, w, t.ids(), t.mask(), t.labels(), 0.0) * n;
            tokens += n;
        }
        return tokens == 0 ? Double.NaN : sum / tokens;
    }

    private void generate(BlipForConditionalGeneration model, Function<Path, RgbImage> reader,
                          Map<String, String> generated, Map<String, List<String>> references) {
        int[] start = CaptionTexts.decoderStart(tokenizer, settings.prompt(), config.text().bosTokenId());
        String promptText = settings.prompt() == null ? ""
                : tokenizer.decode(Arrays.copyOfRange(start, 1, start.length), true).strip();
        GenerationConfig g = GenerationConfig.forBlip(config.text()).toBuilder()
                .maxLength(Math.min(settings.maxGenerationLength() + start.length - 1,
                        config.text().maxPositionEmbeddings()))
                .build();
        int limit = settings.validationCount(data.images().size());
        int bs = settings.batchSize();
        int h = processor.config().height();
        int w = processor.config().width();
        int pad = config.text().padTokenId();
        for (int first = 0; first < limit; first += bs) {
            ReadableImages batch = ReadableImages.read(first, Math.min(limit, first + bs), data.images()::get, reader);
            if (batch.isEmpty()) {
                continue;
            }
            List<Integer> which = batch.indices();
            float[] embeds = model.vision(processor.preprocessBatch(batch.images()), batch.size(), h, w).lastHiddenState();
            GenerationResult r = Generator.generate(model.decoderFactory(embeds, batch.size(), g.maxLengthFor(start.length)),
                    batch.size(), start, g);
            for (int k = 0; k < which.size(); k++) {
                String text = CaptionTexts.decodeGenerated(tokenizer, r.sequence(k), pad);
                text = GeneratedText.withoutPrompt(text, promptText);
                String id = data.images().get(which.get(k)).toString();
                generated.put(id, text);
                references.put(id, data.references(which.get(k)));
            }
        }
    }
}
