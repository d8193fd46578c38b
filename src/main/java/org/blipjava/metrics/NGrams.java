package org.blipjava.metrics;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** N-gram counts of one tokenized sentence, one map per order (index 0 holds unigrams). */
final class NGrams {
    private NGrams() {}

    /**
     * Counts the 1..maxN-grams of {@code words}. Keys are the words joined by single spaces, which
     * is unambiguous because the words contain no whitespace. Insertion order follows the text.
     */
    static List<Map<String, Integer>> count(List<String> words, int maxN) {
        List<Map<String, Integer>> out = new ArrayList<>(maxN);
        for (int k = 1; k <= maxN; k++) {
            Map<String, Integer> counts = new LinkedHashMap<>();
            for (int i = 0; i + k <= words.size(); i++) {
                counts.merge(String.join(" ", words.subList(i, i + k)), 1, Integer::sum);
            }
            out.add(counts);
        }
        return out;
    }

    /** Per order, the largest count of each n-gram over several sentences. */
    static List<Map<String, Integer>> maxCounts(List<List<Map<String, Integer>>> sentences, int maxN) {
        List<Map<String, Integer>> out = new ArrayList<>(maxN);
        for (int k = 0; k < maxN; k++) {
            Map<String, Integer> m = new HashMap<>();
            for (List<Map<String, Integer>> s : sentences) {
                s.get(k).forEach((g, c) -> m.merge(g, c, Math::max));
            }
            out.add(m);
        }
        return out;
    }
}
