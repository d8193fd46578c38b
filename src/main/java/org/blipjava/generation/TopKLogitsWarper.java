package org.blipjava.generation;

/**
 * Keeps the k highest scores of each row and sets the others to -inf (transformers'
 * {@code TopKLogitsWarper}). Scores tied with the k-th highest are all kept, as in the reference.
 * Finds the k-th value with a size-k heap instead of sorting the vocabulary.
 */
public final class TopKLogitsWarper implements LogitsProcessor {
    private final int topK;
    private final int minTokensToKeep;
    private float[] heap = new float[0];

    /**
     * @param topK            tokens to keep, at least 1
     * @param minTokensToKeep lower bound on tokens kept (2 for beam sampling, else 1)
     */
    public TopKLogitsWarper(int topK, int minTokensToKeep) {
        if (topK < 1) {
            throw new IllegalArgumentException("top_k must be >= 1 for the top-k warper, got " + topK);
        }
        if (minTokensToKeep < 1) {
            throw new IllegalArgumentException("minTokensToKeep must be >= 1, got " + minTokensToKeep);
        }
        this.topK = topK;
        this.minTokensToKeep = minTokensToKeep;
    }

    @Override
    public void process(int[][] inputIds, int length, float[] scores, int vocabSize) {
        int k = Math.min(Math.max(topK, minTokensToKeep), vocabSize);
        if (k >= vocabSize) {
            return;
        }
        if (heap.length < k) {
            heap = new float[k];
        }
        for (int r = 0; r < inputIds.length; r++) {
            int base = r * vocabSize;
            float kth = kthLargest(scores, base, vocabSize, k);
            for (int v = 0; v < vocabSize; v++) {
                if (scores[base + v] < kth) {
                    scores[base + v] = Float.NEGATIVE_INFINITY;
                }
            }
        }
    }

    /** The k-th largest of {@code a[from..from+n)}, with a min-heap holding the k largest seen. */
    private float kthLargest(float[] a, int from, int n, int k) {
        float[] h = heap;
        for (int i = 0; i < k; i++) {
            h[i] = a[from + i];
        }
        for (int i = k / 2 - 1; i >= 0; i--) {
            siftDown(h, i, k);
        }
        for (int i = k; i < n; i++) {
            float x = a[from + i];
            if (x > h[0]) {
                h[0] = x;
                siftDown(h, 0, k);
            }
        }
        return h[0];
    }

    private static void siftDown(float[] h, int i, int size) {
        float x = h[i];
        while (true) {
            int c = 2 * i + 1;
            if (c >= size) {
                break;
            }
            if (c + 1 < size && h[c + 1] < h[c]) {
                c++;
            }
            if (h[c] >= x) {
                break;
            }
            h[i] = h[c];
            i = c;
        }
        h[i] = x;
    }
}
