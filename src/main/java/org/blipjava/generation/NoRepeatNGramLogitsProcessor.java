package org.blipjava.generation;

/**
 * Forbids any n-gram from occurring twice in a row's sequence (prompt included), as transformers'
 * {@code NoRepeatNGramLogitsProcessor}: a token that would complete an n-gram already present gets
 * score -inf.
 */
public final class NoRepeatNGramLogitsProcessor implements LogitsProcessor {
    private final int n;

    /** @param ngramSize the n-gram size, at least 1 */
    public NoRepeatNGramLogitsProcessor(int ngramSize) {
        if (ngramSize < 1) {
            throw new IllegalArgumentException("no_repeat_ngram_size must be >= 1, got " + ngramSize);
        }
        this.n = ngramSize;
    }

    @Override
    public void process(int[][] inputIds, int length, float[] scores, int vocabSize) {
        if (length + 1 < n) {
            return;
        }
        int prefixStart = length - n + 1;
        for (int r = 0; r < inputIds.length; r++) {
            int[] ids = inputIds[r];
            int base = r * vocabSize;
            // Every earlier n-gram whose first n-1 tokens equal the row's last n-1 tokens bans its last token.
            for (int start = 0; start + n <= length; start++) {
                boolean match = true;
                for (int j = 0; j < n - 1; j++) {
                    if (ids[start + j] != ids[prefixStart + j]) {
                        match = false;
                        break;
                    }
                }
                if (match) {
                    scores[base + ids[start + n - 1]] = Float.NEGATIVE_INFINITY;
                }
            }
        }
    }
}
