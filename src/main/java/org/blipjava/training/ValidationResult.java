package org.blipjava.training;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A validation of the model being trained.
 *
 * @param step    optimizer steps done when it ran
 * @param loss    the validation loss (no augmentation): the LM loss per target token for
 *                captioning and VQA, the text-to-image ITC cross-entropy for retrieval
 * @param metrics task metrics by name: {@value #BLEU4} and {@value #CIDER_D} for captioning,
 *                {@value #VQA_ACCURACY} for VQA, {@value #I2T_R1}, {@value #T2I_R1} and the ITC temperature
 *                ({@link TrainingResult#ITC_TEMPERATURE}) for retrieval
 * @param outputs the generated text per validation item (captions per image file with the prompt
 *                removed; answers per "image | question")
 */
public record ValidationResult(int step, double loss, Map<String, Double> metrics, Map<String, String> outputs) {
    /** Corpus BLEU-4 of generated captions (coco-caption tokenization). */
    public static final String BLEU4 = "bleu4";
    /** CIDEr-D of generated captions. */
    public static final String CIDER_D = "cider_d";
    /** Mean VQA accuracy of generated answers. */
    public static final String VQA_ACCURACY = "vqa_accuracy";
    /** Image-to-text recall@1 by ITC similarity (an image counts when its best text is one of its own). */
    public static final String I2T_R1 = "i2t_r1";
    /** Text-to-image recall@1 by ITC similarity. */
    public static final String T2I_R1 = "t2i_r1";

    public ValidationResult {
        metrics = Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
        outputs = Collections.unmodifiableMap(new LinkedHashMap<>(outputs));
    }

    /** A metric by name, NaN when this validation has none of that name. */
    public double metric(String name) {
        Double v = metrics.get(name);
        return v == null ? Double.NaN : v;
    }

    /** {@link #BLEU4}, NaN when absent. */
    public double bleu4() {
        return metric(BLEU4);
    }

    /** {@link #CIDER_D}, NaN when absent. */
    public double ciderD() {
        return metric(CIDER_D);
    }
}
