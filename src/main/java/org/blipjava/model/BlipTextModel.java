package org.blipjava.model;

import java.util.ArrayList;
import java.util.List;
import org.blipjava.checkpoint.StateDict;
import org.blipjava.config.BlipTextConfig;
import org.blipjava.tensor.Kernels;
import org.blipjava.tensor.PackedMatrix;
import org.blipjava.tensor.Parallel;
import org.blipjava.tensor.WeightPrecision;

/**
 * BLIP's BERT-style text transformer (the "MED" of the paper), under {@code text_encoder.*},
 * {@code text_decoder.bert.*} or {@code text_model.*} depending on the head.
 *
 * <p>Three modes, chosen per call: a bidirectional encoder of text alone (no conditioning), an
 * image-grounded encoder (bidirectional with cross-attention), and a causal decoder
 * (cross-attention to an image or a question). Masks are built as the reference builds them:
 * self-attention {@code (1 - mask) * -10000} (combined with the causal mask for the decoder),
 * cross-attention {@code (1 - mask) * float32.min}.
 *
 * <p>Immutable and thread-safe after loading.
 */
public final class BlipTextModel {
    /** Additive value of masked self-attention positions, as the reference's get_extended_attention_mask. */
    static final float SELF_MASK_VALUE = -10000f;

    record Attention(Linear query, Linear key, Linear value, Linear dense, LayerNorm layerNorm) {
        static Attention load(StateDict sd, String prefix, int d, int kvIn, double eps, WeightPrecision precision) {
            return new Attention(
                    Linear.load(sd, prefix + "self.query", d, d, true, precision),
                    Linear.load(sd, prefix + "self.key", kvIn, d, true, precision),
                    Linear.load(sd, prefix + "self.value", kvIn, d, true, precision),
                    Linear.load(sd, prefix + "output.dense", d, d, true, precision),
                    LayerNorm.load(sd, prefix + "output.LayerNorm", d, eps));
        }
    }

    record Layer(Attention attention, Attention crossattention, Linear intermediate, Linear output,
                 LayerNorm outputLayerNorm) {}

    /** One layer's cross-attention keys and values for every conditioning input, [entries, len, D]. */
    record CrossKV(float[] k, float[] v, int entries, int len, float[] additiveMask) {}

    /** A self-attention key/value store: entry r holds positions at {@code r*stride + pos*D}. */
    record SelfKV(float[] k, float[] v, int stride, int past) {}

    private final BlipTextConfig config;
    private final Parallel parallel;
    // The word table [vocab, D] packed as a linear weight: the tied LM head multiplies by it
    // directly, and a lookup reads one column, so the model holds a single copy.
    private final PackedMatrix wordEmbeddings;
    private final float[] positionEmbeddings;
    private final LayerNorm embeddingsLayerNorm;
    private final List<Layer> layers;
    private final Linear pooler;

    private BlipTextModel(BlipTextConfig config, Parallel parallel, PackedMatrix wordEmbeddings, float[] positionEmbeddings,
                          LayerNorm embeddingsLayerNorm, List<Layer> layers, Linear pooler) {
        this.config = config;
        this.parallel = parallel;
        this.wordEmbeddings = wordEmbeddings;
        this.positionEmbeddings = positionEmbeddings;
        this.embeddingsLayerNorm = embeddingsLayerNorm;
        this.layers = List.copyOf(layers);
        this.pooler = pooler;
    }

    /**
     * Takes the text transformer's weights under {@code prefix} (for example {@code "text_encoder."}).
     * Cross-attention weights are taken when the config says {@code is_decoder} (the reference
     * builds them then, for encoders too); {@code pooler.dense} when {@code withPooler}.
     */
    public static BlipTextModel load(StateDict sd, String prefix, BlipTextConfig config, boolean withPooler,
                                     Parallel parallel) {
        return load(sd, prefix, config, withPooler, parallel, WeightPrecision.F32);
    }

