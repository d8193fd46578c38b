package org.blipjava.model;

import java.util.ArrayList;
import java.util.List;
import org.blipjava.checkpoint.StateDict;
import org.blipjava.config.BlipVisionConfig;
import org.blipjava.tensor.Kernels;
import org.blipjava.tensor.Parallel;
import org.blipjava.tensor.WeightPrecision;

/**
 * BLIP's vision transformer ({@code vision_model.*}): a convolutional patch embedding, a class
 * token, learned position embeddings, pre-norm encoder layers and a final layer norm.
 *
 * <p>Immutable and thread-safe after loading; every call allocates its own activations.
 */
public final class BlipVisionModel {
    /**
     * The vision tower's result for a batch.
     *
     * @param lastHiddenState {@code post_layernorm} of the last layer, [batch, seqLen, hidden]
     * @param pooled          {@code post_layernorm} applied once more to the class token, [batch, hidden]
     *                        (the reference's {@code pooler_output})
     */
    public record Output(float[] lastHiddenState, float[] pooled, int batch, int seqLen, int hidden) {}

    private record Layer(LayerNorm layerNorm1, Linear q, Linear k, Linear v, Linear projection,
                         LayerNorm layerNorm2, Linear fc1, Linear fc2) {}

    /** Rows per slice of the MLP: its intermediate activations (~3.5 MB at BLIP-base width) stay in cache. */
    static final int MLP_CHUNK_ROWS = 288;

    private final BlipVisionConfig config;
    private final Parallel parallel;
    private final float[] classEmbedding;
    private final PatchEmbedding patchEmbedding; // conv weight [D, 3, p, p] viewed as [D, 3*p*p]
    private final float[] positionEmbedding;
    private final List<Layer> layers;
    private final LayerNorm postLayernorm;

    private BlipVisionModel(BlipVisionConfig config, Parallel parallel, float[] classEmbedding, PatchEmbedding patchEmbedding,
                            float[] positionEmbedding, List<Layer> layers, LayerNorm postLayernorm) {
        this.config = config;
        this.parallel = parallel;
        this.classEmbedding = classEmbedding;
        this.patchEmbedding = patchEmbedding;
        this.positionEmbedding = positionEmbedding;
        this.layers = List.copyOf(layers);
        this.postLayernorm = postLayernorm;
    }

    /**
     * Takes the vision weights under {@code prefix} (for example {@code "vision_model."}).
     *
     * @param parallel the threads kernels run on; owned by the caller and used for every call
     */
    public static BlipVisionModel load(StateDict sd, String prefix, BlipVisionConfig config, Parallel parallel) {
        return load(sd, prefix, config, parallel, WeightPrecision.F32);
    }

