package org.blipjava.model;

import org.blipjava.checkpoint.StateDict;
import org.blipjava.config.BlipTextConfig;
import org.blipjava.generation.StepDecoder;
import org.blipjava.tensor.Kernels;
import org.blipjava.tensor.Parallel;
import org.blipjava.tensor.WeightPrecision;

/**
 * The causal text decoder with its language-model head ({@code text_decoder.bert.*} and
 * {@code text_decoder.cls.predictions.*}): teacher-forced logits, the LM loss, and cached
 * step-by-step decoding for generation.
 *
 * <p>Immutable and thread-safe after loading.
 */
public final class BlipTextLMHeadModel {
    private final BlipTextModel bert;
    private final Linear transform;
    private final LayerNorm transformLayerNorm;
    private final Linear decoder; // [vocab, D] with cls.predictions.bias

    private BlipTextLMHeadModel(BlipTextModel bert, Linear transform, LayerNorm transformLayerNorm, Linear decoder) {
        this.bert = bert;
        this.transform = transform;
        this.transformLayerNorm = transformLayerNorm;
        this.decoder = decoder;
    }

    /**
     * Takes {@code prefix + "bert.*"} and {@code prefix + "cls.predictions.*"} (prefix for example
     * {@code "text_decoder."}). {@code cls.predictions.decoder.bias} may be present or absent: it
     * is the same tensor as {@code cls.predictions.bias}. When {@code cls.predictions.decoder.weight}
     * is absent (tied and deduplicated on save) the word embeddings are used, as the reference ties them.
     */
    public static BlipTextLMHeadModel load(StateDict sd, String prefix, BlipTextConfig config, Parallel parallel) {
        return load(sd, prefix, config, parallel, WeightPrecision.F32);
    }

    /** As {@link #load(StateDict, String, BlipTextConfig, Parallel)} with weights stored at {@code precision}. */
    public static BlipTextLMHeadModel load(StateDict sd, String prefix, BlipTextConfig config, Parallel parallel,
                                           WeightPrecision precision) {
        BlipTextModel bert = BlipTextModel.load(sd, prefix + "bert.", config, false, parallel, precision);
        int d = config.hiddenSize();
        int vocab = config.vocabSize();
        String cp = prefix + "cls.predictions.";
        Linear transform = Linear.load(sd, cp + "transform.dense", d, d, true, precision);
        LayerNorm ln = LayerNorm.load(sd, cp + "transform.LayerNorm", d, config.layerNormEps());
        org.blipjava.tensor.PackedMatrix w = sd.contains(cp + "decoder.weight")
                ? org.blipjava.tensor.PackedMatrix.ofLinearWeight(sd.take(cp + "decoder.weight", vocab, d), 0, vocab)
                        .withPrecision(precision)
                : bert.wordEmbeddings();
        float[] bias = sd.floats(cp + "bias", vocab);
        if (sd.contains(cp + "decoder.bias")) {
            sd.take(cp + "decoder.bias", vocab);
        }
        return new BlipTextLMHeadModel(bert, transform, ln, new Linear(w, bias, d, vocab));
    }

    /** The decoder's transformer. */
    public BlipTextModel bert() {
        return bert;
    }

    public int vocabSize() {
        return decoder.out();
    }

    /**
     * Teacher-forced next-token logits for every position, as the reference's {@code logits}.
     *
     * @param ids          [batch][len] decoder input ids, used as given
     * @param mask         [batch][len] attention mask, or null for all ones
     * @param conditioning what the cross-attention reads
     * @param rowEntry     conditioning input per row, or null for row i -> input i
     * @return [batch, len, vocab]
     */
    public float[] logits(int[][] ids, int[][] mask, Conditioning conditioning, int[] rowEntry) {
        float[] hidden = bert.forward(ids, mask, true, conditioning, rowEntry);
        return predict(hidden, ids.length * ids[0].length);
    }

