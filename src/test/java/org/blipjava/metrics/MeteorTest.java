package org.blipjava.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * METEOR on small cases computed by hand from the METEOR formulas, with a toy stemmer (strip a
 * final "s"), a toy synonym table and explicit function words so every number is visible.
 */
class MeteorTest {
    private static final double ALPHA = 0.85;
    private static final double BETA = 0.2;
    private static final double GAMMA = 0.6;
    private static final double DELTA = 0.75;

    private static final Meteor.Stemmer STRIP_S = w -> w.endsWith("s") ? w.substring(0, w.length() - 1) : w;
    private static final Map<String, Set<String>> SYN = Map.of("car", Set.of("n:1"), "automobile", Set.of("n:1"),
            "big", Set.of("a:2"), "large", Set.of("a:2"));

    private static Meteor toy(Set<String> functionWords) {
        return new Meteor(Meteor.Parameters.ENGLISH, STRIP_S, w -> SYN.getOrDefault(w, Set.of()), functionWords);
    }

    private static double fmean(double p, double r) {
        return p * r / ((1 - ALPHA) * r + ALPHA * p);
    }

    private static double score(Meteor m, String cand, String... refs) {
        return m.score(m.bestStats(cand, List.of(refs)));
    }

    @Test
    void identicalSentenceScoresOne() {
        assertThat(score(toy(Set.of()), "a dog runs", "a dog runs")).isCloseTo(1.0, within(1e-12));
    }

    @Test
    void exactMatchesWithMissingWords() {
        // a, b matched in one chunk; candidate has 4 words, reference 3.
        double p = 2 / 4.0;
        double r = 2 / 3.0;
        double frag = 1 / ((2 + 2) / 2.0);
        double want = fmean(p, r) * (1 - GAMMA * Math.pow(frag, BETA));
        MeteorStats s = toy(Set.of()).bestStats("a b c d", List.of("a b x"));
        assertThat(s.exact().testContent()).isEqualTo(2);
        assertThat(s.chunks()).isEqualTo(1);
        assertThat(toy(Set.of()).score(s)).isCloseTo(want, within(1e-12));
    }

    @Test
    void fragmentationPenalty() {
        // All words matched but in swapped order: two chunks of one word, frag = 2 / 2 = 1.
        MeteorStats s = toy(Set.of()).bestStats("b a", List.of("a b"));
        assertThat(s.chunks()).isEqualTo(2);
        assertThat(toy(Set.of()).score(s)).isCloseTo(1.0 * (1 - GAMMA), within(1e-12));
    }

    @Test
    void stemMatchesWeighZeroPointSix() {
        MeteorStats s = toy(Set.of()).bestStats("dogs run", List.of("dog run"));
        assertThat(s.exact().testContent()).isEqualTo(1);
        assertThat(s.stem().testContent()).isEqualTo(1);
        assertThat(s.stem().referenceContent()).isEqualTo(1);
        // One chunk covering everything: no penalty.
        double p = (1.0 + 0.6) / 2;
        assertThat(toy(Set.of()).score(s)).isCloseTo(fmean(p, p), within(1e-12));
    }

    @Test
    void synonymMatchesWeighZeroPointEight() {
        MeteorStats s = toy(Set.of()).bestStats("red car", List.of("red automobile"));
        assertThat(s.synonym().testContent()).isEqualTo(1);
        double p = (1.0 + 0.8) / 2;
        assertThat(toy(Set.of()).score(s)).isCloseTo(fmean(p, p), within(1e-12));
    }

    @Test
    void functionWordsWeighOneMinusDelta() {
        // "a" is a function word: length 0.75 * 1 + 0.25 * 1, matched 0.25.
        MeteorStats s = toy(Set.of("a")).bestStats("a dog", List.of("a cat"));
        assertThat(s.testFunctionWords()).isEqualTo(1);
        assertThat(s.exact().testFunction()).isEqualTo(1);
        double p = (1 - DELTA) / (DELTA + (1 - DELTA));
        double frag = 1 / 1.0;
        assertThat(toy(Set.of("a")).score(s)).isCloseTo(fmean(p, p) * (1 - GAMMA * Math.pow(frag, BETA)), within(1e-12));
    }

