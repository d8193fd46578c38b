package org.blipjava.generation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Each processor and warper on hand-made scores, with expectations worked out by hand. */
class LogitsProcessorsTest {
    static final float NEG_INF = Float.NEGATIVE_INFINITY;

    static float[] run(LogitsProcessor p, int[][] ids, int length, float[] scores, int vocab) {
        float[] s = scores.clone();
        p.process(ids, length, s, vocab);
        return s;
    }

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeScoresOncePerToken() {
        int[][] ids = {{0, 1, 1}, {3, 3, 3}};
        float[] scores = {2.0f, -1.0f, 0.5f, 3.0f, /* row 1 */ 2.0f, -1.0f, 0.5f, 3.0f};
        float[] out = run(new RepetitionPenaltyLogitsProcessor(2.0), ids, 3, scores, 4);
        // Token 1 appears twice but is penalised once: -1 * 2 = -2, not -4.
        assertThat(out).containsExactly(1.0f, -2.0f, 0.5f, 3.0f, /* row 1 */ 2.0f, -1.0f, 0.5f, 1.5f);
        // Only the first `length` ids count.
        assertThat(run(new RepetitionPenaltyLogitsProcessor(2.0), new int[][] {{0, 3}}, 1, new float[] {4, 4, 4, 4}, 4))
                .containsExactly(2, 4, 4, 4);
    }

    @Test
    void noRepeatNgramBansTheTokensThatWouldRepeatAnNgram() {
        float[] zeros = new float[6];
        // Trigrams of 1 2 3 1 2: the row ends in (1, 2), which was followed by 3.
        assertThat(run(new NoRepeatNGramLogitsProcessor(3), new int[][] {{1, 2, 3, 1, 2}}, 5, zeros, 6))
                .containsExactly(0, 0, 0, NEG_INF, 0, 0);
        // Bigrams: the row ends in 2, which was followed by 3 once.
        assertThat(run(new NoRepeatNGramLogitsProcessor(2), new int[][] {{1, 2, 3, 1, 2}}, 5, zeros, 6))
                .containsExactly(0, 0, 0, NEG_INF, 0, 0);
        // Bigrams of 1 2 1 4 1: after 1 came 2 and 4.
        assertThat(run(new NoRepeatNGramLogitsProcessor(2), new int[][] {{1, 2, 1, 4, 1}}, 5, zeros, 6))
                .containsExactly(0, 0, NEG_INF, 0, NEG_INF, 0);
        // Unigrams: every token seen is banned.
        assertThat(run(new NoRepeatNGramLogitsProcessor(1), new int[][] {{5, 0}}, 2, zeros, 6))
                .containsExactly(NEG_INF, 0, 0, 0, 0, NEG_INF);
        // Too short to hold a full n-gram: nothing banned.
        assertThat(run(new NoRepeatNGramLogitsProcessor(3), new int[][] {{1, 1}}, 2, zeros, 6)).containsExactly(zeros);
    }

    @Test
    void minLengthForbidsEosOnlyWhileTooShort() {
        MinLengthLogitsProcessor p = new MinLengthLogitsProcessor(3, List.of(1, 4));
        float[] scores = {1, 2, 3, 4, 5};
        assertThat(run(p, new int[][] {{0, 0}}, 2, scores, 5)).containsExactly(1, NEG_INF, 3, 4, NEG_INF);
        assertThat(run(p, new int[][] {{0, 0, 0}}, 3, scores, 5)).containsExactly(scores);
    }

    @Test
    void temperatureDividesTheScores() {
        assertThat(run(new TemperatureLogitsWarper(2.0), new int[][] {{0}}, 1, new float[] {2, -4, 1}, 3))
                .containsExactly(1, -2, 0.5f);
    }

    @Test
    void topKKeepsTheKHighestAndEverythingTiedWithTheKth() {
        int[][] ids = {{0}};
        assertThat(run(new TopKLogitsWarper(2, 1), ids, 1, new float[] {1, 5, 3, 4, 2}, 5))
                .containsExactly(NEG_INF, 5, NEG_INF, 4, NEG_INF);
        assertThat(run(new TopKLogitsWarper(3, 1), ids, 1, new float[] {1, 5, 3, 5, 3}, 5))
                .containsExactly(NEG_INF, 5, 3, 5, 3);
        // min_tokens_to_keep raises k.
        assertThat(run(new TopKLogitsWarper(1, 2), ids, 1, new float[] {1, 5, 3, 4, 2}, 5))
                .containsExactly(NEG_INF, 5, NEG_INF, 4, NEG_INF);
        // Rows are independent.
        assertThat(run(new TopKLogitsWarper(1, 1), new int[][] {{0}, {0}}, 1, new float[] {1, 2, 4, 3}, 2))
                .containsExactly(NEG_INF, 2, 4, NEG_INF);
    }

