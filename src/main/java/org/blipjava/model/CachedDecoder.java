package org.blipjava.model;

import org.blipjava.generation.StepDecoder;
import org.blipjava.tensor.Kernels;

/**
 * A {@link StepDecoder} over {@link BlipTextLMHeadModel} with a per-row self-attention key/value
 * cache and cross-attention keys/values shared per conditioning input.
 *
 * <p>Cache buffers are allocated once when the decoder opens; {@link #select} reorders rows by
 * copying into a second buffer and swapping. The activations, attention scores and logits of a
 * step live in a workspace also allocated when the decoder opens (for one token per row; a longer
 * prompt step grows it once), so a one-token step allocates no buffers. With several threads the
 * kernels' parallel loops still allocate a few small task objects per call.
 */
final class CachedDecoder implements StepDecoder {
    private final BlipTextLMHeadModel model;
    private final BlipTextModel bert;
    private final BlipTextModel.CrossKV[] cross;
    private final int rows;
    private final int maxLength;
    private final int width;
    private final int stride;
    private int[] rowEntry;
    private int[] spareEntry;
    private float[][] keys;
    private float[][] values;
    private float[][] spareKeys;
    private float[][] spareValues;
    private int length;
    private BlipTextModel.Workspace workspace;
    private float[] last;
    private float[] headScratch;
    private float[] logits;
    private boolean closed;

    CachedDecoder(BlipTextLMHeadModel model, BlipTextModel.CrossKV[] cross, int[] rowEntry, int maxLength) {
        if (rowEntry.length < 1) {
            throw new IllegalArgumentException("a decoder needs at least one row");
        }
        this.model = model;
        this.bert = model.bert();
        this.cross = cross;
        this.rows = rowEntry.length;
        this.maxLength = maxLength;
        this.width = bert.hiddenSize();
        this.stride = maxLength * width;
        this.rowEntry = rowEntry;
        this.spareEntry = new int[rows];
        int layers = bert.numLayers();
        keys = new float[layers][rows * stride];
        values = new float[layers][rows * stride];
        spareKeys = new float[layers][rows * stride];
        spareValues = new float[layers][rows * stride];
        // Attention scores for a step of one token per row: rows x heads tasks over the longer of
        // the cache and the conditioning.
        int kvLen = Math.max(maxLength, cross.length == 0 ? 0 : cross[0].len());
        workspace = new BlipTextModel.Workspace(bert, rows,
                new Kernels.AttentionScratch(rows, bert.config().numAttentionHeads(), kvLen));
        last = new float[rows * width];
        headScratch = new float[rows * width];
        logits = new float[rows * model.vocabSize()];
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int vocabSize() {
        return model.vocabSize();
    }

    /** Tokens each row holds so far. */
    int length() {
        return length;
    }

    @Override
    public float[] forward(int[][] tokens) {
        if (closed) {
            throw new IllegalStateException("decoder is closed");
        }
        if (tokens.length != rows) {
            throw new IllegalArgumentException("forward got " + tokens.length + " rows of tokens, the decoder has " + rows);
        }
        int n = BlipTextModel.checkRectangular("tokens", tokens, -1);
        if (length + n > maxLength) {
            throw new IllegalArgumentException("rows would hold " + (length + n) + " tokens, more than maxLength "
                    + maxLength + " the decoder was opened with");
        }
        BlipTextModel.Workspace ws = workspace;
        ws.ensure(rows * n);
        int[] flat = ws.ids;
        for (int r = 0; r < rows; r++) {
            System.arraycopy(tokens[r], 0, flat, r * n, n);
        }
        float[] x = ws.hidden;
        bert.embed(flat, rows, n, length, x);
        for (int l = 0; l < cross.length; l++) {
            BlipTextModel.SelfKV cache = new BlipTextModel.SelfKV(keys[l], values[l], stride, length);
            bert.layer(l, x, rows, n, null, 0, true, cache, cross[l], rowEntry, ws, x);
        }
        length += n;
        float[] lastTokens = x;
        if (n > 1) {
            lastTokens = last;
            for (int r = 0; r < rows; r++) {
                System.arraycopy(x, ((r + 1) * n - 1) * width, last, r * width, width);
            }
        }
        model.predict(lastTokens, rows, headScratch, logits);
        return logits;
    }

    @Override
    public void select(int[] sources) {
        if (sources.length != rows) {
            throw new IllegalArgumentException("select got " + sources.length + " sources for " + rows + " rows");
        }
        for (int i = 0; i < rows; i++) {
            if (sources[i] < 0 || sources[i] >= rows) {
                throw new IllegalArgumentException("select source " + sources[i] + " at " + i + " is not a row");
            }
        }
        int used = length * width;
        for (int l = 0; l < keys.length; l++) {
            for (int i = 0; i < rows; i++) {
                System.arraycopy(keys[l], sources[i] * stride, spareKeys[l], i * stride, used);
                System.arraycopy(values[l], sources[i] * stride, spareValues[l], i * stride, used);
            }
        }
        float[][] t = keys;
        keys = spareKeys;
        spareKeys = t;
        t = values;
        values = spareValues;
        spareValues = t;
        for (int i = 0; i < rows; i++) {
            spareEntry[i] = rowEntry[sources[i]];
        }
        int[] e = rowEntry;
        rowEntry = spareEntry;
        spareEntry = e;
    }

    @Override
    public void close() {
        closed = true;
        keys = null;
        values = null;
        spareKeys = null;
        spareValues = null;
        workspace = null;
        last = null;
        headScratch = null;
        logits = null;
    }
}
