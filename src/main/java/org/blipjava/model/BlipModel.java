package org.blipjava.model;

import org.blipjava.checkpoint.StateDict;
import org.blipjava.config.BlipConfig;
import org.blipjava.tensor.Kernels;
import org.blipjava.tensor.Parallel;
import org.blipjava.tensor.WeightPrecision;

/**
 * The CLIP-style BLIP model ({@code vision_model.*}, {@code text_model.*}, {@code visual_projection},
 * {@code text_projection}, {@code logit_scale}): normalized image and text embeddings, scaled
 * cosine logits and the symmetric contrastive loss.
 *
 * <p>Immutable and thread-safe after loading.
 */
public final class BlipModel {
    private final BlipConfig config;
    private final BlipVisionModel visionModel;
    private final BlipTextModel textModel;
    private final Linear visualProjection;
    private final Linear textProjection;
    private final float logitScale;
    private final Parallel parallel;

    private BlipModel(BlipConfig config, BlipVisionModel visionModel, BlipTextModel textModel, Linear visualProjection,
                      Linear textProjection, float logitScale, Parallel parallel) {
        this.config = config;
        this.visionModel = visionModel;
        this.textModel = textModel;
        this.visualProjection = visualProjection;
        this.textProjection = textProjection;
        this.logitScale = logitScale;
        this.parallel = parallel;
    }

    /** Copies the weights out of {@code sd}; untaken keys are an error naming them. */
    public static BlipModel load(StateDict sd, BlipConfig config, Parallel parallel) {
        return load(sd, config, parallel, WeightPrecision.F32);
    }

    /** As {@link #load(StateDict, BlipConfig, Parallel)} with the transformers' weights stored at {@code precision}. */
    public static BlipModel load(StateDict sd, BlipConfig config, Parallel parallel, WeightPrecision precision) {
        BlipVisionModel vision = BlipVisionModel.load(sd, "vision_model.", config.vision(), parallel, precision);
        BlipTextModel text = BlipTextModel.load(sd, "text_model.", config.text(), true, parallel, precision);
        int p = config.projectionDim();
        Linear vp = Linear.load(sd, "visual_projection", config.vision().hiddenSize(), p, false);
        Linear tp = Linear.load(sd, "text_projection", config.text().hiddenSize(), p, false);
        float scale = sd.floats("logit_scale")[0];
        sd.requireAllTaken();
        return new BlipModel(config, vision, text, vp, tp, scale, parallel);
    }

    public BlipConfig config() {
        return config;
    }

    /** Encodes images [batch, 3, h, w]. */
    public BlipVisionModel.Output vision(float[] pixels, int batch, int h, int w) {
        return visionModel.forward(pixels, batch, h, w);
    }

    /** L2-normalized {@code visual_projection} of the vision tower's pooled output, [batch, projectionDim]. */
    public float[] imageEmbeds(BlipVisionModel.Output images) {
        float[] e = visualProjection.forward(parallel, images.pooled(), images.batch());
        Kernels.l2Normalize(e, images.batch(), visualProjection.out());
        return e;
    }

    /** L2-normalized {@code text_projection} of the text model's pooler output (bidirectional, no image), [texts, projectionDim]. */
    public float[] textEmbeds(int[][] ids, int[][] mask) {
        float[] hidden = textModel.forward(ids, mask, false, null, null);
        float[] pooled = textModel.pool(hidden, ids.length, ids[0].length);
        float[] e = textProjection.forward(parallel, pooled, ids.length);
        Kernels.l2Normalize(e, ids.length, textProjection.out());
        return e;
    }

    /** The stored log of the logit scale. */
    public float logitScale() {
        return logitScale;
    }

    /** {@code exp(logit_scale) * imageEmbeds @ textEmbeds^T}, [images, texts]. */
    public float[] logitsPerImage(float[] imageEmbeds, int nImages, float[] textEmbeds, int nTexts) {
        float[] out = new float[nImages * nTexts];
        Kernels.linear(parallel, imageEmbeds, nImages, visualProjection.out(), textEmbeds, null, nTexts, out);
        float s = (float) Math.exp(logitScale);
        for (int i = 0; i < out.length; i++) {
            out[i] *= s;
        }
        return out;
    }

    /**
     * The symmetric contrastive loss: the mean of image-to-text and text-to-image cross-entropy
     * where pair i matches pair i. Needs as many images as texts.
     */
    public static double contrastiveLoss(float[] logitsPerImage, int nImages, int nTexts) {
        if (nImages != nTexts) {
            throw new IllegalArgumentException("the contrastive loss pairs image i with text i; got " + nImages
                    + " images and " + nTexts + " texts");
        }
        int n = nImages;
        double imageLoss = 0;
        double textLoss = 0;
        float[] column = new float[n];
        for (int i = 0; i < n; i++) {
            imageLoss += BlipTextLMHeadModel.crossEntropy(logitsPerImage, i * n, n, i, 0.0);
            for (int j = 0; j < n; j++) {
                column[j] = logitsPerImage[j * n + i];
            }
            textLoss += BlipTextLMHeadModel.crossEntropy(column, 0, n, i, 0.0);
        }
        return (imageLoss / n + textLoss / n) / 2;
    }
}
