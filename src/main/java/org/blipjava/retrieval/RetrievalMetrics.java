package org.blipjava.retrieval;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Recall@K of cross-modal retrieval from similarity scores, as BLIP reports it.
 *
 * <p>Image to text: for each image, the texts ranked by score; a hit at K when any of the
 * image's own captions is among the first K. Text to image: for each text, the images ranked by
 * score; a hit at K when its image is among the first K. Ties are broken by the lower index.
 *
 * <p>With ITM re-ranking, each query's first {@code k} candidates by ITC are ordered by ITM
 * match probability (ties keep the ITC order) and the other candidates follow in ITC order.
 */
public final class RetrievalMetrics {
    private RetrievalMetrics() {}

    /**
     * Recall at 1, 5 and 10, as fractions in [0, 1].
     */
    public record Recall(double r1, double r5, double r10) {
        /** The mean of the three, BLIP's "r_mean" for one direction. */
        public double mean() {
            return (r1 + r5 + r10) / 3;
        }
    }

    /**
     * Both directions.
     *
     * @param imageToText   recall of each image's captions among all texts
     * @param textToImage   recall of each text's image among all images
     * @param matchAccuracy top-1 matching accuracy: the share of images whose best-scoring text
     *                      among all texts is one of their own captions (the image-to-text R@1)
     */
    public record Result(Recall imageToText, Recall textToImage, double matchAccuracy) {}

    /** ITM match probabilities of one image with some texts. */
    @FunctionalInterface
    public interface PairScorer {
        /** Returns the probability for each of {@code texts} (indices into the dataset's texts). */
        float[] score(int image, int[] texts);
    }

    /**
     * Recall from ITC similarities only.
     *
     * @param similarity {@code [images][texts]}
     * @param textImage  the image index of each text
     */
    public static Result itc(float[][] similarity, int[] textImage) {
        return result(imageRankings(similarity), textRankings(similarity, textImage.length), textImage);
    }

    /** Per image, the texts from most to least similar. */
    private static int[][] imageRankings(float[][] similarity) {
        int[][] i2t = new int[similarity.length][];
        for (int i = 0; i < i2t.length; i++) {
            i2t[i] = order(similarity[i]);
        }
        return i2t;
    }

    /** Per text, the images from most to least similar. */
    private static int[][] textRankings(float[][] similarity, int texts) {
        int[][] t2i = new int[texts][];
        for (int t = 0; t < texts; t++) {
            t2i[t] = order(column(similarity, t));
        }
        return t2i;
    }

    /**
     * Recall after re-ranking each query's top {@code k} ITC candidates by ITM. The scorer is
     * called once per image that appears in some candidate list, with every text that image must
     * be scored against (from both directions).
     */
    public static Result reranked(float[][] similarity, int[] textImage, int k, PairScorer itm) {
        if (k < 1) {
            throw new IllegalArgumentException("re-rank k must be at least 1, got " + k);
        }
        int ni = similarity.length;
        int nt = textImage.length;
        int[][] i2t = imageRankings(similarity);
        int[][] t2i = textRankings(similarity, nt);
        int ki = Math.min(k, nt);
        int kt = Math.min(k, ni);
        List<TreeSet<Integer>> needed = new ArrayList<>();
        for (int i = 0; i < ni; i++) {
            TreeSet<Integer> s = new TreeSet<>();
            for (int r = 0; r < ki; r++) {
                s.add(i2t[i][r]);
            }
            needed.add(s);
        }
        for (int t = 0; t < nt; t++) {
            for (int r = 0; r < kt; r++) {
                needed.get(t2i[t][r]).add(t);
            }
        }
        List<Map<Integer, Float>> prob = new ArrayList<>();
        for (int i = 0; i < ni; i++) {
            int[] texts = needed.get(i).stream().mapToInt(Integer::intValue).toArray();
            Map<Integer, Float> m = new HashMap<>();
            if (texts.length > 0) {
                float[] p = itm.score(i, texts);
                for (int j = 0; j < texts.length; j++) {
                    m.put(texts[j], p[j]);
                }
            }
            prob.add(m);
        }
        for (int i = 0; i < ni; i++) {
            Map<Integer, Float> m = prob.get(i);
            rerankHead(i2t[i], ki, c -> m.get(c));
        }
        for (int t = 0; t < nt; t++) {
            int tt = t;
            rerankHead(t2i[t], kt, c -> prob.get(c).get(tt));
        }
        return result(i2t, t2i, textImage);
    }

    private static void rerankHead(int[] ranking, int k, java.util.function.IntFunction<Float> score) {
        Integer[] head = new Integer[k];
        for (int r = 0; r < k; r++) {
            head[r] = ranking[r];
        }
        // Stable: equal probabilities keep their ITC order.
        Arrays.sort(head, (a, b) -> Float.compare(score.apply(b), score.apply(a)));
        for (int r = 0; r < k; r++) {
            ranking[r] = head[r];
        }
    }

    private static Result result(int[][] i2t, int[][] t2i, int[] textImage) {
        int ni = i2t.length;
        int nt = t2i.length;
        int[] i2tRank = new int[ni];
        for (int i = 0; i < ni; i++) {
            int best = Integer.MAX_VALUE;
            for (int r = 0; r < i2t[i].length; r++) {
                if (textImage[i2t[i][r]] == i) {
                    best = r;
                    break;
                }
            }
            i2tRank[i] = best;
        }
        int[] t2iRank = new int[nt];
        for (int t = 0; t < nt; t++) {
            int best = Integer.MAX_VALUE;
            for (int r = 0; r < t2i[t].length; r++) {
                if (t2i[t][r] == textImage[t]) {
                    best = r;
                    break;
                }
            }
            t2iRank[t] = best;
        }
        Recall i2tRecall = recall(i2tRank);
        return new Result(i2tRecall, recall(t2iRank), i2tRecall.r1());
    }

    private static Recall recall(int[] ranks) {
        if (ranks.length == 0) {
            return new Recall(Double.NaN, Double.NaN, Double.NaN);
        }
        int r1 = 0;
        int r5 = 0;
        int r10 = 0;
        for (int r : ranks) {
            r1 += r < 1 ? 1 : 0;
            r5 += r < 5 ? 1 : 0;
            r10 += r < 10 ? 1 : 0;
        }
        double n = ranks.length;
        return new Recall(r1 / n, r5 / n, r10 / n);
    }

    private static float[] column(float[][] m, int t) {
        float[] out = new float[m.length];
        for (int i = 0; i < m.length; i++) {
            out[i] = m[i][t];
        }
        return out;
    }

    /** Indices by descending score, ties by ascending index. */
    static int[] order(float[] scores) {
        Integer[] idx = new Integer[scores.length];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        Arrays.sort(idx, (a, b) -> Float.compare(scores[b], scores[a]));
        int[] out = new int[idx.length];
        for (int i = 0; i < idx.length; i++) {
            out[i] = idx[i];
        }
        return out;
    }
}
