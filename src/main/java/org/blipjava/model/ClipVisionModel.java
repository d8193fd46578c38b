package org.blipjava.model;

import org.blipjava.checkpoint.StateDict;
import org.blipjava.config.ClipVisionConfig;
import org.blipjava.tensor.Kernels;
import org.blipjava.tensor.Parallel;
import org.blipjava.tensor.WeightPrecision;

/**
 * CLIP's vision transformer ({@code vision_model.*} of a {@code CLIPModel}): a patch convolution
 * without bias, a class token, learned position embeddings, {@code pre_layrnorm} (the reference's
 * spelling), pre-norm encoder blocks, and {@code post_layernorm} on the class token only.
 *
 * <p>Immutable and thread-safe after loading; every call allocates its own activations.
 */
public final class ClipVisionModel {
    /**
     * The vision tower's result for a batch.
     *
     * @param lastHiddenState the last block's output, [batch, seqLen, hidden]; unlike BLIP, not normalized
     * @param pooled          {@code post_layernorm} of the class token (position 0), [batch, hidden]: the
     *                        reference's {@code pooler_output}
     */
    public record Output(float[] lastHiddenState, float[] pooled, int batch, int seqLen, int hidden) {}

    private final ClipVisionConfig config;
    private final Parallel parallel;
    private final float[] classEmbedding;
    private final PatchEmbedding patchEmbedding; // conv weight [D, C, p, p] viewed as [D, C*p*p], no bias
    private final float[] positionEmbedding;
    private final LayerNorm preLayrnorm;
    private final ClipEncoder encoder;
    private final LayerNorm postLayernorm;

    private ClipVisionModel(ClipVisionConfig config, Parallel parallel, float[] classEmbedding, PatchEmbedding patchEmbedding,
                            float[] positionEmbedding, LayerNorm preLayrnorm, ClipEncoder encoder,
                            LayerNorm postLayernorm) {
        this.config = config;
        this.parallel = parallel;
        this.classEmbedding = classEmbedding;
        this.patchEmbedding = patchEmbedding;
        this.positionEmbedding = positionEmbedding;
        this.preLayrnorm = preLayrnorm;
        this.encoder = encoder;
        this.postLayernorm = postLayernorm;
    }

    /**
     * Takes the vision weights under {@code prefix} ({@code "vision_model."} in a {@code CLIPModel}),
     * marking the {@code embeddings.position_ids} buffer that older checkpoints hold as used.
     *
     * @param parallel  the threads kernels run on; owned by the caller and used for every call
     * @param precision how the attention and MLP weights are stored (float32 accumulation either way)
     * @throws IllegalArgumentException when {@code hidden_act} is not one this port runs
     */
    public static ClipVisionModel load(StateDict sd, String prefix, ClipVisionConfig config, Parallel parallel,
                                       WeightPrecision precision) {
        ClipEncoder.Activation act = ClipEncoder.Activation.parse(config.hiddenAct(), "vision_config");
        int d = config.hiddenSize();
        int c = config.numChannels();
        int p = config.patchSize();
        double eps = config.layerNormEps();
        sd.ignore(prefix + "embeddings.position_ids");
        float[] cls = sd.floats(prefix + "embeddings.class_embedding", d);
        float[] conv = sd.floats(prefix + "embeddings.patch_embedding.weight", d, c, p, p);
        float[] pos = sd.floats(prefix + "embeddings.position_embedding.weight", config.numPositions(), d);
        LayerNorm pre = LayerNorm.load(sd, prefix + "pre_layrnorm", d, eps);
        ClipEncoder encoder = ClipEncoder.load(sd, prefix + "encoder.", config.numHiddenLayers(), d,
                config.intermediateSize(), eps, act, precision);
        LayerNorm post = LayerNorm.load(sd, prefix + "post_layernorm", d, eps);
        return new ClipVisionModel(config, parallel, cls, new PatchEmbedding(new Linear(conv, null, c * p * p, d), c, p), pos,
                pre, encoder, post);
    }

    public ClipVisionConfig config() {
        return config;
    }

    /** Sequence length: the patches of an {@code image_size} image plus the class token. */
    public int seqLen() {
        return config.numPositions();
    }

    /**
     * Encodes a batch of normalized images.
     *
     * @param pixels [batch, channels, h, w], channel-first as the image processor produces
     * @param h      must equal the config's {@code image_size}, as {@code w}: the reference (4.40) has no
     *               position-embedding interpolation for CLIP, so other sizes are refused
     */
    public Output forward(float[] pixels, int batch, int h, int w) {
        int size = config.imageSize();
        if (h != size || w != size) {
            throw new IllegalArgumentException("CLIP vision input must be " + size + "x" + size
                    + " (the config's image_size), got " + h + "x" + w);
        }
        int d = config.hiddenSize();
        int seq = seqLen();
        float[] x = patchEmbedding.embed(parallel, pixels, batch, h, w, classEmbedding, positionEmbedding);
        int rows = batch * seq;
        preLayrnorm.apply(parallel, x, rows);
        encoder.forward(parallel, x, Kernels.AttentionSpec.dense(batch, seq, seq,
                config.numAttentionHeads(), config.headDim()), null);
        float[] pooled = new float[batch * d];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(x, b * seq * d, pooled, b * d, d);
        }
        postLayernorm.apply(parallel, pooled, batch);
        return new Output(x, pooled, batch, seq, d);
    }
}
