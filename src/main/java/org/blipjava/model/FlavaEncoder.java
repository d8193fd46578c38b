package org.blipjava.model;

import java.util.ArrayList;
import java.util.List;
import org.blipjava.checkpoint.StateDict;
import org.blipjava.config.ConfigException;
import org.blipjava.tensor.Kernels;
import org.blipjava.tensor.Parallel;
import org.blipjava.tensor.WeightPrecision;

/**
 * The transformer stack FLAVA's image, text and multimodal encoders share: {@code encoder.layer.N}
 * pre-norm blocks (ViT style), then the final {@code layernorm} and a {@code pooler}. The embeddings
 * differ per encoder and live in {@link FlavaModel}.
 *
 * <p>Immutable and thread-safe after loading; every call allocates its own activations.
 */
final class FlavaEncoder {
    /** One {@code FlavaLayer}; field names follow the checkpoint keys under {@code encoder.layer.N.}. */
    record Layer(LayerNorm layernormBefore, Linear query, Linear key, Linear value, Linear attentionOutputDense,
                 LayerNorm layernormAfter, Linear intermediateDense, Linear outputDense) {}

    private final List<Layer> layer;
    private final LayerNorm layernorm;
    private final Linear poolerDense;
    private final int hidden;
    private final int heads;

    private FlavaEncoder(List<Layer> layer, LayerNorm layernorm, Linear poolerDense, int hidden, int heads) {
        this.layer = List.copyOf(layer);
        this.layernorm = layernorm;
        this.poolerDense = poolerDense;
        this.hidden = hidden;
        this.heads = heads;
    }

    /**
     * Takes {@code prefix + "encoder.layer.N.*"}, {@code prefix + "layernorm"} and
     * {@code prefix + "pooler.dense"} (for example with prefix {@code "flava.image_model."}).
     *
     * @param what names the encoder's sub-config in errors ("image_config", ...)
     */
    static FlavaEncoder load(StateDict sd, String prefix, String what, int hidden, int layers, int heads,
                             int intermediate, String hiddenAct, double eps, boolean qkvBias,
                             WeightPrecision precision) {
        // Kernels.gelu is the exact erf GELU, which is what the reference's "gelu" is; other
        // activations would silently give other numbers, so they are refused.
        if (!"gelu".equals(hiddenAct)) {
            throw new ConfigException(what + ": hidden_act '" + hiddenAct
                    + "' is not supported; FLAVA is implemented with 'gelu' (the exact erf GELU) only");
        }
        List<Layer> out = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            String lp = prefix + "encoder.layer." + i + ".";
            String ap = lp + "attention.attention.";
            out.add(new Layer(
                    LayerNorm.load(sd, lp + "layernorm_before", hidden, eps),
                    Linear.load(sd, ap + "query", hidden, hidden, qkvBias, precision),
                    Linear.load(sd, ap + "key", hidden, hidden, qkvBias, precision),
                    Linear.load(sd, ap + "value", hidden, hidden, qkvBias, precision),
                    Linear.load(sd, lp + "attention.output.dense", hidden, hidden, true, precision),
                    LayerNorm.load(sd, lp + "layernorm_after", hidden, eps),
                    Linear.load(sd, lp + "intermediate.dense", hidden, intermediate, true, precision),
                    Linear.load(sd, lp + "output.dense", intermediate, hidden, true, precision)));
        }
        return new FlavaEncoder(out, LayerNorm.load(sd, prefix + "layernorm", hidden, eps),
                Linear.load(sd, prefix + "pooler.dense", hidden, hidden, true, precision), hidden, heads);
    }

    int hidden() {
        return hidden;
    }

    /**
     * Runs every layer over {@code x [batch*seq, D]} in place: afterwards x holds the last layer's
     * output, the state the reference reads as {@code hidden_states[-1]} (before the final layer norm).
     *
     * @param additiveMask [batch, seq] added to every query's scores of that row, or null
     */
    void layers(Parallel parallel, float[] x, int batch, int seq, float[] additiveMask) {
        int d = hidden;
        int rows = batch * seq;
        Kernels.AttentionSpec spec = Kernels.AttentionSpec.dense(batch, seq, seq, heads, d / heads);
        // One set of activation buffers for all layers of this pass.
        float[] hn = new float[rows * d];
        float[] q = new float[rows * d];
        float[] k = new float[rows * d];
        float[] v = new float[rows * d];
        float[] ctx = new float[rows * d];
        int inter = layer.isEmpty() ? 0 : layer.getFirst().intermediateDense().out();
        // The feed-forward block runs a slice of rows at a time so its intermediate activations stay
        // in cache between the two products and GELU (as in BLIP's vision tower).
        int chunk = Math.min(rows, BlipVisionModel.MLP_CHUNK_ROWS);
        float[] mid = new float[chunk * inter];
        for (Layer l : layer) {
            l.layernormBefore().apply(parallel, x, rows, hn);
            l.query().forward(parallel, hn, rows, q);
            l.key().forward(parallel, hn, rows, k);
            l.value().forward(parallel, hn, rows, v);
            Kernels.attention(parallel, spec, q, k, v, null, additiveMask, ctx);
            l.attentionOutputDense().forward(parallel, ctx, rows, hn);
            Kernels.addInPlace(x, hn, rows * d);
            l.layernormAfter().apply(parallel, x, rows, hn);
            for (int r0 = 0; r0 < rows; r0 += chunk) {
                int n = Math.min(chunk, rows - r0);
                l.intermediateDense().forward(parallel, hn, r0 * d, n, mid, 0);
                Kernels.gelu(parallel, mid, 0, n * inter);
                l.outputDense().forward(parallel, mid, 0, n, ctx, r0 * d);
            }
            Kernels.addInPlace(x, ctx, rows * d);
        }
    }

    /** The final {@code layernorm} of {@code x [rows, D]} into a new array. */
    float[] finalNorm(Parallel parallel, float[] x, int rows) {
        return layernorm.forward(parallel, x, rows);
    }

    /** The {@code pooler}: {@code tanh(dense(last[:, 0]))}, [batch, D]. */
    float[] pool(Parallel parallel, float[] last, int batch, int seq) {
        float[] first = BlipTextModel.firstTokens(last, batch, seq, hidden);
        float[] out = poolerDense.forward(parallel, first, batch);
        Kernels.tanh(out, out.length);
        return out;
    }
}
