package org.blipjava.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CaptionSetTest {
    private static Map<String, List<String>> refs(Object... kv) {
        Map<String, List<String>> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            @SuppressWarnings("unchecked")
            List<String> v = (List<String>) kv[i + 1];
            m.put((String) kv[i], v);
        }
        return m;
    }

    @Test
    void orderFollowsTheReferences() {
        Map<String, String> cands = new LinkedHashMap<>();
        cands.put("b", "x");
        cands.put("a", "y");
        CaptionSet s = CaptionSet.of(refs("a", List.of("r1"), "b", List.of("r2")), cands);
        assertThat(s.ids()).containsExactly("a", "b");
    }

    @Test
    void mismatchedIdsAreNamed() {
        assertThatThrownBy(() -> CaptionSet.of(refs("a", List.of("r"), "b", List.of("r")), Map.of("a", "x")))
                .hasMessageContaining("no candidate caption for image id(s) 'b'");
        assertThatThrownBy(() -> CaptionSet.of(refs("a", List.of("r")), Map.of("a", "x", "z", "y")))
                .hasMessageContaining("no reference captions for image id(s) 'z'");
        assertThatThrownBy(() -> CaptionSet.of(refs("a", List.of()), Map.of("a", "x")))
                .hasMessageContaining("image id 'a' has no reference captions");
        assertThatThrownBy(() -> CaptionSet.of(Map.of(), Map.of())).hasMessageContaining("no images");
    }

    @Test
    void bleuClosestReferenceLengthPrefersTheShorterOnATie() {
        assertThat(Bleu.closest(List.of(7, 3, 5), 4)).isEqualTo(3);
        assertThat(Bleu.closest(List.of(5, 3), 4)).isEqualTo(3);
        assertThat(Bleu.closest(List.of(9, 6), 8)).isEqualTo(9);
    }

    @Test
    void bleuBrevityPenaltyByHand() {
        // Candidate "a b" against "a b c d": every n-gram present, brevity penalty exp(1 - 4/2).
        CaptionSet s = CaptionSet.of(refs("1", List.of("a b c d")), Map.of("1", "a b"));
        Bleu.Result r = Bleu.score(s);
        assertThat(r.corpus().get(0)).isCloseTo(Math.exp(1 - 4 / 2.0), within(1e-8));
        assertThat(r.perImage().get(1).get(0)).isCloseTo(Math.exp(1 - 4 / 2.0), within(1e-8));
        // No trigram in a two-word candidate: the toolkit's 1e-15 / 1e-9 smoothing leaves
        // (1e-6)^(1/3) = 0.01 before the brevity penalty.
        assertThat(r.corpus().get(2)).isCloseTo(0.01 * Math.exp(1 - 4 / 2.0), within(1e-8));
    }

    @Test
    void rougeLByHand() {
        // LCS("a b c d", "a c e") = 2: P = 2/3, R = 2/4 with candidate "a c e".
        double p = 2 / 3.0;
        double r = 2 / 4.0;
        double b2 = 1.2 * 1.2;
        assertThat(RougeL.score("a c e", List.of("a b c d", "x")))
                .isCloseTo((1 + b2) * p * r / (r + b2 * p), within(1e-12));
        assertThat(RougeL.score("x y", List.of("a b"))).isZero();
    }

    @Test
    void ciderIsTenForAPerfectUniqueCaptionAndZeroForNoOverlap() {
        CaptionSet s = CaptionSet.of(refs("1", List.of("a red car on the road"), "2", List.of("two dogs play")),
                Map.of("1", "a red car on the road", "2", "zebra"));
        MetricResult r = CiderD.score(s);
        assertThat(r.perImage().get(0)).isCloseTo(10.0, within(1e-9));
        assertThat(r.perImage().get(1)).isZero();
        assertThat(r.corpus()).isCloseTo(5.0, within(1e-9));
    }
}
