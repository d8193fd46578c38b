package org.blipjava.model;

import org.blipjava.checkpoint.StateDict;
import org.blipjava.config.ClipTextConfig;
import org.blipjava.tensor.Kernels;
import org.blipjava.tensor.Parallel;
import org.blipjava.tensor.WeightPrecision;

/**
 * CLIP's text transformer ({@code text_model.*} of a {@code CLIPModel}): token and position
 * embeddings, causal pre-norm encoder blocks that also skip padding, {@code final_layer_norm} on
 * every position, and the pooled output read at the end-of-text position.
 *
 * <p>Immutable and thread-safe after loading; every call allocates its own activations.
 */
public final class ClipTextModel {
    /**
     * The text tower's result for a batch.
     *
     * @param lastHiddenState {@code final_layer_norm} of the last block, [batch, seqLen, hidden]
     * @param pooled          the row of {@code lastHiddenState} at each text's end position
     *                        ({@link #pooledPositions}), [batch, hidden]: the reference's {@code pooler_output}
     */
    public record Output(float[] lastHiddenState, float[] pooled, int batch, int seqLen, int hidden) {}

    /**
     * The additive score of a hidden key. The reference adds float32's lowest value for causality and
     * again for padding; the kernel adds one of the two, and this value keeps every score finite
     * (-FLT_MAX plus a score rounds to -FLT_MAX), so even a row whose visible keys are all padding
     * gives a uniform softmax rather than NaN.
     */
    static final float MASKED = -Float.MAX_VALUE;

    private final ClipTextConfig config;
    private final Parallel parallel;
    private final float[] tokenEmbedding;
    private final float[] positionEmbedding;
    private final ClipEncoder encoder;
    private final LayerNorm finalLayerNorm;

    private ClipTextModel(ClipTextConfig config, Parallel parallel, float[] tokenEmbedding, float[] positionEmbedding,
                          ClipEncoder encoder, LayerNorm finalLayerNorm) {
        this.config = config;
        this.parallel = parallel;
        this.tokenEmbedding = tokenEmbedding;
        this.positionEmbedding = positionEmbedding;
        this.encoder = encoder;
        this.finalLayerNorm = finalLayerNorm;
    }

    /**
     * Takes the text weights under {@code prefix} ({@code "text_model."} in a {@code CLIPModel}),
     * marking the {@code embeddings.position_ids} buffer that older checkpoints hold as used.
     *
     * @param parallel  the threads kernels run on; owned by the caller and used for every call
     * @param precision how the attention and MLP weights are stored (float32 accumulation either way)
     * @throws IllegalArgumentException when {@code hidden_act} is not one this port runs
     */
    public static ClipTextModel load(StateDict sd, String prefix, ClipTextConfig config, Parallel parallel,
                                     WeightPrecision precision) {
        ClipEncoder.Activation act = ClipEncoder.Activation.parse(config.hiddenAct(), "text_config");
        int d = config.hiddenSize();
        double eps = config.layerNormEps();
        sd.ignore(prefix + "embeddings.position_ids");
        float[] tokens = sd.floats(prefix + "embeddings.token_embedding.weight", config.vocabSize(), d);
        float[] pos = sd.floats(prefix + "embeddings.position_embedding.weight", config.maxPositionEmbeddings(), d);
        ClipEncoder encoder = ClipEncoder.load(sd, prefix + "encoder.", config.numHiddenLayers(), d,
                config.intermediateSize(), eps, act, precision);
        LayerNorm fin = LayerNorm.load(sd, prefix + "final_layer_norm", d, eps);
        return new ClipTextModel(config, parallel, tokens, pos, encoder, fin);
    }

    public ClipTextConfig config() {
        return config;
    }

