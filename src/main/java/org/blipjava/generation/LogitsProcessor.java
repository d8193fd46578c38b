package org.blipjava.generation;

/**
 * Rewrites next-token scores in place, one row per sequence, as transformers' logits processors and
 * warpers do. Instances may keep scratch buffers: one generation call owns them.
 */
@FunctionalInterface
public interface LogitsProcessor {

    /**
     * Processes {@code scores[r * vocabSize + v]} for every row {@code r < inputIds.length}.
     *
     * @param inputIds  {@code inputIds[r][0..length)} the tokens of row r so far, prompt included
     * @param length    how many tokens each row holds
     * @param scores    row-major [rows, vocabSize] scores, modified in place
     * @param vocabSize the length of one row of scores
     */
    void process(int[][] inputIds, int length, float[] scores, int vocabSize);
}
