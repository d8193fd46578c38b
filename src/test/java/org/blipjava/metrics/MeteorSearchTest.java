package org.blipjava.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * METEOR's alignment search: unchanged on caption-sized pairs, and bounded on very long captions
 * (it used to take 30 s and 6 GB at 2,000 words and not finish at 3,000).
 */
class MeteorSearchTest {
    private static final Meteor.Stemmer STRIP_S = w -> w.endsWith("s") ? w.substring(0, w.length() - 1) : w;
    private static final Map<String, Set<String>> SYN = Map.of("car", Set.of("n:1"), "automobile", Set.of("n:1"),
            "big", Set.of("a:2"), "large", Set.of("a:2"));
    private static final Meteor TOY = new Meteor(Meteor.Parameters.ENGLISH, STRIP_S,
            w -> SYN.getOrDefault(w, Set.of()), Set.of("a", "the", "on"));
    private static final String[] WORDS = {"a", "the", "on", "dog", "dogs", "car", "cars", "automobile", "big",
        "large", "man", "runs", "run", "street"};

    /** Numbers of {@code s} in the column order of meteor-alignments.tsv. */
    private static int[] numbers(MeteorStats s) {
        return new int[] {s.testLength(), s.referenceLength(), s.testFunctionWords(), s.referenceFunctionWords(),
            s.exact().testContent(), s.exact().referenceContent(), s.exact().testFunction(),
            s.exact().referenceFunction(), s.stem().testContent(), s.stem().referenceContent(),
            s.stem().testFunction(), s.stem().referenceFunction(), s.synonym().testContent(),
            s.synonym().referenceContent(), s.synonym().testFunction(), s.synonym().referenceFunction(), s.chunks()};
    }

    @Test
    void captionSizedPairsAlignAsBeforeTheSearchWasBounded() throws IOException {
        // Recorded with the unbounded search: random, perturbed (stems, WordNet synonyms, swaps) and
        // long repetitive pairs; in 63 of them a wider beam changes the result, so the beam's
        // ordering and tie-breaking are exercised, not just the matching.
        String text;
        try (InputStream in = MeteorSearchTest.class.getResourceAsStream("meteor-alignments.tsv")) {
            assertThat(in).as("meteor-alignments.tsv on the test class path").isNotNull();
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Meteor jar = Meteor.english();
        Meteor covered = jar.withSearchRule(Meteor.SearchRule.COVERED_WORDS);
        int pairs = 0;
        for (String line : text.lines().filter(l -> !l.startsWith("#")).toList()) {
            String[] f = line.split("\t");
            int[] wantJar = Arrays.stream(f[2].split(" ")).mapToInt(Integer::parseInt).toArray();
            int[] wantCovered = Arrays.stream(f[3].split(" ")).mapToInt(Integer::parseInt).toArray();
            assertThat(numbers(jar.bestStats(f[0], List.of(f[1])))).as("METEOR_JAR: %s | %s", f[0], f[1])
                    .containsExactly(wantJar);
            assertThat(numbers(covered.bestStats(f[0], List.of(f[1])))).as("COVERED_WORDS: %s | %s", f[0], f[1])
                    .containsExactly(wantCovered);
            pairs++;
        }
        assertThat(pairs).isEqualTo(400);
    }

    private static List<String> randomWords(Random r, int n) {
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(WORDS[r.nextInt(WORDS.length)]);
        }
        return out;
    }

    private static List<String> repeated(int n) {
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(i % 2 == 0 ? "a" : "dog");
        }
        return out;
    }

    @Test
    void searchWorkGrowsLinearlyWithCaptionLength() {
        // Each reference word has hundreds of possible matches here; the unbounded search tried every
        // one from every path in the beam, so its work grew with the square of the length.
        long small = TOY.searchWork(repeated(500), repeated(500));
        long large = TOY.searchWork(repeated(5000), repeated(5000));
        long perStep = (long) Meteor.BEAM_SIZE * (3L * Meteor.MAX_OPTIONS + 1);
        assertThat(large).isLessThanOrEqualTo(5000 * perStep);
        assertThat((double) large / small).isLessThan(12.0);
        Random r = new Random(3);
        long mixed = TOY.searchWork(randomWords(r, 5000), randomWords(r, 5000));
        assertThat(mixed).isLessThanOrEqualTo(5000 * perStep);
    }

    @Test
    void fiveThousandWordCaptionsScoreInSeconds() {
        // Generous bound: the bounded search needs well under a second here; the old one did not finish.
        MeteorStats[] got = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            Random r = new Random(7);
            String candidate = String.join(" ", randomWords(r, 5000));
            String reference = String.join(" ", randomWords(r, 5000));
            String same = String.join(" ", repeated(5000));
            return new MeteorStats[] {TOY.bestStats(candidate, List.of(reference)), TOY.bestStats(same, List.of(same))};
        });
        assertThat(got[0].testLength()).isEqualTo(5000);
        assertThat(got[0].testMatches()).isPositive();
        // Bounding the choices does not lose the obvious alignment: a caption against itself is one chunk.
        assertThat(got[1].testMatches()).isEqualTo(5000);
        assertThat(got[1].chunks()).isEqualTo(1);
        assertThat(TOY.score(got[1])).isCloseTo(1.0, within(1e-12));
    }
}
