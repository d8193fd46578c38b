package org.blipjava.metrics;

import java.util.ArrayList;
import java.util.List;

/**
 * ROUGE-L as the coco-caption toolkit computes it ({@code pycocoevalcap/rouge}): the longest
 * common subsequence with each reference gives a precision and a recall, the best precision and
 * the best recall (possibly from different references) are combined into an F-measure with
 * beta = 1.2, and the corpus score is the mean over images.
 */
public final class RougeL {
    /** Weight of recall against precision. */
    public static final double BETA = 1.2;

    private RougeL() {}

    /** Per-image scores (in {@link CaptionSet#ids()} order) and their mean. */
    public static MetricResult score(CaptionSet set) {
        List<Double> per = new ArrayList<>(set.size());
        for (String id : set.ids()) {
            per.add(score(set.candidates().get(id), set.references().get(id)));
        }
        return MetricResult.ofMean(per);
    }

    /** ROUGE-L of one tokenized candidate against its tokenized references. */
    public static double score(String candidate, List<String> references) {
        // The toolkit splits on single spaces here (not on whitespace runs as BLEU does).
        List<String> c = Words.splitOnSpace(candidate);
        double precMax = 0;
        double recMax = 0;
        for (String reference : references) {
            List<String> r = Words.splitOnSpace(reference);
            int lcs = lcs(r, c);
            precMax = Math.max(precMax, lcs / (double) c.size());
            recMax = Math.max(recMax, lcs / (double) r.size());
        }
        if (precMax == 0 || recMax == 0) {
            return 0.0;
        }
        double b2 = BETA * BETA;
        return ((1 + b2) * precMax * recMax) / (recMax + b2 * precMax);
    }

    /** Length of the longest common subsequence. */
    static int lcs(List<String> a, List<String> b) {
        int[] prev = new int[b.size() + 1];
        int[] cur = new int[b.size() + 1];
        for (int i = 1; i <= a.size(); i++) {
            for (int j = 1; j <= b.size(); j++) {
                cur[j] = a.get(i - 1).equals(b.get(j - 1)) ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.size()];
    }
}