    @Test
    void topPKeepsTheSmallestLikeliestSetReachingP() {
        float[] logits = MarkovDecoder.logProbs(.5, .3, .15, .05);
        int[][] ids = {{0}};
        // Ascending cumulative: .05, .20, .50, 1.0; 1 - 0.75 = .25 removes .05 and .15.
        assertThat(run(new TopPLogitsWarper(0.75, 1), ids, 1, logits, 4))
                .containsExactly(logits[0], logits[1], NEG_INF, NEG_INF);
        // 1 - 0.9 = .1 removes only .05.
        assertThat(run(new TopPLogitsWarper(0.9, 1), ids, 1, logits, 4))
                .containsExactly(logits[0], logits[1], logits[2], NEG_INF);
        // 1 - 0.3 = .7 would remove all but .5; min_tokens_to_keep 3 keeps three.
        assertThat(run(new TopPLogitsWarper(0.3, 3), ids, 1, logits, 4))
                .containsExactly(logits[0], logits[1], logits[2], NEG_INF);
        // Already-filtered entries (-inf) carry no probability.
        float[] filtered = {logits[0], logits[1], NEG_INF, NEG_INF};
        // Renormalised: .625, .375; 1 - 0.5 = .5 removes .375.
        assertThat(run(new TopPLogitsWarper(0.5, 1), ids, 1, filtered, 4))
                .containsExactly(logits[0], NEG_INF, NEG_INF, NEG_INF);
    }

    @Test
    void listsFollowTheReferenceOrder() {
        GenerationConfig all = GenerationConfig.builder().eosTokenId(2).repetitionPenalty(1.2).noRepeatNgramSize(3)
                .minLength(4).doSample(true).temperature(0.7).topK(10).topP(0.9).build();
        assertThat(LogitsProcessors.processors(all, 1)).extracting(Object::getClass).containsExactly(
                RepetitionPenaltyLogitsProcessor.class, NoRepeatNGramLogitsProcessor.class, MinLengthLogitsProcessor.class);
        assertThat(LogitsProcessors.warpers(all)).extracting(Object::getClass).containsExactly(
                TemperatureLogitsWarper.class, TopKLogitsWarper.class, TopPLogitsWarper.class);
        // Defaults: nothing to process; top_k 50 applies only when sampling.
        assertThat(LogitsProcessors.processors(GenerationConfig.defaults(), 1)).isEmpty();
        assertThat(LogitsProcessors.warpers(GenerationConfig.defaults())).isEmpty();
        assertThat(LogitsProcessors.warpers(GenerationConfig.builder().doSample(true).build()))
                .extracting(Object::getClass).containsExactly(TopKLogitsWarper.class);
        // Minimum length needs an eos id to forbid.
        assertThat(LogitsProcessors.processors(GenerationConfig.builder().minLength(5).build(), 1)).isEmpty();
    }

    @Test
    void minNewTokensCountsFromThePromptEnd() {
        GenerationConfig c = GenerationConfig.builder().eosTokenId(1).minNewTokens(2).build();
        LogitsProcessor p = LogitsProcessors.processors(c, 3).get(0);
        float[] scores = {0, 0};
        assertThat(run(p, new int[][] {{0, 0, 0, 0}}, 4, scores, 2)).containsExactly(0, NEG_INF);
        assertThat(run(p, new int[][] {{0, 0, 0, 0, 0}}, 5, scores, 2)).containsExactly(0, 0);
    }

    @Test
    void logSoftmaxAndCandidateSelection() {
        float[] in = {1, 2, 3, 0};
        float[] out = new float[4];
        Generator.logSoftmax(in, out, 0, 4);
        double lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3) + Math.exp(0));
        assertThat(out[2]).isCloseTo((float) (3 - lse), within(1e-6f));
        assertThat(out[3]).isCloseTo((float) (0 - lse), within(1e-6f));

        float[] scores = {0.1f, 0.9f, 0.5f, 0.9f, -1f, 0.7f};
        float[] s = new float[3];
        int[] idx = new int[3];
        Generator.topCandidates(scores, 0, 6, 3, s, idx);
        // Best first; among equal scores the lower index first.
        assertThat(idx).containsExactly(1, 3, 5);
        assertThat(s).containsExactly(0.9f, 0.9f, 0.7f);
        Generator.topCandidates(scores, 2, 4, 2, s, idx);
        assertThat(idx[0]).isEqualTo(1);
        assertThat(idx[1]).isEqualTo(3);
    }

    @Test
    void constructorsRejectBadArguments() {
        assertThatThrownBy(() -> new RepetitionPenaltyLogitsProcessor(0)).hasMessageContaining("repetition_penalty");
        assertThatThrownBy(() -> new TemperatureLogitsWarper(0)).hasMessageContaining("temperature");
        assertThatThrownBy(() -> new TopPLogitsWarper(1.5, 1)).hasMessageContaining("top_p");
        assertThatThrownBy(() -> new TopKLogitsWarper(0, 1)).hasMessageContaining("top_k");
        assertThatThrownBy(() -> new NoRepeatNGramLogitsProcessor(0)).hasMessageContaining("no_repeat_ngram_size");
    }
}
