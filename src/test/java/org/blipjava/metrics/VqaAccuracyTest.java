package org.blipjava.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

class VqaAccuracyTest {
    private static List<String> answers(String... pairs) {
        // "yes*3", "no*7" -> three yes, seven no
        List<String> out = new ArrayList<>();
        for (String p : pairs) {
            int star = p.lastIndexOf('*');
            out.addAll(Collections.nCopies(Integer.parseInt(p.substring(star + 1)), p.substring(0, star)));
        }
        return out;
    }

    @Test
    void leaveOneOutAveraging() {
        // k humans agree: each of the k subsets without one of them has k-1 matches, the other
        // 10-k subsets have k matches; each scores min(matches/3, 1).
        for (int k = 0; k <= 10; k++) {
            List<String> humans = answers("yes*" + k, "no*" + (10 - k));
            double want = (k * Math.min(1.0, (k - 1) / 3.0) + (10 - k) * Math.min(1.0, k / 3.0)) / 10.0;
            if (k == 0) {
                want = 0;
            }
            assertThat(VqaAccuracy.accuracy("yes", humans)).as("k=" + k).isCloseTo(want, within(1e-12));
        }
        assertThat(VqaAccuracy.accuracy("yes", answers("yes*1", "no*9"))).isCloseTo(0.3, within(1e-12));
        assertThat(VqaAccuracy.accuracy("yes", answers("yes*2", "no*8"))).isCloseTo(0.6, within(1e-12));
        assertThat(VqaAccuracy.accuracy("yes", answers("yes*3", "no*7"))).isCloseTo(0.9, within(1e-12));
        assertThat(VqaAccuracy.accuracy("yes", answers("yes*4", "no*6"))).isEqualTo(1.0);
    }

    @Test
    void numberWordsArticlesAndCase() {
        assertThat(VqaAccuracy.normalize("Two")).isEqualTo("2");
        assertThat(VqaAccuracy.normalize("none")).isEqualTo("0");
        assertThat(VqaAccuracy.normalize("The Red  Car")).isEqualTo("red car");
        assertThat(VqaAccuracy.normalize("an apple and a pear")).isEqualTo("apple and pear");
        assertThat(VqaAccuracy.normalize("\tten\n")).isEqualTo("10");
        assertThat(VqaAccuracy.accuracy("Three", answers("3*10"))).isEqualTo(1.0);
    }

    @Test
    void contractions() {
        assertThat(VqaAccuracy.normalize("dont")).isEqualTo("don't");
        assertThat(VqaAccuracy.normalize("it isnt")).isEqualTo("it isn't");
        assertThat(VqaAccuracy.normalize("oclock")).isEqualTo("o'clock");
        // Keys with capitals in the script's table cannot match a lower-cased word.
        assertThat(VqaAccuracy.normalize("Im")).isEqualTo("im");
    }

    @Test
    void punctuation() {
        // A mark touching a space is deleted, otherwise it becomes a space.
        assertThat(VqaAccuracy.processPunctuation("black/white")).isEqualTo("black white");
        assertThat(VqaAccuracy.processPunctuation("black / white")).isEqualTo("black  white");
        assertThat(VqaAccuracy.normalize("black/white")).isEqualTo("black white");
        assertThat(VqaAccuracy.normalize("yes!")).isEqualTo("yes");
        // A comma between digits makes every mark disappear instead of becoming a space.
        assertThat(VqaAccuracy.processPunctuation("1,000")).isEqualTo("1000");
        assertThat(VqaAccuracy.processPunctuation("t-shirt 1,5")).isEqualTo("tshirt 15");
        // Periods go unless a digit follows.
        assertThat(VqaAccuracy.processPunctuation("3.5")).isEqualTo("3.5");
        assertThat(VqaAccuracy.processPunctuation("mr. smith.")).isEqualTo("mr smith");
        // Apostrophes and colons are not in the script's list.
        assertThat(VqaAccuracy.processPunctuation("12:30 man's")).isEqualTo("12:30 man's");
        // At most 32 periods are removed.
        String dots = ".".repeat(40);
        assertThat(VqaAccuracy.processPunctuation(dots)).isEqualTo(".".repeat(8));
    }

    @Test
    void humanAnswersGetPunctuationOnlyWhenTheyDisagree() {
        // Disagreeing humans: "t-shirt" becomes "t shirt", which the normalized prediction matches.
        List<String> mixed = answers("t-shirt*3", "shirt*7");
        assertThat(VqaAccuracy.accuracy("t-shirt", mixed)).isCloseTo(0.9, within(1e-12));
        // Unanimous humans keep "t-shirt" as written, so the normalized prediction "t shirt" misses.
        assertThat(VqaAccuracy.accuracy("t-shirt", answers("t-shirt*10"))).isEqualTo(0.0);
        // Articles are not removed from human answers: only the two "dog" answers match "the dog".
        assertThat(VqaAccuracy.accuracy("the dog", answers("the dog*8", "dog*2")))
                .isCloseTo((2 * (1 / 3.0) + 8 * (2 / 3.0)) / 10, within(1e-12));
    }

    @Test
    void meanOverQuestionsAndErrors() {
        double m = VqaAccuracy.meanAccuracy(List.of("yes", "2"), List.of(answers("yes*10"), answers("two*1", "2*1", "3*8")));
        assertThat(m).isCloseTo((1.0 + 0.3) / 2, within(1e-12));
        assertThatThrownBy(() -> VqaAccuracy.accuracy("yes", List.of())).hasMessageContaining("no human answers");
        assertThatThrownBy(() -> VqaAccuracy.meanAccuracy(List.of("a"), List.of()))
                .hasMessageContaining("1 answers but 0");
    }
}
