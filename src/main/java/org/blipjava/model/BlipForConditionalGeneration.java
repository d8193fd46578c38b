package org.blipjava.model;

import org.blipjava.checkpoint.StateDict;
import org.blipjava.config.BlipConfig;
import org.blipjava.generation.StepDecoder;
import org.blipjava.tensor.Parallel;
import org.blipjava.tensor.WeightPrecision;

/**
 * Image captioning ({@code vision_model.*}, {@code text_decoder.*}): the vision tower and a causal
 * decoder that cross-attends to every image position.
 *
 * <p>Immutable and thread-safe after loading.
 */
public final class BlipForConditionalGeneration {
    private final BlipConfig config;
    private final BlipVisionModel visionModel;
    private final BlipTextLMHeadModel textDecoder;

    private BlipForConditionalGeneration(BlipConfig config, BlipVisionModel visionModel, BlipTextLMHeadModel textDecoder) {
        this.config = config;
        this.visionModel = visionModel;
        this.textDecoder = textDecoder;
    }

    /**
     * Copies the weights out of {@code sd}; any key left untaken (other than buffers) is an error
     * naming it. The state dict's file may be closed afterwards.
     */
    public static BlipForConditionalGeneration load(StateDict sd, BlipConfig config, Parallel parallel) {
        return load(sd, config, parallel, WeightPrecision.F32);
    }

    /**
     * As {@link #load(StateDict, BlipConfig, Parallel)} with every linear layer's weight (and the
     * word table) stored at {@code precision}; products still accumulate in float32.
     */
    public static BlipForConditionalGeneration load(StateDict sd, BlipConfig config, Parallel parallel,
                                                    WeightPrecision precision) {
        BlipVisionModel vision = BlipVisionModel.load(sd, "vision_model.", config.vision(), parallel, precision);
        BlipTextLMHeadModel decoder = BlipTextLMHeadModel.load(sd, "text_decoder.", config.text(), parallel, precision);
        sd.requireAllTaken();
        return new BlipForConditionalGeneration(config, vision, decoder);
    }

    public BlipConfig config() {
        return config;
    }

    public BlipVisionModel visionModel() {
        return visionModel;
    }

    public BlipTextLMHeadModel textDecoder() {
        return textDecoder;
    }

    /** Encodes images [batch, 3, h, w]; the captioner reads {@code lastHiddenState}. */
    public BlipVisionModel.Output vision(float[] pixels, int batch, int h, int w) {
        return visionModel.forward(pixels, batch, h, w);
    }

    /**
     * The reference's {@code decoder_logits}: the decoder run over {@code inputIds} as given
     * ([CLS] first, not replaced by [DEC]), one row per image, [batch, len, vocab].
     */
    public float[] teacherForcedLogits(float[] pixels, int batch, int h, int w, int[][] inputIds, int[][] attentionMask) {
        return teacherForcedLogits(vision(pixels, batch, h, w), inputIds, attentionMask);
    }

    /** As {@link #teacherForcedLogits(float[], int, int, int, int[][], int[][])} from encoded images. */
    public float[] teacherForcedLogits(BlipVisionModel.Output images, int[][] inputIds, int[][] attentionMask) {
        if (inputIds.length != images.batch()) {
            throw new IllegalArgumentException(inputIds.length + " captions for " + images.batch() + " images");
        }
        return textDecoder.logits(inputIds, attentionMask, imageConditioning(images.lastHiddenState(), images.batch()), null);
    }

    /**
     * The captioning LM loss (mean over shifted, non-ignored positions).
     *
     * @param labels         [batch][len], usually the input ids with padding set to -100
     * @param labelSmoothing as {@code CrossEntropyLoss(label_smoothing=...)}
     */
    public double lmLoss(float[] pixels, int batch, int h, int w, int[][] inputIds, int[][] attentionMask,
                         int[][] labels, double labelSmoothing) {
        float[] logits = teacherForcedLogits(pixels, batch, h, w, inputIds, attentionMask);
        return BlipTextLMHeadModel.lmLoss(logits, batch, inputIds[0].length, textDecoder.vocabSize(), labels,
                labelSmoothing);
    }

    /**
     * Cached decoders over a batch of encoded images (every image position attended, as the
     * reference's {@code generate}).
     *
     * @param imageEmbeds the vision tower's {@code lastHiddenState} [batch, seq, hidden]
     * @param maxLength   the longest sequence a row may reach, prompt included
     */
    public StepDecoder.Factory decoderFactory(float[] imageEmbeds, int batch, int maxLength) {
        return textDecoder.decoderFactory(imageConditioning(imageEmbeds, batch), maxLength);
    }

    /**
     * The decoder's cross-attention probabilities over the image positions for one token sequence
     * (for attention maps), {@code [heads, ids.length, seq]}; see
     * {@link BlipTextModel#crossAttentionProbabilities}.
     *
     * @param imageEmbeds the vision tower's {@code lastHiddenState} of one image [seq, hidden]
     * @param ids the decoder input ids ({@code [DEC]} first)
     * @param layer 0-based decoder layer
     */
    public float[] crossAttention(float[] imageEmbeds, int[] ids, int layer) {
        return textDecoder.bert().crossAttentionProbabilities(ids, true, imageConditioning(imageEmbeds, 1), layer);
    }

    private Conditioning imageConditioning(float[] imageEmbeds, int batch) {
        int d = visionModel.hiddenSize();
        if (batch < 1 || imageEmbeds.length % (batch * d) != 0) {
            throw new IllegalArgumentException("image embeddings of " + imageEmbeds.length
                    + " floats are not [" + batch + ", seq, " + d + "]");
        }
        return Conditioning.unmasked(imageEmbeds, batch, imageEmbeds.length / (batch * d), d);
    }
}