    @Test
    void ambiguousMatchTakesTheAlignmentWithFewerChunks() {
        // Reference "a" could match either candidate "a"; the one after "x" continues the chunk.
        MeteorStats s = toy(Set.of()).bestStats("a x a", List.of("x a"));
        assertThat(s.chunks()).isEqualTo(1);
        double want = fmean(2 / 3.0, 1.0) * (1 - GAMMA * Math.pow(1 / 2.0, BETA));
        assertThat(toy(Set.of()).score(s)).isCloseTo(want, within(1e-12));
    }

    @Test
    void searchCountsStemMatchesAsCoveredWords() {
        // "dog" can stem-match either "dogs". Covering two more words beats the extra chunk it costs.
        Meteor covered = toy(Set.of()).withSearchRule(Meteor.SearchRule.COVERED_WORDS);
        MeteorStats s = covered.bestStats("b dogs dogs", List.of("dog b"));
        assertThat(s.stem().testContent()).isEqualTo(1);
        assertThat(s.stem().referenceContent()).isEqualTo(1);
        assertThat(s.exact().testContent()).isEqualTo(1);
        assertThat(s.chunks()).isEqualTo(2);
        double p = (1 + 0.6) / 3;
        double r = (1 + 0.6) / 2;
        assertThat(covered.score(s)).isCloseTo(fmean(p, r) * (1 - GAMMA), within(1e-12));
    }

    @Test
    void jarSearchRuleCountsNonExactMatchesAsZero() {
        // meteor-1.5.jar adds 0.5 per side to an integer total: taking the stem match gains
        // nothing and costs a chunk, so that alignment leaves it out.
        Meteor jar = toy(Set.of()).withSearchRule(Meteor.SearchRule.METEOR_JAR);
        assertThat(jar.searchRule()).isEqualTo(Meteor.SearchRule.METEOR_JAR);
        MeteorStats s = jar.bestStats("b dogs dogs", List.of("dog b"));
        assertThat(s.stem().testContent()).isZero();
        assertThat(s.exact().testContent()).isEqualTo(1);
        assertThat(s.chunks()).isEqualTo(1);
        assertThat(jar.score(s)).isCloseTo(fmean(1 / 3.0, 1 / 2.0) * (1 - GAMMA), within(1e-12));
    }

    @Test
    void matchesProposedByStemAndSynonymModulesAreUsed() {
        // Both pairs are proposed twice (stem and synonym), so neither is fixed before the search;
        // the search must still take them. The stem module comes first, so its matches win the tie.
        Map<String, Set<String>> syn = Map.of("dog", Set.of("n:3"), "dogs", Set.of("n:3"),
                "run", Set.of("v:4"), "runs", Set.of("v:4"));
        Meteor m = new Meteor(Meteor.Parameters.ENGLISH, STRIP_S, w -> syn.getOrDefault(w, Set.of()), Set.of())
                .withSearchRule(Meteor.SearchRule.COVERED_WORDS);
        MeteorStats s = m.bestStats("dogs runs", List.of("dog run"));
        assertThat(s.stem().testContent()).isEqualTo(2);
        assertThat(s.stem().referenceContent()).isEqualTo(2);
        assertThat(s.synonym().testContent()).isZero();
        assertThat(s.chunks()).isEqualTo(1);
        assertThat(m.score(s)).isCloseTo(fmean(0.6, 0.6), within(1e-12));
        // Synonym-only pairs that also compete with another candidate word are used too.
        MeteorStats y = toy(Set.of()).withSearchRule(Meteor.SearchRule.COVERED_WORDS)
                .bestStats("big car car", List.of("large automobile"));
        assertThat(y.synonym().testContent()).isEqualTo(2);
        assertThat(y.chunks()).isEqualTo(1);
        assertThat(m.withSearchRule(Meteor.SearchRule.METEOR_JAR).bestStats("dogs runs", List.of("dog run"))
                .testMatches()).isZero();
    }

