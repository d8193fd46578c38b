package org.blipjava.generation;

import java.util.List;

/**
 * Forbids eos while a sequence (prompt included) is shorter than a minimum length, as transformers'
 * {@code MinLengthLogitsProcessor}: the eos scores become -inf. {@code min_new_tokens} is the same rule
 * with the minimum counted from the end of the prompt ({@link GenerationConfig#minLengthFor(int)}).
 */
public final class MinLengthLogitsProcessor implements LogitsProcessor {
    private final int minLength;
    private final int[] eos;

    /**
     * @param minLength   eos is forbidden while the sequence holds fewer tokens than this
     * @param eosTokenIds the ids to forbid
     */
    public MinLengthLogitsProcessor(int minLength, List<Integer> eosTokenIds) {
        if (minLength < 0) {
            throw new IllegalArgumentException("min_length must be >= 0, got " + minLength);
        }
        this.minLength = minLength;
        this.eos = eosTokenIds.stream().mapToInt(Integer::intValue).toArray();
    }

    @Override
    public void process(int[][] inputIds, int length, float[] scores, int vocabSize) {
        if (length >= minLength) {
            return;
        }
        for (int r = 0; r < inputIds.length; r++) {
            for (int e : eos) {
                if (e < vocabSize) {
                    scores[r * vocabSize + e] = Float.NEGATIVE_INFINITY;
                }
            }
        }
    }
}
