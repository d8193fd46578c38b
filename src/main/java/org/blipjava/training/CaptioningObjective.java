package org.blipjava.training;

import org.blipjava.config.BlipConfig;

/**
 * Captioning's training loss ({@code BlipForConditionalGeneration}): the vision tower encodes
 * the images, the causal decoder reads the captions (used as given, with their attention mask)
 * and cross-attends to image i, and the LM head's shifted cross-entropy is the loss.
 */
public final class CaptioningObjective {
    private final VisionTower vision;
    private final TextTower decoder;
    private final LmHead head;
    private final BlipConfig config;

    /** Over {@code vision_model.*} and {@code text_decoder.*} of {@code params}. */
    public CaptioningObjective(Parameters params, BlipConfig config) {
        this.config = config;
        this.vision = new VisionTower(params, "vision_model.", config.vision());
        this.decoder = new TextTower(params, "text_decoder.bert.", config.text());
        this.head = new LmHead(params, "text_decoder.", config.text());
    }

    /**
     * The LM loss of one batch, recorded on {@code t} (call {@code t.backward(loss)} for the gradients).
     *
     * @param pixels         [batch, 3, size, size]
     * @param ids            [batch][len] decoder input ids
     * @param mask           [batch][len] attention mask, or null
     * @param labels         [batch][len], -100 where ignored
     * @param labelSmoothing 0 for the plain loss, BLIP trains with 0.1
     */
    public Tensor loss(Tape t, float[] pixels, int batch, int[][] ids, int[][] mask, int[][] labels,
                       double labelSmoothing) {
        if (ids.length != batch || labels.length != batch) {
            throw new IllegalArgumentException(ids.length + " captions and " + labels.length + " label rows for "
                    + batch + " images");
        }
        VisionTower.Output img = vision.forward(t, pixels, batch);
        Tensor hidden = decoder.forward(t, ids, mask, true,
                new TextTower.Cross(img.lastHiddenState(), img.seqLen(), img.hidden(), null));
        Tensor logits = head.logits(t, hidden, batch * ids[0].length);
        return head.loss(t, logits, labels, labelSmoothing);
    }

    public BlipConfig config() {
        return config;
    }
}
