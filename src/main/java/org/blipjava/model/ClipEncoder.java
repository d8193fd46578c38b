package org.blipjava.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.blipjava.checkpoint.StateDict;
import org.blipjava.tensor.Kernels;
import org.blipjava.tensor.Parallel;
import org.blipjava.tensor.WeightPrecision;

/**
 * The transformer stack CLIP's text and vision towers share ({@code encoder.layers.N.*}): pre-norm
 * blocks of self-attention and an MLP, each added back to the residual stream.
 *
 * <p>Immutable and thread-safe; every call allocates its own activations.
 */
final class ClipEncoder {
    /** The MLP activations the reference's {@code ACT2FN} offers that CLIP checkpoints use. */
    enum Activation {
        /** {@code x * sigmoid(1.702 x)}: OpenAI's CLIP and the reference's default. */
        QUICK_GELU("quick_gelu"),
        /** The exact (erf) GELU: LAION / open_clip conversions. */
        GELU("gelu");

        private final String configName;

        Activation(String configName) {
            this.configName = configName;
        }

        /**
         * The activation a config's {@code hidden_act} names.
         *
         * @throws IllegalArgumentException naming the value and the supported ones, for any other name (for
         *                                  example {@code gelu_new}, a tanh approximation: running it as
         *                                  another GELU would give silently different embeddings)
         */
        static Activation parse(String hiddenAct, String where) {
            String name = hiddenAct == null ? "" : hiddenAct.trim().toLowerCase(Locale.ROOT);
            for (Activation a : values()) {
                if (a.configName.equals(name)) {
                    return a;
                }
            }
            throw new IllegalArgumentException(where + ": hidden_act '" + hiddenAct + "' is not supported; CLIP models "
                    + "here run 'quick_gelu' or 'gelu'");
        }

        void apply(Parallel p, float[] x, int off, int n) {
            switch (this) {
                case QUICK_GELU -> Kernels.quickGelu(p, x, off, n);
                case GELU -> Kernels.gelu(p, x, off, n);
            }
        }
    }

    /** One block, its fields named after the checkpoint keys under {@code encoder.layers.N.}. */
    private record Layer(LayerNorm layerNorm1, Linear qProj, Linear kProj, Linear vProj, Linear outProj,
                         LayerNorm layerNorm2, Linear fc1, Linear fc2) {}

    /** Rows per slice of the MLP, as in {@link BlipVisionModel}: the intermediate activations stay in cache. */
    private static final int MLP_CHUNK_ROWS = BlipVisionModel.MLP_CHUNK_ROWS;

    private final List<Layer> layers;
    private final Activation activation;
    private final int hidden;
    private final int intermediate;

    private ClipEncoder(List<Layer> layers, Activation activation, int hidden, int intermediate) {
        this.layers = List.copyOf(layers);
        this.activation = activation;
        this.hidden = hidden;
        this.intermediate = intermediate;
    }

    /**
     * Takes {@code numLayers} blocks under {@code prefix} (for example {@code "text_model.encoder."}).
     * The attention and MLP weights are stored at {@code precision}; layer norms stay float32.
     */
    static ClipEncoder load(StateDict sd, String prefix, int numLayers, int hidden, int intermediate, double eps,
                            Activation activation, WeightPrecision precision) {
        List<Layer> layers = new ArrayList<>();
        for (int i = 0; i < numLayers; i++) {
            String lp = prefix + "layers." + i + ".";
            layers.add(new Layer(
                    LayerNorm.load(sd, lp + "layer_norm1", hidden, eps),
                    Linear.load(sd, lp + "self_attn.q_proj", hidden, hidden, true, precision),
                    Linear.load(sd, lp + "self_attn.k_proj", hidden, hidden, true, precision),
                    Linear.load(sd, lp + "self_attn.v_proj", hidden, hidden, true, precision),
                    Linear.load(sd, lp + "self_attn.out_proj", hidden, hidden, true, precision),
                    LayerNorm.load(sd, lp + "layer_norm2", hidden, eps),
                    Linear.load(sd, lp + "mlp.fc1", hidden, intermediate, true, precision),
                    Linear.load(sd, lp + "mlp.fc2", intermediate, hidden, true, precision)));
        }
        return new ClipEncoder(layers, activation, hidden, intermediate);
    }

    /**
     * Runs every block over {@code x [rows, hidden]} in place.
     *
     * @param spec the attention's shapes (and causality, for the text tower); {@code spec.rows() * spec.qLen()}
     *             rows of {@code x}
     * @param mask additive key mask [batch, seq] (padding), or null
     */
    void forward(Parallel p, float[] x, Kernels.AttentionSpec spec, float[] mask) {
        int rows = spec.rows() * spec.qLen();
        int d = hidden;
        int inter = intermediate;
        // One set of activation buffers for all blocks.
        float[] hn = new float[rows * d];
        float[] q = new float[rows * d];
        float[] k = new float[rows * d];
        float[] v = new float[rows * d];
        float[] ctx = new float[rows * d];
        // The MLP runs a slice of rows at a time so fc1, the activation and fc2 meet the
        // intermediate values in cache (see BlipVisionModel).
        int chunk = Math.min(rows, MLP_CHUNK_ROWS);
        float[] mid = new float[chunk * inter];
        for (Layer layer : layers) {
            layer.layerNorm1().apply(p, x, rows, hn);
            layer.qProj().forward(p, hn, rows, q);
            layer.kProj().forward(p, hn, rows, k);
            layer.vProj().forward(p, hn, rows, v);
            // The reference scales q by head_dim^-0.5 before q.k; the kernel scales q.k by the same
            // factor, which differs only by rounding.
            Kernels.attention(p, spec, q, k, v, null, mask, ctx);
            layer.outProj().forward(p, ctx, rows, hn);
            Kernels.addInPlace(x, hn, rows * d);
            layer.layerNorm2().apply(p, x, rows, hn);
            for (int r0 = 0; r0 < rows; r0 += chunk) {
                int n = Math.min(chunk, rows - r0);
                layer.fc1().forward(p, hn, r0 * d, n, mid, 0);
                activation.apply(p, mid, 0, n * inter);
                layer.fc2().forward(p, mid, 0, n, ctx, r0 * d);
            }
            Kernels.addInPlace(x, ctx, rows * d);
        }
    }
}
