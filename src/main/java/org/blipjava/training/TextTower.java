package org.blipjava.training;

import org.blipjava.config.BlipTextConfig;

/**
 * The trainable BERT-style text transformer (under {@code text_encoder.}, {@code text_decoder.bert.}
 * or {@code text_model.}) in its three modes: text alone, image-grounded encoder (cross-attention),
 * causal decoder (cross-attention). Masks as the reference: self-attention
 * {@code (1 - mask) * -10000}, cross-attention {@code (1 - mask) * float32.min}.
 */
public final class TextTower {
    /**
     * What the cross-attention reads, already repeated per text row.
     *
     * @param states [rows*len, width]: row r's conditioning positions
     * @param len    positions per row
     * @param width  their width (the config's {@code encoder_hidden_size})
     * @param mask   [rows][len] 1 = attend, 0 = ignore; null for all ones
     */
    public record Cross(Tensor states, int len, int width, int[][] mask) {}

    private final Parameters params;
    private final String prefix;
    private final BlipTextConfig config;

    /** @param prefix the key prefix, for example {@code "text_decoder.bert."} */
    public TextTower(Parameters params, String prefix, BlipTextConfig config) {
        this.params = params;
        this.prefix = prefix;
        this.config = config;
        params.get(prefix + "embeddings.word_embeddings.weight"); // fail early on the wrong checkpoint
    }

    public BlipTextConfig config() {
        return config;
    }

    private Parameter p(String name) {
        return params.get(prefix + name);
    }

    /**
     * Runs the transformer over padded rows of equal length.
     *
     * @param ids    [rows][len] token ids, used as given
     * @param mask   [rows][len] attention mask, or null for all ones
     * @param causal true for the decoder
     * @param cross  conditioning per row, or null for text alone (cross-attention skipped)
     * @return the last hidden state [rows*len, hidden]
     */
    public Tensor forward(Tape t, int[][] ids, int[][] mask, boolean causal, Cross cross) {
        int rows = ids.length;
        int len = ids[0].length;
        int d = config.hiddenSize();
        if (len > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("sequence of " + len + " tokens exceeds max_position_embeddings "
                    + config.maxPositionEmbeddings());
        }
        int[] flat = new int[rows * len];
        int[] positions = new int[rows * len];
        for (int r = 0; r < rows; r++) {
            if (ids[r].length != len) {
                throw new IllegalArgumentException("ids row " + r + " has length " + ids[r].length + ", expected " + len
                        + " (pad every row to the same length)");
            }
            System.arraycopy(ids[r], 0, flat, r * len, len);
            for (int j = 0; j < len; j++) {
                positions[r * len + j] = j;
            }
        }
        Tensor words = Ops.gather(t, p("embeddings.word_embeddings.weight"), d, flat);
        Tensor pos = Ops.gather(t, p("embeddings.position_embeddings.weight"), d, positions);
        double eps = config.layerNormEps();
        Tensor x = Ops.layerNorm(t, Ops.add(t, words, pos), rows * len, d, p("embeddings.LayerNorm.weight"),
                p("embeddings.LayerNorm.bias"), eps);
        if (cross != null && cross.width() != config.encoderHiddenSize()) {
            throw new IllegalArgumentException("cross-attention input width " + cross.width()
                    + " does not match the text config's encoder_hidden_size " + config.encoderHiddenSize());
        }
        if (cross != null && cross.states().size() != rows * cross.len() * cross.width()) {
            throw new IllegalArgumentException("cross-attention states have " + cross.states().size()
                    + " floats, expected rows*len*width = " + rows * cross.len() * cross.width()
                    + " (repeat each conditioning input once per text row)");
        }
        float[] selfMask = additive(mask, rows, len, Ops.SELF_MASK_VALUE, "attention mask");
        float[] crossMask = cross == null ? null : additive(cross.mask(), rows, cross.len(), -Float.MAX_VALUE,
                "cross-attention mask");
        int tokens = rows * len;
        int heads = config.numAttentionHeads();
        int hd = config.headDim();
        int inter = config.intermediateSize();
        for (int l = 0; l < config.numHiddenLayers(); l++) {
            String lp = "encoder.layer." + l + ".";
            Tensor q = linear(t, x, tokens, lp + "attention.self.query", d, d);
            Tensor k = linear(t, x, tokens, lp + "attention.self.key", d, d);
            Tensor v = linear(t, x, tokens, lp + "attention.self.value", d, d);
            Tensor ctx = Ops.attention(t, q, k, v, rows, len, len, heads, hd, causal, selfMask);
            Tensor h = residualNorm(t, ctx, x, tokens, lp + "attention.output.");
            if (cross != null) {
                int crossRows = rows * cross.len();
                Tensor cq = linear(t, h, tokens, lp + "crossattention.self.query", d, d);
                Tensor ck = linear(t, cross.states(), crossRows, lp + "crossattention.self.key", cross.width(), d);
                Tensor cv = linear(t, cross.states(), crossRows, lp + "crossattention.self.value", cross.width(), d);
                Tensor cctx = Ops.attention(t, cq, ck, cv, rows, len, cross.len(), heads, hd, false, crossMask);
                h = residualNorm(t, cctx, h, tokens, lp + "crossattention.output.");
            }
            Tensor mid = Ops.gelu(t, linear(t, h, tokens, lp + "intermediate.dense", d, inter));
            Tensor out = linear(t, mid, tokens, lp + "output.dense", inter, d);
            x = Ops.layerNorm(t, Ops.add(t, out, h), tokens, d, p(lp + "output.LayerNorm.weight"),
                    p(lp + "output.LayerNorm.bias"), eps);
        }
        return x;
    }

    /** The BERT pooler {@code tanh(pooler.dense(hidden[:, 0]))}, [rows, hidden]. */
    public Tensor pool(Tape t, Tensor hidden, int rows, int len) {
        int d = config.hiddenSize();
        Tensor cls = firstTokens(t, hidden, rows, len, d);
        return Ops.tanh(t, linear(t, cls, rows, "pooler.dense", d, d));
    }

    /** Position 0 of every row of [rows*len, d], [rows, d]. */
    public static Tensor firstTokens(Tape t, Tensor hidden, int rows, int len, int d) {
        int[] idx = new int[rows];
        for (int r = 0; r < rows; r++) {
            idx[r] = r * len;
        }
        return Ops.gather(t, hidden, d, idx);
    }

    private Tensor linear(Tape t, Tensor x, int rows, String name, int in, int out) {
        return Ops.linear(t, x, rows, in, p(name + ".weight"), p(name + ".bias"), out);
    }

    private Tensor residualNorm(Tape t, Tensor ctx, Tensor residual, int tokens, String lp) {
        int d = config.hiddenSize();
        Tensor y = Ops.add(t, linear(t, ctx, tokens, lp + "dense", d, d), residual);
        return Ops.layerNorm(t, y, tokens, d, p(lp + "LayerNorm.weight"), p(lp + "LayerNorm.bias"),
                config.layerNormEps());
    }

    private static float[] additive(int[][] mask, int rows, int len, float value, String what) {
        if (mask == null) {
            return null;
        }
        if (mask.length != rows) {
            throw new IllegalArgumentException(what + " has " + mask.length + " rows, expected " + rows);
        }
        float[] out = new float[rows * len];
        for (int r = 0; r < rows; r++) {
            if (mask[r].length != len) {
                throw new IllegalArgumentException(what + " row " + r + " has length " + mask[r].length + ", expected "
                        + len);
            }
            for (int j = 0; j < len; j++) {
                out[r * len + j] = (1f - mask[r][j]) * value;
            }
        }
        return out;
    }
}
