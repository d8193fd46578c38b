package org.blipjava.metrics;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * CIDEr-D as the coco-caption toolkit computes it ({@code pycocoevalcap/cider}).
 *
 * <p>N-grams (n = 1..4) are weighted by TF-IDF, with document frequencies counted over the
 * reference sets of the evaluated images (a document is one image's references). For each
 * reference the candidate's n-gram weights are clipped to the reference's, the cosine is taken
 * per order and multiplied by a Gaussian length penalty with sigma 6; the orders are averaged,
 * the references averaged, and the result multiplied by 10. As in the toolkit, the "length" in
 * the penalty is the number of bigrams of each sentence.
 */
public final class CiderD {
    /** Highest n-gram order. */
    public static final int MAX_N = 4;
    /** Standard deviation of the length penalty. */
    public static final double SIGMA = 6.0;

    private CiderD() {}

    /** Per-image scores (in {@link CaptionSet#ids()} order) and their mean. */
    public static MetricResult score(CaptionSet set) {
        List<List<List<Map<String, Integer>>>> refs = new ArrayList<>();
        List<List<Map<String, Integer>>> tests = new ArrayList<>();
        Map<String, Integer> df = new HashMap<>();
        for (String id : set.ids()) {
            List<List<Map<String, Integer>>> r = new ArrayList<>();
            Set<String> seen = new HashSet<>();
            for (String ref : set.references().get(id)) {
                List<Map<String, Integer>> counts = NGrams.count(Words.split(ref), MAX_N);
                r.add(counts);
                for (int k = 0; k < MAX_N; k++) {
                    // The order prefix keeps n-grams of different orders apart in one frequency map.
                    for (String g : counts.get(k).keySet()) {
                        seen.add(k + "|" + g);
                    }
                }
            }
            for (String g : seen) {
                df.merge(g, 1, Integer::sum);
            }
            refs.add(r);
            tests.add(NGrams.count(Words.split(set.candidates().get(id)), MAX_N));
        }
        double refLen = Math.log(set.size());
        List<Double> scores = new ArrayList<>(set.size());
        for (int i = 0; i < set.size(); i++) {
            Vec hyp = new Vec(tests.get(i), df, refLen);
            double[] total = new double[MAX_N];
            for (List<Map<String, Integer>> ref : refs.get(i)) {
                double[] s = similarity(hyp, new Vec(ref, df, refLen));
                for (int k = 0; k < MAX_N; k++) {
                    total[k] += s[k];
                }
            }
            double mean = 0;
            for (double v : total) {
                mean += v;
            }
            mean /= MAX_N;
            scores.add(mean / refs.get(i).size() * 10.0);
        }
        return MetricResult.ofMean(scores);
    }

    /** TF-IDF vector of one sentence, its norm per order and its bigram count. */
    private static final class Vec {
        final List<Map<String, Double>> weights = new ArrayList<>();
        final double[] norm = new double[MAX_N];
        int length;

        Vec(List<Map<String, Integer>> counts, Map<String, Integer> df, double refLen) {
            for (int k = 0; k < MAX_N; k++) {
                Map<String, Double> w = new HashMap<>();
                for (Map.Entry<String, Integer> e : counts.get(k).entrySet()) {
                    double idf = refLen - Math.log(Math.max(1.0, df.getOrDefault(k + "|" + e.getKey(), 0)));
                    double v = e.getValue() * idf;
                    w.put(e.getKey(), v);
                    norm[k] += v * v;
                    if (k == 1) {
                        length += e.getValue();
                    }
                }
                weights.add(w);
                norm[k] = Math.sqrt(norm[k]);
            }
        }
    }

    private static double[] similarity(Vec hyp, Vec ref) {
        double delta = hyp.length - ref.length;
        double penalty = Math.exp(-(delta * delta) / (2 * SIGMA * SIGMA));
        double[] val = new double[MAX_N];
        for (int k = 0; k < MAX_N; k++) {
            Map<String, Double> r = ref.weights.get(k);
            for (Map.Entry<String, Double> e : hyp.weights.get(k).entrySet()) {
                double rv = r.getOrDefault(e.getKey(), 0.0);
                val[k] += Math.min(e.getValue(), rv) * rv;
            }
            // An empty order (a sentence shorter than n words) contributes 0 instead of 0/0.
            if (hyp.norm[k] != 0 && ref.norm[k] != 0) {
                val[k] /= hyp.norm[k] * ref.norm[k];
            }
            val[k] *= penalty;
        }
        return val;
    }
}
