package org.blipjava.training;

import org.blipjava.config.BlipConfig;

/**
 * Retrieval fine-tuning losses ({@code BlipForImageTextRetrieval}) over a batch of n pairs
 * (image i with text i):
 *
 * <ul>
 *   <li>ITC: L2-normalized {@code vision_proj} of the vision class token and {@code text_proj} of
 *       the unimodal text encoder's first token; the mean of image-to-text and text-to-image
 *       cross-entropy of {@code cosine / temperature};</li>
 *   <li>ITM: {@code itm_head} on the image-grounded encoder's first token for the n positive pairs
 *       (label 1) and n negatives, text {@code (i - 1) mod n} with image i (label 0), averaged
 *       over the 2n pairs.</li>
 * </ul>
 * The training loss is their sum.
 */
public final class RetrievalObjective {
    /** The two losses and their sum, all scalars on the same tape. */
    public record Losses(Tensor itc, Tensor itm, Tensor total) {}

    private final Parameters params;
    private final VisionTower vision;
    private final TextTower encoder;
    private final BlipConfig config;

    /** Over {@code vision_model.*}, {@code text_encoder.*}, {@code vision_proj}, {@code text_proj}, {@code itm_head}. */
    public RetrievalObjective(Parameters params, BlipConfig config) {
        this.params = params;
        this.config = config;
        this.vision = new VisionTower(params, "vision_model.", config.vision());
        this.encoder = new TextTower(params, "text_encoder.", config.text());
        params.get("itm_head.weight");
    }

    /**
     * The losses over the first {@code n = min(images, texts)} pairs, recorded on {@code t}.
     *
     * @param pixels      [images, 3, size, size]
     * @param ids         [texts][len], [CLS] first as the tokenizer gives it
     * @param mask        [texts][len], or null
     * @param temperature the ITC softmax temperature (BLIP: 0.07)
     */
    public Losses loss(Tape t, float[] pixels, int nImages, int[][] ids, int[][] mask, double temperature) {
        int n = Math.min(nImages, ids.length);
        if (n < 2) {
            throw new IllegalArgumentException("retrieval training needs at least 2 image-text pairs (the negatives"
                    + " are the other pairs' texts), got " + nImages + " images and " + ids.length + " texts");
        }
        int[][] pairIds = new int[n][];
        int[][] pairMask = mask == null ? null : new int[n][];
        for (int i = 0; i < n; i++) {
            pairIds[i] = ids[i];
            if (mask != null) {
                pairMask[i] = mask[i];
            }
        }
        int len = ids[0].length;
        int dv = config.vision().hiddenSize();
        int dt = config.text().hiddenSize();
        int e = config.imageTextHiddenSize();
        VisionTower.Output img = vision.forward(t, pixels, nImages);
        int seq = img.seqLen();

        // ITC
        Tensor imageCls = TextTower.firstTokens(t, img.lastHiddenState(), n, seq, dv);
        Tensor imageFeat = Ops.l2Normalize(t, Ops.linear(t, imageCls, n, dv, params.get("vision_proj.weight"),
                params.get("vision_proj.bias"), e), n, e);
        Tensor textHidden = encoder.forward(t, pairIds, pairMask, false, null);
        Tensor textFeat = Ops.l2Normalize(t, Ops.linear(t, TextTower.firstTokens(t, textHidden, n, len, dt), n, dt,
                params.get("text_proj.weight"), params.get("text_proj.bias"), e), n, e);
        Tensor cosine = Ops.linear(t, imageFeat, n, e, textFeat, null, n);
        Tensor sim = Ops.divide(t, cosine, temperature);
        int[] diagonal = new int[n];
        for (int i = 0; i < n; i++) {
            diagonal[i] = i;
        }
        Tensor i2t = Ops.crossEntropy(t, sim, n, n, diagonal, 0.0);
        Tensor t2i = Ops.crossEntropy(t, Ops.transpose(t, sim, n, n), n, n, diagonal, 0.0);
        Tensor itc = Ops.weightedSum(t, new double[] {0.5, 0.5}, i2t, t2i);

        // ITM: positives then negatives, every row reading its image's embeddings.
        int[][] itmIds = new int[2 * n][];
        int[][] itmMask = mask == null ? null : new int[2 * n][];
        int[] entry = new int[2 * n];
        int[] target = new int[2 * n];
        for (int i = 0; i < n; i++) {
            int neg = (i - 1 + n) % n;
            itmIds[i] = ids[i];
            itmIds[n + i] = ids[neg];
            if (mask != null) {
                itmMask[i] = mask[i];
                itmMask[n + i] = mask[neg];
            }
            entry[i] = i;
            entry[n + i] = i;
            target[i] = 1;
            target[n + i] = 0;
        }
        Tensor states = Ops.gather(t, img.lastHiddenState(), seq * dv, entry);
        Tensor grounded = encoder.forward(t, itmIds, itmMask, false, new TextTower.Cross(states, seq, dv, null));
        Tensor itmLogits = Ops.linear(t, TextTower.firstTokens(t, grounded, 2 * n, len, dt), 2 * n, dt,
                params.get("itm_head.weight"), params.get("itm_head.bias"), 2);
        Tensor itm = Ops.crossEntropy(t, itmLogits, 2 * n, 2, target, 0.0);
        return new Losses(itc, itm, Ops.weightedSum(t, new double[] {1, 1}, itc, itm));
    }

    public BlipConfig config() {
        return config;
    }
}