    /**
     * As {@link #load(StateDict, String, BlipVisionConfig, Parallel)} with the linear layers'
     * weights stored at {@code precision} (float32 accumulation either way).
     */
    public static BlipVisionModel load(StateDict sd, String prefix, BlipVisionConfig config, Parallel parallel,
                                       WeightPrecision precision) {
        int d = config.hiddenSize();
        int p = config.patchSize();
        double eps = config.layerNormEps();
        float[] cls = sd.floats(prefix + "embeddings.class_embedding", 1, 1, d);
        float[] convW = sd.floats(prefix + "embeddings.patch_embedding.weight", d, 3, p, p);
        float[] convB = sd.floats(prefix + "embeddings.patch_embedding.bias", d);
        float[] pos = sd.floats(prefix + "embeddings.position_embedding", 1, config.numPositions(), d);
        List<Layer> layers = new ArrayList<>();
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            String lp = prefix + "encoder.layers." + i + ".";
            // qkv is one fused [3D, D] projection laid out as (q | k | v); split it once here.
            String qkv = lp + "self_attn.qkv";
            layers.add(new Layer(
                    LayerNorm.load(sd, lp + "layer_norm1", d, eps),
                    Linear.loadRows(sd, qkv, d, 3 * d, 0, d, precision), Linear.loadRows(sd, qkv, d, 3 * d, d, d, precision),
                    Linear.loadRows(sd, qkv, d, 3 * d, 2 * d, d, precision),
                    Linear.load(sd, lp + "self_attn.projection", d, d, true, precision),
                    LayerNorm.load(sd, lp + "layer_norm2", d, eps),
                    Linear.load(sd, lp + "mlp.fc1", d, config.intermediateSize(), true, precision),
                    Linear.load(sd, lp + "mlp.fc2", config.intermediateSize(), d, true, precision)));
        }
        LayerNorm post = LayerNorm.load(sd, prefix + "post_layernorm", d, eps);
        return new BlipVisionModel(config, parallel, cls, new PatchEmbedding(new Linear(convW, convB, 3 * p * p, d), 3, p), pos, layers,
                post);
    }

    public BlipVisionConfig config() {
        return config;
    }

    /** Width of the embeddings. */
    public int hiddenSize() {
        return config.hiddenSize();
    }

    /** Sequence length (patches + class token) for an image of {@code h x w} pixels. */
    public int seqLen(int h, int w) {
        return (h / config.patchSize()) * (w / config.patchSize()) + 1;
    }

    /**
     * Encodes a batch of normalized images.
     *
     * @param pixels [batch, 3, h, w], channel-first as the image processor produces
     * @param h      image height; when it or {@code w} differs from the config's image size the
     *               position embeddings are interpolated bicubically
     */
    public Output forward(float[] pixels, int batch, int h, int w) {
        int p = config.patchSize();
        int d = config.hiddenSize();
        patchEmbedding.check(pixels, batch, h, w);
        int gh = h / p;
        int gw = w / p;
        int patches = gh * gw;
        int seq = patches + 1;
        float[] x = patchEmbedding.embed(parallel, pixels, batch, h, w, classEmbedding, positionsFor(gh, gw));
        int rows = batch * seq;
        int heads = config.numAttentionHeads();
        Kernels.AttentionSpec spec = Kernels.AttentionSpec.dense(batch, seq, seq, heads, config.headDim());
        // One set of activation buffers for all layers: a forward pass allocates them once.
        float[] hn = new float[rows * d];
        float[] q = new float[rows * d];
        float[] k = new float[rows * d];
        float[] v = new float[rows * d];
        float[] ctx = new float[rows * d];
        int inter = config.intermediateSize();
        // The MLP runs a slice of rows at a time: fc1, GELU and fc2 then meet the intermediate
        // activations in cache instead of streaming a [rows, intermediate] buffer through memory
        // three times (at batch 8 that buffer alone is 57 MB, beyond the last-level cache).
        int chunk = Math.min(rows, MLP_CHUNK_ROWS);
        float[] mid = new float[chunk * inter];
        for (Layer layer : layers) {
            layer.layerNorm1().apply(parallel, x, rows, hn);
            layer.q().forward(parallel, hn, rows, q);
            layer.k().forward(parallel, hn, rows, k);
            layer.v().forward(parallel, hn, rows, v);
            Kernels.attention(parallel, spec, q, k, v, null, null, ctx);
            layer.projection().forward(parallel, ctx, rows, hn);
            Kernels.addInPlace(x, hn, rows * d);
            layer.layerNorm2().apply(parallel, x, rows, hn);
            for (int r0 = 0; r0 < rows; r0 += chunk) {
                int n = Math.min(chunk, rows - r0);
                layer.fc1().forward(parallel, hn, r0 * d, n, mid, 0);
                Kernels.gelu(parallel, mid, 0, n * inter);
                layer.fc2().forward(parallel, mid, 0, n, ctx, r0 * d);
            }
            Kernels.addInPlace(x, ctx, rows * d);
        }
        postLayernorm.apply(parallel, x, rows);
        float[] cls = new float[batch * d];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(x, b * seq * d, cls, b * d, d);
        }
        // The reference normalizes the (already normalized) class token a second time for pooler_output.
        postLayernorm.apply(parallel, cls, batch);
        return new Output(x, cls, batch, seq, d);
    }

    /** Position embeddings for a {@code gh x gw} patch grid: the stored ones, or bicubically resized. */
    private float[] positionsFor(int gh, int gw) {
        int n = config.patchesPerSide();
        if (gh == n && gw == n) {
            return positionEmbedding;
        }
        int d = config.hiddenSize();
        float[] out = new float[(gh * gw + 1) * d];
        System.arraycopy(positionEmbedding, 0, out, 0, d);
        float[] grid = Interpolation.bicubic(positionEmbedding, d, n, n, d, gh, gw);
        System.arraycopy(grid, 0, out, d, gh * gw * d);
        return out;
    }
}
