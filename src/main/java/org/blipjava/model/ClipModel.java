package org.blipjava.model;

import java.util.List;
import org.blipjava.checkpoint.CheckpointException;
import org.blipjava.checkpoint.StateDict;
import org.blipjava.config.ClipConfig;
import org.blipjava.tensor.Kernels;
import org.blipjava.tensor.Parallel;
import org.blipjava.tensor.WeightPrecision;

/**
 * Hugging Face's {@code CLIPModel}: the text and vision towers, {@code visual_projection} and
 * {@code text_projection} (no bias) into a shared space, and {@code logit_scale}, so that
 * {@code logits_per_image = exp(logit_scale) * cos(image, text)}.
 *
 * <p>Immutable and thread-safe after loading; every call allocates its own activations.
 */
public final class ClipModel {
    private final ClipConfig config;
    private final ClipVisionModel visionModel;
    private final ClipTextModel textModel;
    private final Linear visualProjection;
    private final Linear textProjection;
    private final float logitScale;
    private final Parallel parallel;

    private ClipModel(ClipConfig config, ClipVisionModel visionModel, ClipTextModel textModel,
                      Linear visualProjection, Linear textProjection, float logitScale, Parallel parallel) {
        this.config = config;
        this.visionModel = visionModel;
        this.textModel = textModel;
        this.visualProjection = visualProjection;
        this.textProjection = textProjection;
        this.logitScale = logitScale;
        this.parallel = parallel;
    }

    /**
     * Copies the weights out of {@code sd} (the caller may close its file afterwards). The
     * {@code position_ids} buffers some checkpoints carry are accepted and ignored.
     *
     * @param parallel  the threads kernels run on; owned by the caller and used for every call
     * @param precision how the towers' attention and MLP weights are stored (float32 accumulation either
     *                  way); embeddings, layer norms and projections stay float32
     * @throws CheckpointException      naming a missing key, a key whose shape the config contradicts, or
     *                                  every key the model did not use (a checkpoint of another architecture)
     * @throws IllegalArgumentException when a tower's {@code hidden_act} is not {@code quick_gelu} or {@code gelu}
     */
    public static ClipModel load(StateDict sd, ClipConfig config, Parallel parallel, WeightPrecision precision) {
        ClipVisionModel vision = ClipVisionModel.load(sd, "vision_model.", config.vision(), parallel, precision);
        ClipTextModel text = ClipTextModel.load(sd, "text_model.", config.text(), parallel, precision);
        int p = config.projectionDim();
        Linear vp = Linear.load(sd, "visual_projection", config.vision().hiddenSize(), p, false);
        Linear tp = Linear.load(sd, "text_projection", config.text().hiddenSize(), p, false);
        float[] scale = sd.floats("logit_scale");
        if (scale.length != 1) {
            throw new CheckpointException(sd.source() + ": 'logit_scale' has " + scale.length
                    + " values; CLIPModel stores one");
        }
        List<String> unexpected = sd.untaken();
        if (!unexpected.isEmpty()) {
            throw new CheckpointException(sd.source() + ": unexpected keys " + unexpected
                    + "; is this checkpoint for another architecture than CLIPModel?");
        }
        return new ClipModel(config, vision, text, vp, tp, scale[0], parallel);
    }

    public ClipConfig config() {
        return config;
    }

    /** The vision tower alone. */
    public ClipVisionModel visionModel() {
        return visionModel;
    }

    /** The text tower alone. */
    public ClipTextModel textModel() {
        return textModel;
    }

    /**
     * Encodes images.
     *
     * @param pixels [batch, 3, h, w] as the CLIP image processor produces them; {@code h} and {@code w} must
     *               equal the vision config's {@code image_size}
     */
    public ClipVisionModel.Output vision(float[] pixels, int batch, int h, int w) {
        return visionModel.forward(pixels, batch, h, w);
    }

    /**
     * Encodes token sequences as the CLIP tokenizer pads them.
     *
     * @param inputIds      [batch][len] ids, {@code len <= max_position_embeddings}
     * @param attentionMask [batch][len] of 1 (token) and 0 (padding), or null for all ones
     */
    public ClipTextModel.Output text(int[][] inputIds, int[][] attentionMask) {
        return textModel.forward(inputIds, attentionMask);
    }

    /** {@code visual_projection} of the pooled image outputs, each row L2-normalized: [batch, projectionDim]. */
    public float[] imageEmbeds(ClipVisionModel.Output v) {
        float[] e = visualProjection.forward(parallel, v.pooled(), v.batch());
        Kernels.l2Normalize(e, v.batch(), visualProjection.out());
        return e;
    }

    /** {@code text_projection} of the pooled text outputs, each row L2-normalized: [batch, projectionDim]. */
    public float[] textEmbeds(ClipTextModel.Output t) {
        float[] e = textProjection.forward(parallel, t.pooled(), t.batch());
        Kernels.l2Normalize(e, t.batch(), textProjection.out());
        return e;
    }

    /** The stored {@code logit_scale} parameter, the log of the factor: callers use {@code exp(logitScale())}. */
    public float logitScale() {
        return logitScale;
    }

    /**
     * {@code exp(logit_scale) * imageEmbeds @ textEmbeds^T}, [images, texts]: the reference's
     * {@code logits_per_image} (its transpose is {@code logits_per_text}).
     *
     * @param imageEmbeds [nImages, projectionDim] from {@link #imageEmbeds}
     * @param textEmbeds  [nTexts, projectionDim] from {@link #textEmbeds}
     */
    public float[] logitsPerImage(float[] imageEmbeds, int nImages, float[] textEmbeds, int nTexts) {
        int p = config.projectionDim();
        if (imageEmbeds.length != nImages * p || textEmbeds.length != nTexts * p) {
            throw new IllegalArgumentException("embeddings must be [n, " + p + "]: got " + imageEmbeds.length
                    + " floats for " + nImages + " images and " + textEmbeds.length + " for " + nTexts + " texts");
        }
        float[] out = new float[nImages * nTexts];
        Kernels.linear(parallel, imageEmbeds, nImages, p, textEmbeds, null, nTexts, out);
        float s = (float) Math.exp(logitScale);
        for (int i = 0; i < out.length; i++) {
            out[i] *= s;
        }
        return out;
    }

    /**
     * CLIP's symmetric contrastive loss over {@code n} matched pairs (image i with text i): the
     * mean of the image-to-text and text-to-image cross-entropies.
     *
     * @param logitsPerImage [n, n] from {@link #logitsPerImage}
     */
    public static double contrastiveLoss(float[] logitsPerImage, int n) {
        return BlipModel.contrastiveLoss(logitsPerImage, n, n);
    }
}