    @Test
    void bestReferenceAndCorpusFromSummedStatistics() {
        Meteor m = toy(Set.of());
        assertThat(score(m, "dog run", "x y", "dog run", "dog")).isCloseTo(1.0, within(1e-12));
        Map<String, List<String>> refs = new LinkedHashMap<>();
        refs.put("1", List.of("a b"));
        refs.put("2", List.of("a b"));
        Map<String, String> cands = new LinkedHashMap<>();
        cands.put("1", "a b");
        cands.put("2", "b a");
        MetricResult r = m.score(CaptionSet.of(refs, cands));
        assertThat(r.perImage().get(0)).isCloseTo(1.0, within(1e-12));
        assertThat(r.perImage().get(1)).isCloseTo(1 - GAMMA, within(1e-12));
        // Summed: 4 of 4 words matched on both sides in 3 chunks.
        assertThat(r.corpus()).isCloseTo(1 - GAMMA * Math.pow(3 / 4.0, BETA), within(1e-12));
    }

    @Test
    void nothingMatchedScoresZero() {
        assertThat(score(toy(Set.of()), "x y", "a b")).isZero();
        assertThat(score(toy(Set.of()), "", "a b")).isZero();
    }

    @Test
    void englishResourcesStemAndSynonyms() {
        Meteor.Stemmer stem = MeteorResources.snowballEnglish();
        assertThat(stem.stem("running")).isEqualTo("run");
        assertThat(stem.stem("dogs")).isEqualTo("dog");
        Meteor.Synonyms wn = MeteorResources.wordNet();
        assertThat(wn.synsets("car")).containsAnyElementsOf(wn.synsets("automobile"));
        // Base forms through WordNet's exception lists: "mice" shares the synsets of "mouse".
        assertThat(wn.synsets("mice")).isNotEmpty().isSubsetOf(wn.synsets("mouse"));
        assertThat(wn.synsets("car")).doesNotContainAnyElementsOf(wn.synsets("banana"));
        assertThat(MeteorResources.englishFunctionWords()).contains("a", "the", "of").doesNotContain("dog");

        Meteor m = Meteor.english();
        // The default reproduces meteor-1.5.jar, which coco-caption runs.
        assertThat(m.searchRule()).isEqualTo(Meteor.SearchRule.METEOR_JAR);
        MeteorStats s = m.bestStats("a large automobile", List.of("a big car"));
        assertThat(s.exact().testFunction()).isEqualTo(1);
        assertThat(s.synonym().testContent()).isEqualTo(2);
        // A stem match WordNet does not know about is the only option for its words, so it is fixed.
        MeteorStats st = m.bestStats("a blorks", List.of("a blork"));
        assertThat(st.stem().testContent()).isEqualTo(1);
        // "dogs"/"dog" and "running"/"runs" are proposed by both the stem and the synonym module,
        // so they are not fixed; the search still aligns both as stem matches in one chunk.
        Meteor covered = m.withSearchRule(Meteor.SearchRule.COVERED_WORDS);
        MeteorStats both = covered.bestStats("dogs running", List.of("dog runs"));
        assertThat(both.stem().testContent()).isEqualTo(2);
        assertThat(both.stem().referenceContent()).isEqualTo(2);
        assertThat(both.chunks()).isEqualTo(1);
        assertThat(covered.score(both)).isCloseTo(fmean(0.6, 0.6), within(1e-12));
        assertThat(m.withSearchRule(Meteor.SearchRule.METEOR_JAR).bestStats("dogs running", List.of("dog runs"))
                .testMatches()).isZero();
    }
}