    /**
     * Encodes a batch of equally long (padded) token sequences.
     *
     * @param inputIds      [batch][len] token ids, {@code 1 <= len <= max_position_embeddings}
     * @param attentionMask [batch][len] of 1 (token) and 0 (padding: no position attends to it), or null for
     *                      all ones. The CLIP tokenizer pads after the text; with padding in front, a query
     *                      whose visible keys are all padding attends to them evenly (the reference's
     *                      weights differ there, but such positions carry no text in either)
     */
    public Output forward(int[][] inputIds, int[][] attentionMask) {
        int batch = inputIds.length;
        if (batch < 1) {
            throw new IllegalArgumentException("at least one sequence is needed");
        }
        int len = inputIds[0].length;
        if (len < 1 || len > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("sequence length " + len + " is outside [1, max_position_embeddings = "
                    + config.maxPositionEmbeddings() + "]");
        }
        for (int b = 0; b < batch; b++) {
            if (inputIds[b].length != len) {
                throw new IllegalArgumentException("input_ids row " + b + " has " + inputIds[b].length
                        + " ids, row 0 has " + len + "; pad the batch to one length");
            }
        }
        float[] mask = attentionMask == null ? null : additiveMask(attentionMask, batch, len);
        int d = config.hiddenSize();
        float[] x = new float[batch * len * d];
        for (int b = 0; b < batch; b++) {
            Kernels.embedding(tokenEmbedding, config.vocabSize(), d, inputIds[b], x, b * len * d);
        }
        for (int b = 0; b < batch; b++) {
            int base = b * len * d;
            for (int i = 0; i < len * d; i++) {
                x[base + i] += positionEmbedding[i];
            }
        }
        // Causal: position i sees keys 0..i, so position 0 is always visible to every query.
        Kernels.AttentionSpec spec = Kernels.AttentionSpec.dense(batch, len, len, config.numAttentionHeads(),
                config.headDim()).withCausal(0, MASKED);
        encoder.forward(parallel, x, spec, mask);
        finalLayerNorm.apply(parallel, x, batch * len);
        int[] at = pooledPositions(inputIds);
        float[] pooled = new float[batch * d];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(x, (b * len + at[b]) * d, pooled, b * d, d);
        }
        return new Output(x, pooled, batch, len, d);
    }

    /**
     * The position each row's pooled output is read from, as the reference chooses it: the first
     * position holding {@code eos_token_id} (position 0 when the row has none, as the reference's
     * argmax over an all-false row gives), or, when the config holds the legacy eos id 2, the first
     * position of the row's largest id.
     */
    public int[] pooledPositions(int[][] inputIds) {
        int[] out = new int[inputIds.length];
        for (int b = 0; b < inputIds.length; b++) {
            int[] row = inputIds[b];
            int at = 0;
            if (config.poolsAtLargestId()) {
                for (int t = 1; t < row.length; t++) {
                    if (row[t] > row[at]) {
                        at = t;
                    }
                }
            } else {
                for (int t = 0; t < row.length; t++) {
                    if (row[t] == config.eosTokenId()) {
                        at = t;
                        break;
                    }
                }
            }
            out[b] = at;
        }
        return out;
    }

    /** {@code attention_mask} as additive scores per key: 0 for a token, {@link #MASKED} for padding. */
    private static float[] additiveMask(int[][] attentionMask, int batch, int len) {
        if (attentionMask.length != batch) {
            throw new IllegalArgumentException("attention_mask has " + attentionMask.length + " rows, input_ids "
                    + batch);
        }
        float[] out = new float[batch * len];
        for (int b = 0; b < batch; b++) {
            if (attentionMask[b].length != len) {
                throw new IllegalArgumentException("attention_mask row " + b + " has " + attentionMask[b].length
                        + " entries, input_ids rows have " + len);
            }
            for (int t = 0; t < len; t++) {
                int m = attentionMask[b][t];
                if (m != 0 && m != 1) {
                    throw new IllegalArgumentException("attention_mask[" + b + "][" + t + "] is " + m
                            + "; it must be 0 or 1");
                }
                out[b * len + t] = m == 1 ? 0f : MASKED;
            }
        }
        return out;
    }
}
