package org.blipjava.training;

import org.blipjava.config.BlipConfig;

/**
 * The CLIP-style contrastive loss of {@code BlipModel}: L2-normalized {@code visual_projection}
 * of the vision tower's pooled output and {@code text_projection} of the text model's pooler
 * output, logits {@code exp(logit_scale) * image @ text^T}, and the mean of the image-to-text and
 * text-to-image cross-entropy where pair i matches pair i. {@code logit_scale} is learned.
 */
public final class ContrastiveObjective {
    private final Parameters params;
    private final VisionTower vision;
    private final TextTower text;
    private final BlipConfig config;

    /** Over {@code vision_model.*}, {@code text_model.*}, the projections and {@code logit_scale}. */
    public ContrastiveObjective(Parameters params, BlipConfig config) {
        this.params = params;
        this.config = config;
        this.vision = new VisionTower(params, "vision_model.", config.vision());
        this.text = new TextTower(params, "text_model.", config.text());
        params.get("logit_scale");
    }

    /**
     * The loss of n pairs, recorded on {@code t}. The text model runs without cross-attention,
     * so its cross-attention weights get no gradient.
     */
    public Tensor loss(Tape t, float[] pixels, int n, int[][] ids, int[][] mask) {
        if (ids.length != n) {
            throw new IllegalArgumentException("the contrastive loss pairs image i with text i; got " + n
                    + " images and " + ids.length + " texts");
        }
        int p = config.projectionDim();
        int dv = config.vision().hiddenSize();
        int dt = config.text().hiddenSize();
        VisionTower.Output img = vision.forward(t, pixels, n);
        Tensor imageEmbeds = Ops.l2Normalize(t, Ops.linear(t, img.pooled(), n, dv,
                params.get("visual_projection.weight"), null, p), n, p);
        int len = ids[0].length;
        Tensor hidden = text.forward(t, ids, mask, false, null);
        Tensor pooled = text.pool(t, hidden, n, len);
        Tensor textEmbeds = Ops.l2Normalize(t, Ops.linear(t, pooled, n, dt, params.get("text_projection.weight"), null,
                p), n, p);
        Tensor logitsPerImage = Ops.scaleByExp(t, Ops.linear(t, imageEmbeds, n, p, textEmbeds, null, n),
                params.get("logit_scale"));
        int[] diagonal = new int[n];
        for (int i = 0; i < n; i++) {
            diagonal[i] = i;
        }
        Tensor imageLoss = Ops.crossEntropy(t, logitsPerImage, n, n, diagonal, 0.0);
        Tensor textLoss = Ops.crossEntropy(t, Ops.transpose(t, logitsPerImage, n, n), n, n, diagonal, 0.0);
        return Ops.weightedSum(t, new double[] {0.5, 0.5}, imageLoss, textLoss);
    }

    public BlipConfig config() {
        return config;
    }
}
