package org.blipjava.training;

import org.blipjava.config.BlipConfig;

/**
 * VQA's training loss ({@code BlipForQuestionAnswering}): the question runs through the
 * image-grounded encoder; the answer decoder cross-attends to the question encoding through the
 * question's attention mask; the loss is the LM loss of the answers with the text config's
 * label smoothing.
 */
public final class VqaObjective {
    private final VisionTower vision;
    private final TextTower encoder;
    private final TextTower decoder;
    private final LmHead head;
    private final BlipConfig config;

    /** Over {@code vision_model.*}, {@code text_encoder.*} and {@code text_decoder.*}. */
    public VqaObjective(Parameters params, BlipConfig config) {
        this.config = config;
        this.vision = new VisionTower(params, "vision_model.", config.vision());
        this.encoder = new TextTower(params, "text_encoder.", config.text());
        this.decoder = new TextTower(params, "text_decoder.bert.", config.text());
        this.head = new LmHead(params, "text_decoder.", config.text());
    }

    /**
     * The answer loss of one batch (question i about image i), recorded on {@code t}.
     *
     * @param answerIds answers' input ids ([CLS] first, padded)
     * @param labels    the same with padding -100
     */
    public Tensor loss(Tape t, float[] pixels, int batch, int[][] questionIds, int[][] questionMask,
                       int[][] answerIds, int[][] answerMask, int[][] labels) {
        return loss(t, pixels, batch, questionIds, questionMask, answerIds, answerMask, labels,
                config.text().labelSmoothing());
    }

    /**
     * As {@link #loss(Tape, float[], int, int[][], int[][], int[][], int[][], int[][])} with the
     * given label smoothing instead of the config's (BLIP fine-tunes VQA with 0.1).
     */
    public Tensor loss(Tape t, float[] pixels, int batch, int[][] questionIds, int[][] questionMask,
                       int[][] answerIds, int[][] answerMask, int[][] labels, double labelSmoothing) {
        if (questionIds.length != batch || answerIds.length != batch) {
            throw new IllegalArgumentException(questionIds.length + " questions and " + answerIds.length
                    + " answers for " + batch + " images");
        }
        VisionTower.Output img = vision.forward(t, pixels, batch);
        Tensor questions = encoder.forward(t, questionIds, questionMask, false,
                new TextTower.Cross(img.lastHiddenState(), img.seqLen(), img.hidden(), null));
        int qLen = questionIds[0].length;
        Tensor hidden = decoder.forward(t, answerIds, answerMask, true,
                new TextTower.Cross(questions, qLen, config.text().hiddenSize(), questionMask));
        Tensor logits = head.logits(t, hidden, batch * answerIds[0].length);
        return head.loss(t, logits, labels, labelSmoothing);
    }

    public BlipConfig config() {
        return config;
    }
}
