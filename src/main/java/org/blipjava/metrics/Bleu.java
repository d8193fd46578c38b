package org.blipjava.metrics;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * BLEU-1..4 as the coco-caption toolkit computes it ({@code pycocoevalcap/bleu}).
 *
 * <p>Corpus level: clipped n-gram matches and candidate n-gram counts are summed over all images
 * before the geometric mean, and the brevity penalty uses the sum over images of the reference
 * length closest to the candidate's (the shorter one on a tie). Per image: the same formula on the
 * image alone. The toolkit's smoothing constants (1e-15 added to matches, 1e-9 to counts) are
 * kept, which is why a perfect per-image score is 0.9999999997 rather than 1.
 */
public final class Bleu {
    /** Highest n-gram order. */
    public static final int MAX_N = 4;
    private static final double SMALL = 1e-9;
    private static final double TINY = 1e-15;

    private Bleu() {}

    /**
     * BLEU scores: {@code corpus().get(n - 1)} is BLEU-n over the whole set, {@code
     * perImage().get(n - 1).get(i)} is BLEU-n of image {@code i} (in {@link CaptionSet#ids()} order).
     */
    public record Result(List<Double> corpus, List<List<Double>> perImage) {
        public Result {
            corpus = List.copyOf(corpus);
            perImage = perImage.stream().map(List::copyOf).toList();
        }
    }

    /** Scores already tokenized captions (words separated by whitespace). */
    public static Result score(CaptionSet set) {
        long[] guess = new long[MAX_N];
        long[] correct = new long[MAX_N];
        double testLenTotal = 0;
        double refLenTotal = 0;
        List<List<Double>> perImage = new ArrayList<>();
        for (int k = 0; k < MAX_N; k++) {
            perImage.add(new ArrayList<>());
        }
        for (String id : set.ids()) {
            List<List<Map<String, Integer>>> refCounts = new ArrayList<>();
            List<Integer> refLens = new ArrayList<>();
            for (String ref : set.references().get(id)) {
                List<String> w = Words.split(ref);
                refLens.add(w.size());
                refCounts.add(NGrams.count(w, MAX_N));
            }
            List<Map<String, Integer>> maxRef = NGrams.maxCounts(refCounts, MAX_N);
            List<String> test = Words.split(set.candidates().get(id));
            int testLen = test.size();
            List<Map<String, Integer>> testCounts = NGrams.count(test, MAX_N);
            int refLen = closest(refLens, testLen);
            long[] g = new long[MAX_N];
            long[] c = new long[MAX_N];
            for (int k = 0; k < MAX_N; k++) {
                g[k] = Math.max(0, testLen - k);
                Map<String, Integer> max = maxRef.get(k);
                for (Map.Entry<String, Integer> e : testCounts.get(k).entrySet()) {
                    c[k] += Math.min(max.getOrDefault(e.getKey(), 0), e.getValue());
                }
                guess[k] += g[k];
                correct[k] += c[k];
            }
            testLenTotal += testLen;
            refLenTotal += refLen;
            double[] bleu = geometric(g, c);
            double ratio = (testLen + TINY) / (refLen + SMALL);
            for (int k = 0; k < MAX_N; k++) {
                perImage.get(k).add(ratio < 1 ? bleu[k] * Math.exp(1 - 1 / ratio) : bleu[k]);
            }
        }
        double[] bleu = geometric(guess, correct);
        double ratio = (testLenTotal + TINY) / (refLenTotal + SMALL);
        List<Double> corpus = new ArrayList<>();
        for (int k = 0; k < MAX_N; k++) {
            corpus.add(ratio < 1 ? bleu[k] * Math.exp(1 - 1 / ratio) : bleu[k]);
        }
        return new Result(Collections.unmodifiableList(corpus), perImage);
    }

    /** BLEU-1..n without brevity penalty: the running product of precisions, to the power 1/n. */
    private static double[] geometric(long[] guess, long[] correct) {
        double[] out = new double[MAX_N];
        double product = 1;
        for (int k = 0; k < MAX_N; k++) {
            product *= (correct[k] + TINY) / (guess[k] + SMALL);
            out[k] = Math.pow(product, 1.0 / (k + 1));
        }
        return out;
    }

    /** The reference length closest to the candidate's; the shorter one wins a tie. */
    static int closest(List<Integer> refLens, int testLen) {
        int best = refLens.get(0);
        for (int l : refLens) {
            int d = Math.abs(l - testLen);
            int bd = Math.abs(best - testLen);
            if (d < bd || (d == bd && l < best)) {
                best = l;
            }
        }
        return best;
    }
}
