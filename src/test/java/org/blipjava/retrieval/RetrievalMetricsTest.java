package org.blipjava.retrieval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Recall on hand-made score matrices whose ranks were worked out by hand (see the comments). */
class RetrievalMetricsTest {
    // 3 images, 4 texts; texts 0 and 1 describe image 0, text 2 image 1, text 3 image 2.
    private static final int[] LINKS = {0, 0, 1, 2};
    private static final float[][] ITC = {
        {0.9f, 0.1f, 0.5f, 0.2f}, // texts by score: 0 2 3 1 -> own caption first
        {0.3f, 0.8f, 0.4f, 0.1f}, // 1 2 0 3 -> own caption (2) second
        {0.2f, 0.3f, 0.6f, 0.1f}, // 2 1 0 3 -> own caption (3) fourth
    };
    private static final float[][] ITM = {
        {0.1f, 0.9f, 0.2f, 0.3f},
        {0.5f, 0.2f, 0.7f, 0.1f},
        {0.4f, 0.6f, 0.3f, 0.8f},
    };

    @Test
    void itcRecallMatchesHandCountedRanks() {
        RetrievalMetrics.Result r = RetrievalMetrics.itc(ITC, LINKS);
        assertThat(r.imageToText().r1()).isCloseTo(1 / 3.0, within(1e-12));
        assertThat(r.imageToText().r5()).isEqualTo(1.0);
        assertThat(r.imageToText().r10()).isEqualTo(1.0);
        // Text columns: t0 -> 0 1 2 (own first); t1 -> 1 2 0 (third); t2 -> 2 0 1 (third);
        // t3 -> 0 then the tie 1/2 broken by index (own image 2 third).
        assertThat(r.textToImage().r1()).isCloseTo(0.25, within(1e-12));
        assertThat(r.textToImage().r5()).isEqualTo(1.0);
        assertThat(r.matchAccuracy()).isEqualTo(r.imageToText().r1());
    }

    @Test
    void rerankingOrdersOnlyTheTopKByItm() {
        Map<Integer, List<Integer>> asked = new TreeMap<>();
        RetrievalMetrics.Result r = RetrievalMetrics.reranked(ITC, LINKS, 2, (image, texts) -> {
            List<Integer> list = new ArrayList<>();
            float[] out = new float[texts.length];
            for (int j = 0; j < texts.length; j++) {
                list.add(texts[j]);
                out[j] = ITM[image][texts[j]];
            }
            asked.put(image, list);
            return out;
        });
        // Image 0: head {0, 2} -> 2 (0.2) before 0 (0.1): own caption second.
        // Image 1: head {1, 2} -> 2 (0.7) first: own caption first.
        // Image 2: head {2, 1} -> 1, 2, then 0, 3: own caption fourth.
        assertThat(r.imageToText().r1()).isCloseTo(1 / 3.0, within(1e-12));
        assertThat(r.imageToText().r5()).isEqualTo(1.0);
        // t0: head {0, 1} -> 1 (0.5), 0 (0.1): own second. t1: head {1, 2} -> 2, 1, 0: own third.
        // t2: head {2, 0} -> 2 (0.3), 0 (0.2), 1: own third. t3: head {0, 1} -> 0, 1, 2: own third.
        assertThat(r.textToImage().r1()).isZero();
        assertThat(r.textToImage().r5()).isEqualTo(1.0);
        // Each image is scored once, against the texts of its own head and the texts whose head holds it.
        assertThat(asked).containsExactlyEntriesOf(new TreeMap<>(Map.of(
                0, List.of(0, 2, 3),
                1, List.of(0, 1, 2, 3),
                2, List.of(1, 2))));
    }

    @Test
    void recallAtFiveAndTenCountRanksBelowFiveAndTen() {
        // Twelve images with one caption each; image i's caption is placed at rank i.
        int n = 12;
        float[][] sim = new float[n][n];
        int[] links = new int[n];
        for (int i = 0; i < n; i++) {
            links[i] = i;
            int pos = 0;
            for (int t = 0; t < n; t++) {
                if (t == i) {
                    continue;
                }
                if (pos == i) {
                    pos++;
                }
                sim[i][t] = 100 - pos++;
            }
            sim[i][i] = 100 - i;
        }
        RetrievalMetrics.Recall r = RetrievalMetrics.itc(sim, links).imageToText();
        assertThat(r.r1()).isCloseTo(1 / 12.0, within(1e-12));
        assertThat(r.r5()).isCloseTo(5 / 12.0, within(1e-12));
        assertThat(r.r10()).isCloseTo(10 / 12.0, within(1e-12));
        assertThat(r.mean()).isCloseTo(16 / 36.0, within(1e-12));
    }
}