    /** As {@link #load(StateDict, String, BlipTextConfig, boolean, Parallel)} with weights stored at {@code precision}. */
    public static BlipTextModel load(StateDict sd, String prefix, BlipTextConfig config, boolean withPooler,
                                     Parallel parallel, WeightPrecision precision) {
        int d = config.hiddenSize();
        if (d % config.numAttentionHeads() != 0) {
            throw new IllegalArgumentException("text hidden_size " + d + " is not a multiple of num_attention_heads "
                    + config.numAttentionHeads());
        }
        double eps = config.layerNormEps();
        sd.ignore(prefix + "embeddings.position_ids");
        PackedMatrix word = PackedMatrix.ofLinearWeight(
                sd.take(prefix + "embeddings.word_embeddings.weight", config.vocabSize(), d), 0, config.vocabSize())
                .withPrecision(precision);
        float[] pos = sd.floats(prefix + "embeddings.position_embeddings.weight", config.maxPositionEmbeddings(), d);
        LayerNorm ln = LayerNorm.load(sd, prefix + "embeddings.LayerNorm", d, eps);
        List<Layer> layers = new ArrayList<>();
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            String lp = prefix + "encoder.layer." + i + ".";
            Attention self = Attention.load(sd, lp + "attention.", d, d, eps, precision);
            Attention cross = config.isDecoder()
                    ? Attention.load(sd, lp + "crossattention.", d, config.encoderHiddenSize(), eps, precision) : null;
            layers.add(new Layer(self, cross,
                    Linear.load(sd, lp + "intermediate.dense", d, config.intermediateSize(), true, precision),
                    Linear.load(sd, lp + "output.dense", config.intermediateSize(), d, true, precision),
                    LayerNorm.load(sd, lp + "output.LayerNorm", d, eps)));
        }
        Linear pooler = withPooler ? Linear.load(sd, prefix + "pooler.dense", d, d, true, precision) : null;
        return new BlipTextModel(config, parallel, word, pos, ln, layers, pooler);
    }

    public BlipTextConfig config() {
        return config;
    }

    public int hiddenSize() {
        return config.hiddenSize();
    }

    /** The word embedding table [vocab, D], packed (the LM head uses it when its weight is tied). */
    PackedMatrix wordEmbeddings() {
        return wordEmbeddings;
    }

    Parallel parallel() {
        return parallel;
    }

    int numLayers() {
        return layers.size();
    }

    /** The weights of layer {@code l} (for the explanation code's own backward pass). */
    Layer layerAt(int l) {
        return layers.get(l);
    }

    /**
     * Runs the transformer over a batch of equally long (padded) sequences.
     *
     * @param ids          [batch][len] token ids
     * @param mask         [batch][len] attention mask (1 = token, 0 = padding), or null for all ones
     * @param causal       true for the decoder (each position sees itself and earlier ones)
     * @param conditioning encoder states for cross-attention, or null for text alone
     * @param rowEntry     conditioning input read by each row (null: row i reads input i); rows
     *                     that read the same input share its cross-attention keys and values
     * @return the last hidden state [batch, len, D]
     */
    public float[] forward(int[][] ids, int[][] mask, boolean causal, Conditioning conditioning, int[] rowEntry) {
        int batch = ids.length;
        int len = checkRectangular("ids", ids, -1);
        if (mask != null) {
            if (mask.length != batch) {
                throw new IllegalArgumentException("attention mask has " + mask.length + " rows but ids has " + batch);
            }
            checkRectangular("attention mask", mask, len);
        }
        CrossKV[] cross = conditioning == null ? null : crossKV(conditioning);
        int[] entries = entriesOf(rowEntry, batch, conditioning);
        float[] selfMask = null;
        if (mask != null) {
            selfMask = new float[batch * len];
            for (int b = 0; b < batch; b++) {
                for (int j = 0; j < len; j++) {
                    selfMask[b * len + j] = (1f - mask[b][j]) * SELF_MASK_VALUE;
                }
            }
        }
        // A workspace for this call alone: its hidden buffer, exactly [batch*len, D], is the result.
        Workspace ws = new Workspace(this, batch * len);
        for (int b = 0; b < batch; b++) {
            System.arraycopy(ids[b], 0, ws.ids, b * len, len);
        }
        float[] x = ws.hidden;
        embed(ws.ids, batch, len, 0, x);
        for (int l = 0; l < layers.size(); l++) {
            layer(l, x, batch, len, selfMask, len, causal, null, cross == null ? null : cross[l], entries, ws, x);
        }
        return x;
    }

    /**
     * The cross-attention probabilities of one layer for one sequence, for explaining what the text
     * looked at: {@code [heads, len, conditioning len]}, each row summing to 1. Runs the layers up
     * to and including that layer's cross-attention; the result is the softmax the forward pass
     * applies there.
     *
     * @param ids          the token ids of one sequence
     * @param causal       true for the decoder
     * @param conditioning one conditioning input (entries = 1)
     * @param layerIndex   0-based layer
     * @throws IllegalArgumentException when the layer does not exist or there is not exactly one input
     */
    public float[] crossAttentionProbabilities(int[] ids, boolean causal, Conditioning conditioning, int layerIndex) {
        if (layerIndex < 0 || layerIndex >= layers.size()) {
            throw new IllegalArgumentException("layer " + layerIndex + " does not exist; this text model has "
                    + layers.size() + " layers (0.." + (layers.size() - 1) + ")");
        }
        if (conditioning.entries() != 1) {
            throw new IllegalArgumentException("cross-attention maps are computed for one input, not "
                    + conditioning.entries());
        }
        int len = ids.length;
        if (len == 0) {
            throw new IllegalArgumentException("no token ids");
        }
        CrossKV[] cross = crossKV(conditioning);
        int[] entries = new int[1];
        float[] x = embed(ids.clone(), 1, len, 0);
        for (int l = 0; l < layerIndex; l++) {
            x = layer(l, x, 1, len, null, len, causal, null, cross[l], entries);
        }
        // The target layer's self-attention block, as in layer(), then its cross-attention scores.
        Layer layer = layers.get(layerIndex);
        int d = config.hiddenSize();
        int heads = config.numAttentionHeads();
        int hd = config.headDim();
        Attention sa = layer.attention();
        Kernels.AttentionSpec spec = Kernels.AttentionSpec.dense(1, len, len, heads, hd).withKvStride(len * d)
                .withMaskStride(len);
        if (causal) {
            spec = spec.withCausal(0, SELF_MASK_VALUE);
        }
        float[] ctx = new float[len * d];
        Kernels.attention(parallel, spec, sa.query().forward(parallel, x, len), sa.key().forward(parallel, x, len),
                sa.value().forward(parallel, x, len), null, null, ctx);
        float[] h = new float[len * d];
        residualNorm(sa, ctx, x, len, h);
        float[] q = layer.crossattention().query().forward(parallel, h, len);
        CrossKV kv = cross[layerIndex];
        int m = kv.len();
        float[] add = kv.additiveMask();
        float scale = (float) (1.0 / Math.sqrt(hd));
        float[] out = new float[heads * len * m];
        for (int head = 0; head < heads; head++) {
            for (int t = 0; t < len; t++) {
                int o = (head * len + t) * m;
                for (int j = 0; j < m; j++) {
                    float sc = Kernels.dot(q, t * d + head * hd, kv.k(), j * d + head * hd, hd) * scale;
                    out[o + j] = add == null ? sc : sc + add[j];
                }
                Kernels.softmaxRow(out, o, m);
            }
        }
        return out;
    }

    /** The BERT pooler: {@code tanh(dense(hidden[:, 0]))}, [batch, D]; needs the pooler weights. */
    public float[] pool(float[] hidden, int batch, int len) {
        if (pooler == null) {
            throw new IllegalStateException("this text model was loaded without pooler weights");
        }
        float[] cls = firstTokens(hidden, batch, len, config.hiddenSize());
        float[] out = pooler.forward(parallel, cls, batch);
        Kernels.tanh(out, out.length);
        return out;
    }

    /** The first position of every row of [batch, len, d], [batch, d]. */
    static float[] firstTokens(float[] hidden, int batch, int len, int d) {
        float[] out = new float[batch * d];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(hidden, b * len * d, out, b * d, d);
        }
        return out;
    }

    /** Computes every layer's cross-attention keys and values once for a batch of conditioning inputs. */
    CrossKV[] crossKV(Conditioning c) {
        if (c.width() != config.encoderHiddenSize()) {
            throw new IllegalArgumentException("conditioning width " + c.width()
                    + " does not match the text config's encoder_hidden_size " + config.encoderHiddenSize());
        }
        CrossKV[] out = new CrossKV[layers.size()];
        float[] add = c.additiveMask();
        int rows = c.entries() * c.len();
        for (int l = 0; l < layers.size(); l++) {
            Attention ca = layers.get(l).crossattention();
            if (ca == null) {
                throw new IllegalStateException("this text model has no cross-attention (its config has is_decoder"
                        + " false), so it cannot read image or question embeddings");
            }
            out[l] = new CrossKV(ca.key().forward(parallel, c.states(), rows), ca.value().forward(parallel, c.states(), rows),
                    c.entries(), c.len(), add);
        }
        return out;
    }

    /** Word plus position embeddings (positions {@code start..start+len-1}), layer-normalized, [rows*len, D]. */
    float[] embed(int[] flatIds, int rows, int len, int start) {
        float[] x = new float[rows * len * config.hiddenSize()];
        embed(flatIds, rows, len, start, x);
        return x;
    }

    /** As {@link #embed(int[], int, int, int)} from {@code flatIds[0..rows*len)} into {@code x}. */
    void embed(int[] flatIds, int rows, int len, int start, float[] x) {
        int d = config.hiddenSize();
        if (start + len > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("sequence of " + (start + len) + " tokens exceeds max_position_embeddings "
                    + config.maxPositionEmbeddings());
        }
        for (int i = 0; i < rows * len; i++) {
            int id = flatIds[i];
            if (id < 0 || id >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + id + " at position " + i
                        + " is outside the vocabulary [0, " + config.vocabSize() + ")");
            }
            wordEmbeddings.copyColumn(id, x, i * d);
        }
        for (int r = 0; r < rows; r++) {
            for (int t = 0; t < len; t++) {
                int o = (r * len + t) * d;
                int po = (start + t) * d;
                for (int i = 0; i < d; i++) {
                    x[o + i] += positionEmbeddings[po + i];
                }
            }
        }
        embeddingsLayerNorm.apply(parallel, x, rows * len);
    }

    /**
     * One transformer layer over {@code x [rows*n, D]}.
     *
     * @param selfMask   additive self-attention key mask [rows, maskStride], or null
     * @param cache      where this layer's keys/values live (the new ones are appended at
     *                   {@code cache.past()}); null: keys/values are those of {@code x} alone
     * @param cross      this layer's cross-attention keys/values, or null to skip cross-attention
     * @param rowEntry   conditioning input of each row
     * @return the layer's output [rows*n, D], a new array
     */
    float[] layer(int l, float[] x, int rows, int n, float[] selfMask, int maskStride, boolean causal,
                  SelfKV cache, CrossKV cross, int[] rowEntry) {
        Workspace ws = new Workspace(this, rows * n);
        layer(l, x, rows, n, selfMask, maskStride, causal, cache, cross, rowEntry, ws, ws.hidden);
        return ws.hidden;
    }

    /**
     * As {@link #layer(int, float[], int, int, float[], int, boolean, SelfKV, CrossKV, int[])} with
     * every intermediate activation in {@code ws} (which must hold {@code rows*n} tokens) and the
     * output written into {@code out} [rows*n, D], which may be {@code x} itself (x is last read
     * before the output is first written).
     */
    void layer(int l, float[] x, int rows, int n, float[] selfMask, int maskStride, boolean causal,
               SelfKV cache, CrossKV cross, int[] rowEntry, Workspace ws, float[] out) {
        Layer layer = layers.get(l);
        int d = config.hiddenSize();
        int heads = config.numAttentionHeads();
        int hd = config.headDim();
        int tokens = rows * n;
        if (ws.capacity < tokens) {
            throw new IllegalArgumentException("workspace holds " + ws.capacity + " tokens, the layer runs " + tokens);
        }
        Attention sa = layer.attention();
        float[] q = ws.q;
        float[] k = ws.k;
        float[] v = ws.v;
        sa.query().forward(parallel, x, tokens, q);
        sa.key().forward(parallel, x, tokens, k);
        sa.value().forward(parallel, x, tokens, v);
        float[] kAll = k;
        float[] vAll = v;
        int past = 0;
        int stride = n * d;
        if (cache != null) {
            past = cache.past();
            stride = cache.stride();
            for (int r = 0; r < rows; r++) {
                System.arraycopy(k, r * n * d, cache.k(), r * stride + past * d, n * d);
                System.arraycopy(v, r * n * d, cache.v(), r * stride + past * d, n * d);
            }
            kAll = cache.k();
            vAll = cache.v();
        }
        Kernels.AttentionSpec spec = Kernels.AttentionSpec.strided(rows, n, past + n, heads, hd, stride, maskStride);
        if (causal) {
            spec = spec.withCausal(past, SELF_MASK_VALUE);
        }
        float[] ctx = ws.ctx;
        Kernels.attention(parallel, spec, q, kAll, vAll, null, selfMask, ctx, ws.attention);
        float[] h = ws.h;
        residualNorm(sa, ctx, x, tokens, h);
        if (cross != null) {
            Attention ca = layer.crossattention();
            ca.query().forward(parallel, h, tokens, q);
            Kernels.AttentionSpec cs = Kernels.AttentionSpec.strided(rows, n, cross.len(), heads, hd, cross.len() * d,
                    cross.len());
            Kernels.attention(parallel, cs, q, cross.k(), cross.v(), rowEntry, cross.additiveMask(), ctx, ws.attention);
            residualNorm(ca, ctx, h, tokens, ws.crossH);
            h = ws.crossH;
        }
        // The feed-forward block runs a slice of rows at a time so its intermediate activations
        // stay in cache between the two products and GELU (as in the vision tower).
        int inter = layer.intermediate().out();
        int chunk = Math.min(tokens, BlipVisionModel.MLP_CHUNK_ROWS);
        float[] mid = ws.mid;
        for (int r0 = 0; r0 < tokens; r0 += chunk) {
            int rows0 = Math.min(chunk, tokens - r0);
            layer.intermediate().forward(parallel, h, r0 * d, rows0, mid, 0);
            Kernels.gelu(parallel, mid, 0, rows0 * inter);
            layer.output().forward(parallel, mid, 0, rows0, out, r0 * d);
        }
        Kernels.addInPlace(out, h, tokens * d);
        layer.outputLayerNorm().apply(parallel, out, tokens);
    }

    /** {@code y = LayerNorm(dense(ctx) + residual)} over {@code tokens} rows; y is neither input. */
    private void residualNorm(Attention a, float[] ctx, float[] residual, int tokens, float[] y) {
        a.dense().forward(parallel, ctx, tokens, y);
        Kernels.addInPlace(y, residual, tokens * config.hiddenSize());
        a.layerNorm().apply(parallel, y, tokens);
    }

    /**
     * The activations of {@link #layer} (and the token ids and hidden state of a whole pass) for up
     * to {@link #capacity} tokens (rows x positions), so that a caller running many steps (a cached
     * decoder) allocates them once. Each caller owns its own: the model holds none, and one
     * workspace must not be used by two passes at once.
     */
    static final class Workspace {
        private final int width;
        private final int intermediate;
        final Kernels.AttentionScratch attention;
        private int capacity;
        int[] ids;
        float[] hidden;
        private float[] q;
        private float[] k;
        private float[] v;
        private float[] ctx;
        private float[] h;
        private float[] crossH;
        private float[] mid;

        /** Room for {@code tokens} tokens; attention scratch sized by the first call that needs it. */
        Workspace(BlipTextModel model, int tokens) {
            this(model, tokens, new Kernels.AttentionScratch());
        }

        Workspace(BlipTextModel model, int tokens, Kernels.AttentionScratch attention) {
            this.width = model.hiddenSize();
            this.intermediate = model.config.intermediateSize();
            this.attention = attention;
            ensure(tokens);
        }

        int capacity() {
            return capacity;
        }

        /** Grows every buffer to hold {@code tokens} tokens; does nothing when they already do. */
        void ensure(int tokens) {
            if (tokens <= capacity) {
                return;
            }
            capacity = tokens;
            ids = new int[tokens];
            hidden = new float[tokens * width];
            q = new float[tokens * width];
            k = new float[tokens * width];
            v = new float[tokens * width];
            ctx = new float[tokens * width];
            h = new float[tokens * width];
            crossH = new float[tokens * width];
            mid = new float[Math.min(tokens, BlipVisionModel.MLP_CHUNK_ROWS) * intermediate];
        }
    }

    static int[] entriesOf(int[] rowEntry, int rows, Conditioning c) {
        if (c == null) {
            return null;
        }
        int[] e = rowEntry;
        if (e == null) {
            if (rows != c.entries()) {
                throw new IllegalArgumentException(rows + " text rows but " + c.entries()
                        + " conditioning inputs; pass which input each row reads");
            }
            e = new int[rows];
            for (int i = 0; i < rows; i++) {
                e[i] = i;
            }
        }
        if (e.length != rows) {
            throw new IllegalArgumentException("row-to-input map has " + e.length + " entries for " + rows + " rows");
        }
        for (int i = 0; i < e.length; i++) {
            if (e[i] < 0 || e[i] >= c.entries()) {
                throw new IllegalArgumentException("row " + i + " reads conditioning input " + e[i]
                        + ", but there are " + c.entries());
            }
        }
        return e;
    }

    static int checkRectangular(String what, int[][] a, int len) {
        if (a.length == 0) {
            throw new IllegalArgumentException(what + " is empty");
        }
        int n = len < 0 ? a[0].length : len;
        if (n == 0) {
            throw new IllegalArgumentException(what + " has empty rows");
        }
        for (int i = 0; i < a.length; i++) {
            if (a[i].length != n) {
                throw new IllegalArgumentException(what + " row " + i + " has length " + a[i].length + ", expected " + n
                        + " (pad every row to the same length)");
            }
        }
        return n;
    }
}
