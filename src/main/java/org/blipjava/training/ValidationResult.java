package org.blipjava.training;

import java.util.Map;

/**
 * A validation of the captioner being trained.
 *
 * @param step     optimizer steps done when it ran
 * @param loss     mean LM loss per caption token over the validation captions (no augmentation,
 *                 no label smoothing)
 * @param bleu4    corpus BLEU-4 of the generated captions against each image's captions
 * @param ciderD   CIDEr-D of the generated captions
 * @param captions generated caption per validation image file (prompt removed)
 */
public record ValidationResult(int step, double loss, double bleu4, double ciderD, Map<String, String> captions) {
    public ValidationResult {
        captions = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(captions));
    }
}
