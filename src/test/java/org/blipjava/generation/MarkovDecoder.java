package org.blipjava.generation;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A toy {@link StepDecoder} for tests: the next-token logits depend only on the row's conditioning
 * input and its last token ({@code table[input][lastToken]}). It keeps each row's whole history, so a
 * wrong {@link #select} or a wrongly fed token changes what it returns, and it checks the feeding
 * protocol (whole prompt first, then one token per row).
 */
final class MarkovDecoder implements StepDecoder {
    private final float[][][] table;
    private final int vocab;
    private int[] rowInputs;
    private int[][] history;
    private int length;
    private final Stats stats;

    /** What the decoders of one factory saw. */
    static final class Stats {
        int opened;
        int forwardCalls;
        int selectCalls;
        int closed;
        int[] lastRowInputs;
        final List<int[][]> finalHistories = new ArrayList<>();
    }

    private MarkovDecoder(float[][][] table, int[] rowInputs, Stats stats) {
        this.table = table;
        this.vocab = table[0][0].length;
        this.rowInputs = rowInputs.clone();
        this.history = new int[rowInputs.length][64];
        this.stats = stats;
    }

    /** A factory over {@code table[input][lastToken][token]} logits, recording into {@code stats}. */
    static StepDecoder.Factory factory(float[][][] table, Stats stats) {
        return rowInputs -> {
            stats.opened++;
            stats.lastRowInputs = rowInputs.clone();
            return new MarkovDecoder(table, rowInputs, stats);
        };
    }

    /** Logits equal to ln(p): log-softmax gives back ln(p) (up to float rounding) when p sums to 1. */
    static float[] logProbs(double... p) {
        double sum = 0;
        float[] out = new float[p.length];
        for (int i = 0; i < p.length; i++) {
            out[i] = (float) Math.log(p[i]);
            sum += p[i];
        }
        if (Math.abs(sum - 1) > 1e-9) {
            throw new IllegalArgumentException("probabilities sum to " + sum + ": " + Arrays.toString(p));
        }
        return out;
    }

    @Override
    public int rows() {
        return rowInputs.length;
    }

    @Override
    public int vocabSize() {
        return vocab;
    }

    @Override
    public float[] forward(int[][] tokens) {
        stats.forwardCalls++;
        if (tokens.length != rows()) {
            throw new IllegalStateException("forward got " + tokens.length + " rows, decoder has " + rows());
        }
        for (int r = 0; r < rows(); r++) {
            int n = tokens[r].length;
            if (length == 0 ? n != tokens[0].length || n == 0 : n != 1) {
                throw new IllegalStateException("forward fed " + n + " tokens to row " + r + " at length " + length);
            }
        }
        int n = tokens[0].length;
        float[] logits = new float[rows() * vocab];
        for (int r = 0; r < rows(); r++) {
            System.arraycopy(tokens[r], 0, history[r], length, n);
            int last = tokens[r][n - 1];
            System.arraycopy(table[rowInputs[r]][last], 0, logits, r * vocab, vocab);
        }
        length += n;
        return logits;
    }

    @Override
    public void select(int[] sources) {
        stats.selectCalls++;
        if (sources.length != rows()) {
            throw new IllegalStateException("select got " + sources.length + " sources for " + rows() + " rows");
        }
        int[][] h = new int[rows()][];
        int[] in = new int[rows()];
        for (int r = 0; r < rows(); r++) {
            h[r] = history[sources[r]].clone();
            in[r] = rowInputs[sources[r]];
        }
        history = h;
        rowInputs = in;
    }

    @Override
    public void close() {
        stats.closed++;
        int[][] out = new int[rows()][];
        for (int r = 0; r < rows(); r++) {
            out[r] = Arrays.copyOf(history[r], length);
        }
        stats.finalHistories.add(out);
    }
}
