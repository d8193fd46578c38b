package org.blipjava.generation;

import java.util.Arrays;

/**
 * Nucleus filtering (transformers' {@code TopPLogitsWarper}): in ascending order of probability, tokens
 * whose cumulative probability is at most {@code 1 - topP} are set to -inf, so the smallest set of most
 * likely tokens whose probability mass reaches {@code topP} survives. At least {@code minTokensToKeep}
 * tokens survive. Only tokens not already at -inf are sorted: after top-k that is k of them.
 */
public final class TopPLogitsWarper implements LogitsProcessor {
    private final double topP;
    private final int minTokensToKeep;
    private long[] keys = new long[0];

    /**
     * @param topP            probability mass to keep, in (0, 1)
     * @param minTokensToKeep lower bound on tokens kept (2 for beam sampling, else 1)
     */
    public TopPLogitsWarper(double topP, int minTokensToKeep) {
        if (!(topP > 0 && topP < 1)) {
            throw new IllegalArgumentException("top_p must be in (0, 1) for the top-p warper, got " + topP);
        }
        if (minTokensToKeep < 1) {
            throw new IllegalArgumentException("minTokensToKeep must be >= 1, got " + minTokensToKeep);
        }
        this.topP = topP;
        this.minTokensToKeep = minTokensToKeep;
    }

    @Override
    public void process(int[][] inputIds, int length, float[] scores, int vocabSize) {
        if (keys.length < vocabSize) {
            keys = new long[vocabSize];
        }
        double removeAtOrBelow = 1 - topP;
        for (int r = 0; r < inputIds.length; r++) {
            int base = r * vocabSize;
            int m = 0;
            for (int v = 0; v < vocabSize; v++) {
                float s = scores[base + v];
                if (s != Float.NEGATIVE_INFINITY) {
                    // Sort key: the score's order-preserving bits above, the token id below.
                    keys[m++] = ((long) sortableBits(s) << 32) | v;
                }
            }
            if (m == 0) {
                continue;
            }
            Arrays.sort(keys, 0, m);
            float max = scores[base + (int) keys[m - 1]];
            double sum = 0;
            for (int i = 0; i < m; i++) {
                sum += Math.exp((double) scores[base + (int) keys[i]] - max);
            }
            double cumulative = 0;
            int keepFrom = m - minTokensToKeep;
            for (int i = 0; i < m; i++) {
                int v = (int) keys[i];
                cumulative += Math.exp((double) scores[base + v] - max) / sum;
                if (i < keepFrom && cumulative <= removeAtOrBelow) {
                    scores[base + v] = Float.NEGATIVE_INFINITY;
                } else if (cumulative > removeAtOrBelow) {
                    break;
                }
            }
        }
    }

    private static int sortableBits(float f) {
        int bits = Float.floatToIntBits(f);
        return bits < 0 ? bits ^ 0x7fffffff : bits;
    }
}
