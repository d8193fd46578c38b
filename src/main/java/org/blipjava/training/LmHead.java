package org.blipjava.training;

import org.blipjava.config.BlipTextConfig;

/**
 * The trainable language-model head ({@code <prefix>cls.predictions.*}): dense, GELU, layer norm,
 * then the vocabulary projection with {@code cls.predictions.bias} (tied to
 * {@code decoder.bias}; the projection falls back to the word embeddings when tied, see
 * {@link Parameters}).
 */
public final class LmHead {
    private final Parameters params;
    private final String prefix;
    private final BlipTextConfig config;

    /** @param prefix the head's prefix, for example {@code "text_decoder."} */
    public LmHead(Parameters params, String prefix, BlipTextConfig config) {
        this.params = params;
        this.prefix = prefix + "cls.predictions.";
        this.config = config;
        params.get(this.prefix + "bias");
    }

    /** Next-token logits for hidden states [rows, hidden]: [rows, vocab]. */
    public Tensor logits(Tape t, Tensor hidden, int rows) {
        int d = config.hiddenSize();
        Tensor h = Ops.gelu(t, Ops.linear(t, hidden, rows, d, params.get(prefix + "transform.dense.weight"),
                params.get(prefix + "transform.dense.bias"), d));
        h = Ops.layerNorm(t, h, rows, d, params.get(prefix + "transform.LayerNorm.weight"),
                params.get(prefix + "transform.LayerNorm.bias"), config.layerNormEps());
        return Ops.linear(t, h, rows, d, params.get(prefix + "decoder.weight"), params.get(prefix + "bias"),
                config.vocabSize());
    }

    /**
     * The causal LM loss of the reference: position t predicts {@code labels[t+1]}, -100 is
     * ignored, the mean is over the rest, with label smoothing as {@code CrossEntropyLoss}.
     *
     * @param logits [rows*len, vocab]
     */
    public Tensor loss(Tape t, Tensor logits, int[][] labels, double labelSmoothing) {
        int rows = labels.length;
        int len = labels[0].length;
        int[] shifted = new int[rows * len];
        for (int r = 0; r < rows; r++) {
            if (labels[r].length != len) {
                throw new IllegalArgumentException("labels row " + r + " has length " + labels[r].length
                        + ", expected " + len);
            }
            for (int j = 0; j < len; j++) {
                shifted[r * len + j] = j + 1 < len ? labels[r][j + 1] : -100;
            }
        }
        return Ops.crossEntropy(t, logits, rows * len, config.vocabSize(), shifted, labelSmoothing);
    }
}