    /** The LM head over hidden states [rows, D]: [rows, vocab]. */
    float[] predict(float[] hidden, int rows) {
        float[] out = new float[rows * vocabSize()];
        predict(hidden, rows, out);
        return out;
    }

    void predict(float[] hidden, int rows, float[] out) {
        predict(hidden, rows, new float[rows * bert.hiddenSize()], out);
    }

    /** As {@link #predict(float[], int, float[])} with the head's transform in {@code scratch} [rows, D]. */
    void predict(float[] hidden, int rows, float[] scratch, float[] out) {
        Parallel p = bert.parallel();
        transform.forward(p, hidden, rows, scratch);
        Kernels.gelu(p, scratch, rows * bert.hiddenSize());
        transformLayerNorm.apply(p, scratch, rows);
        decoder.forward(p, scratch, rows, out);
    }

    /**
     * The reference's causal LM loss: position t predicts {@code labels[t+1]}; labels of -100 are
     * ignored; the result is the mean over the remaining positions of cross-entropy with label
     * smoothing as {@code torch.nn.CrossEntropyLoss(label_smoothing=...)}.
     *
     * @param logits [batch, len, vocab]
     * @param labels [batch][len], -100 where ignored
     * @return the loss, or NaN when every label is ignored (as the reference)
     */
    public static double lmLoss(float[] logits, int batch, int len, int vocab, int[][] labels, double labelSmoothing) {
        if (labels.length != batch) {
            throw new IllegalArgumentException("labels has " + labels.length + " rows, logits " + batch);
        }
        BlipTextModel.checkRectangular("labels", labels, len);
        double total = 0;
        int count = 0;
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t + 1 < len; t++) {
                int label = labels[b][t + 1];
                if (label == -100) {
                    continue;
                }
                if (label < 0 || label >= vocab) {
                    throw new IllegalArgumentException("label " + label + " at row " + b + ", position " + (t + 1)
                            + " is outside the vocabulary [0, " + vocab + ") and is not -100");
                }
                total += crossEntropy(logits, (b * len + t) * vocab, vocab, label, labelSmoothing);
                count++;
            }
        }
        return total / count;
    }

    /** Cross-entropy of one row of logits against a label, with label smoothing. */
    static double crossEntropy(float[] logits, int off, int vocab, int label, double labelSmoothing) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            max = Math.max(max, logits[off + i]);
        }
        double sumExp = 0;
        double sumLogits = 0;
        for (int i = 0; i < vocab; i++) {
            sumExp += Math.exp(logits[off + i] - max);
            sumLogits += logits[off + i];
        }
        double lse = max + Math.log(sumExp);
        double nll = lse - logits[off + label];
        double smooth = lse - sumLogits / vocab;
        return (1 - labelSmoothing) * nll + labelSmoothing * smooth;
    }

    /**
     * Cached decoders over a batch of conditioning inputs. The cross-attention keys and values are
     * computed here, once per input, and shared by every row (and every decoder) that reads it.
     *
     * @param maxLength the most tokens a row may hold (prompt included); bounds the cache
     */
    public StepDecoder.Factory decoderFactory(Conditioning conditioning, int maxLength) {
        if (maxLength < 1 || maxLength > bert.config().maxPositionEmbeddings()) {
            throw new IllegalArgumentException("maxLength must be in [1, " + bert.config().maxPositionEmbeddings()
                    + "] (max_position_embeddings), got " + maxLength);
        }
        BlipTextModel.CrossKV[] cross = bert.crossKV(conditioning);
        int entries = conditioning.entries();
        return rowInputs -> {
            for (int i = 0; i < rowInputs.length; i++) {
                if (rowInputs[i] < 0 || rowInputs[i] >= entries) {
                    throw new IllegalArgumentException("row " + i + " reads input " + rowInputs[i] + ", but the factory"
                            + " holds " + entries + " inputs");
                }
            }
            return new CachedDecoder(this, cross, rowInputs.clone(), maxLength);
        };
    }
}
