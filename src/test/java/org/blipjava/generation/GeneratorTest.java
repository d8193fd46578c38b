package org.blipjava.generation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.blipjava.generation.MarkovDecoder.logProbs;

import org.junit.jupiter.api.Test;

/**
 * Generation over toy Markov decoders whose next-token probabilities are written out below, so every
 * expected sequence and score is worked out by hand from those tables (see the comments).
 */
class GeneratorTest {
    static final int PAD = 0, EOS = 1, START = 2, A = 3, B = 4, C = 5;
    static final int[] PROMPT = {START};
    static final float[] UNIFORM = logProbs(1 / 6.0, 1 / 6.0, 1 / 6.0, 1 / 6.0, 1 / 6.0, 1 / 6.0);

    /**
     * T1: greedy goes START A EOS (0.5 * 0.35 = 0.175) but START B EOS is likelier (0.4 * 0.9 = 0.36).
     * Columns: pad, eos, start, A, B, C.
     */
    static final float[][] T1 = {
            UNIFORM,
            UNIFORM,
            logProbs(.025, .025, .025, .5, .4, .025),
            logProbs(.03, .35, .03, .3, .25, .04),
            logProbs(.02, .9, .02, .02, .02, .02),
            UNIFORM};

    /** T2: both first tokens end well at once, but long runs of C average a better log-probability. */
    static final float[][] T2 = {
            UNIFORM,
            UNIFORM,
            logProbs(.025, .025, .025, .5, .4, .025),
            logProbs(.05, .6, .05, .05, .05, .2),
            logProbs(.05, .6, .05, .05, .05, .2),
            logProbs(.01, .01, .01, .01, .01, .95)};

    /** T3: never ends: after A or B comes C (0.9), then C (0.95) forever. */
    static final float[][] T3 = {
            UNIFORM,
            UNIFORM,
            logProbs(.025, .025, .025, .5, .4, .025),
            logProbs(.02, .02, .02, .02, .02, .9),
            logProbs(.02, .02, .02, .02, .02, .9),
            logProbs(.01, .01, .01, .01, .01, .95)};

    /** T4: raw logits (not log-probabilities) for repetition tests: A repeats forever unless penalised. */
    static final float[][] T4 = {
            new float[6],
            new float[6],
            {0, 0, 0, 2.0f, 1.8f, 0},
            {0, 0.5f, 0, 2.0f, 1.5f, 0},
            {0, 1.4f, 0, 0, 2.0f, 0},
            new float[6]};

    static GenerationConfig.Builder cfg() {
        return GenerationConfig.builder().eosTokenId(EOS).padTokenId(PAD);
    }

    static GenerationResult run(MarkovDecoder.Stats stats, GenerationConfig cfg, float[][]... tables) {
        return Generator.generate(MarkovDecoder.factory(tables, stats), tables.length, PROMPT, cfg);
    }

    static GenerationResult run(GenerationConfig cfg, float[][]... tables) {
        return run(new MarkovDecoder.Stats(), cfg, tables);
    }

    // ---------------------------------------------------------------- greedy

    @Test
    void greedyTakesTheArgmaxAndStopsWhenEveryRowEnded() {
        MarkovDecoder.Stats stats = new MarkovDecoder.Stats();
        GenerationResult r = run(stats, cfg().maxLength(20).build(), T1, T1);
        assertThat(r.sequences()).isDeepEqualTo(new int[][] {{START, A, EOS}, {START, A, EOS}});
        assertThat(r.sequencesScores()).isNull();
        assertThat(stats.forwardCalls).isEqualTo(2);
        assertThat(stats.closed).isEqualTo(1);
    }

    @Test
    void greedyPadsFinishedRowsAndKeepsFeedingThemPad() {
        MarkovDecoder.Stats stats = new MarkovDecoder.Stats();
        GenerationResult r = run(stats, cfg().maxLength(6).build(), T1, T3);
        // T1 ends after START A; T3 runs START A C C C until max_length 6.
        assertThat(r.sequences()).isDeepEqualTo(new int[][] {{START, A, EOS, PAD, PAD, PAD}, {START, A, C, C, C, C}});
        assertThat(stats.lastRowInputs).containsExactly(0, 1);
        // The last generated token is never fed back; the finished row was fed pad ids.
        assertThat(stats.finalHistories.get(0)[0]).containsExactly(START, A, EOS, PAD, PAD);
        assertThat(r.inputIndex(0)).isZero();
        assertThat(r.inputIndex(1)).isEqualTo(1);
        assertThat(r.generatedTokens(0)).containsExactly(A);
        assertThat(r.generatedTokens(1)).containsExactly(A, C, C, C, C);
    }

    @Test
    void maxNewTokensCountsFromTheEndOfThePrompt() {
        GenerationResult r = Generator.generate(MarkovDecoder.factory(new float[][][] {T3}, new MarkovDecoder.Stats()),
                new int[][] {{START, A}}, cfg().maxLength(50).maxNewTokens(3).build());
        assertThat(r.sequences()).isDeepEqualTo(new int[][] {{START, A, C, C, C}});
        assertThat(r.promptLength()).isEqualTo(2);
        assertThat(r.generatedTokens(0)).containsExactly(C, C, C);
    }

    @Test
    void minLengthForbidsEosUntilTheSequenceIsLongEnough() {
        // Length 2 and 3 are below 4: after A the best non-eos is A (0.3 > 0.25); at length 4 eos (0.35) wins.
        assertThat(run(cfg().minLength(4).build(), T1).sequences()).isDeepEqualTo(new int[][] {{START, A, A, A, EOS}});
        assertThat(run(cfg().minNewTokens(3).build(), T1).sequences()).isDeepEqualTo(new int[][] {{START, A, A, A, EOS}});
        assertThat(run(cfg().minLength(2).build(), T1).sequences()).isDeepEqualTo(new int[][] {{START, A, EOS}});
    }

    @Test
    void repetitionPenaltyChangesTheGreedyPath() {
        assertThat(run(cfg().maxLength(5).build(), T4).sequences()).isDeepEqualTo(new int[][] {{START, A, A, A, A}});
        // Penalty 1.5: after A, A scores 2.0/1.5 = 1.33 < B 1.5; after B, B scores 1.33 < eos 1.4.
        assertThat(run(cfg().maxLength(10).repetitionPenalty(1.5).build(), T4).sequences())
                .isDeepEqualTo(new int[][] {{START, A, B, EOS}});
    }

    @Test
    void noRepeatNgramBansRepeatedBigrams() {
        // (A,A) seen -> A banned after A -> B; (B,B) is new -> B; then (B,B) seen -> eos (1.4).
        assertThat(run(cfg().maxLength(10).noRepeatNgramSize(2).build(), T4).sequences())
                .isDeepEqualTo(new int[][] {{START, A, A, B, B, EOS}});
    }

    // ---------------------------------------------------------------- beam search

    @Test
    void beamSearchFindsTheLikelierSequenceThatGreedyMisses() {
        MarkovDecoder.Stats stats = new MarkovDecoder.Stats();
        GenerationResult r = run(stats, cfg().numBeams(2).maxLength(10).build(), T1);
        assertThat(r.sequences()).isDeepEqualTo(new int[][] {{START, B, EOS}});
        // Two generated tokens (B and eos): ln(0.4 * 0.9) / 2.
        assertThat(r.sequencesScores()[0]).isCloseTo((float) (Math.log(.36) / 2), within(1e-5f));
        assertThat(stats.lastRowInputs).containsExactly(0, 0);
    }

    @Test
    void beamSearchReturnsHypothesesBestFirstWithLengthPenaltyOverGeneratedLength() {
        // Step 2 finishes B-eos (0.36) and A-eos (0.175); step 3 finishes A B eos (0.5*0.25*0.9 = 0.1125),
        // which replaces A-eos: ln(0.1125)/3 = -0.728 > ln(0.175)/2 = -0.872. Then the best candidate,
        // ln(0.1125)/3, cannot beat the worst kept hypothesis (the same value): done after 3 steps.
        MarkovDecoder.Stats stats = new MarkovDecoder.Stats();
        GenerationResult r = run(stats, cfg().numBeams(2).numReturnSequences(2).maxLength(10).build(), T1);
        assertThat(r.sequences()).isDeepEqualTo(new int[][] {{START, B, EOS, PAD}, {START, A, B, EOS}});
        assertThat(r.sequencesScores()[0]).isCloseTo((float) (Math.log(.36) / 2), within(1e-5f));
        assertThat(r.sequencesScores()[1]).isCloseTo((float) (Math.log(.1125) / 3), within(1e-5f));
        assertThat(stats.forwardCalls).isEqualTo(3);
        assertThat(r.generatedTokens(0)).containsExactly(B);
        assertThat(r.generatedTokens(1)).containsExactly(A, B);

        GenerationResult lp = run(cfg().numBeams(2).numReturnSequences(2).maxLength(10).lengthPenalty(0.6).build(), T1);
        assertThat(lp.sequences()).isDeepEqualTo(new int[][] {{START, B, EOS, PAD}, {START, A, B, EOS}});
        assertThat(lp.sequencesScores()[0]).isCloseTo((float) (Math.log(.36) / Math.pow(2, .6)), within(1e-5f));
        assertThat(lp.sequencesScores()[1]).isCloseTo((float) (Math.log(.1125) / Math.pow(3, .6)), within(1e-5f));
    }

    @Test
    void earlyStoppingTrueStopsAsSoonAsNumBeamsHypothesesAreFinished() {
        MarkovDecoder.Stats stats = new MarkovDecoder.Stats();
        GenerationResult r = run(stats, cfg().numBeams(2).numReturnSequences(2).maxLength(10)
                .earlyStopping(EarlyStopping.EARLY).build(), T1);
        assertThat(r.sequences()).isDeepEqualTo(new int[][] {{START, B, EOS}, {START, A, EOS}});
        assertThat(r.sequencesScores()[1]).isCloseTo((float) (Math.log(.175) / 2), within(1e-5f));
        assertThat(stats.forwardCalls).isEqualTo(2);
    }

    @Test
    void heuristicStopsWhereNeverKeepsSearchingForLongerBetterHypotheses() {
        // Step 2 finishes A-eos (ln .3 / 2 = -0.602) and B-eos (ln .24 / 2 = -0.714). At step 3 the best
        // candidate is A C C (0.095): ln(.095)/3 = -0.785 <= -0.714, so the heuristic is done.
        MarkovDecoder.Stats heuristicStats = new MarkovDecoder.Stats();
        GenerationResult heuristic = run(heuristicStats, cfg().numBeams(2).maxLength(10).build(), T2);
        assertThat(heuristic.sequences()).isDeepEqualTo(new int[][] {{START, A, EOS}});
        assertThat(heuristic.sequencesScores()[0]).isCloseTo((float) (Math.log(.3) / 2), within(1e-5f));
        assertThat(heuristicStats.forwardCalls).isEqualTo(3);

        // "never" compares with ln(best)/(max_length - prompt) and runs to max_length, where the running
        // beam START A C*8 scores (ln .5 + ln .2 + 7 ln .95) / 9 = -0.296, better than every finished one.
        MarkovDecoder.Stats neverStats = new MarkovDecoder.Stats();
        GenerationResult never = run(neverStats, cfg().numBeams(2).maxLength(10)
                .earlyStopping(EarlyStopping.NEVER).build(), T2);
        assertThat(never.sequences()).isDeepEqualTo(new int[][] {{START, A, C, C, C, C, C, C, C, C}});
        assertThat(never.sequencesScores()[0])
                .isCloseTo((float) ((Math.log(.5) + Math.log(.2) + 7 * Math.log(.95)) / 9), within(1e-5f));
        assertThat(neverStats.forwardCalls).isEqualTo(9);
    }

    @Test
    void beamSearchOverABatchKeepsInputsApartAndPadsFinishedOnes() {
        MarkovDecoder.Stats stats = new MarkovDecoder.Stats();
        GenerationResult r = run(stats, cfg().numBeams(2).numReturnSequences(2).maxLength(10).build(), T1, T3);
        assertThat(stats.lastRowInputs).containsExactly(0, 0, 1, 1);
        // Input 0 is done after 3 steps (as alone); input 1 never emits eos and stops at max_length 10,
        // so every sequence is 10 long: no room for an eos after the 10-token ones.
        assertThat(r.sequences()).isDeepEqualTo(new int[][] {
                {START, B, EOS, PAD, PAD, PAD, PAD, PAD, PAD, PAD},
                {START, A, B, EOS, PAD, PAD, PAD, PAD, PAD, PAD},
                {START, A, C, C, C, C, C, C, C, C},
                {START, B, C, C, C, C, C, C, C, C}});
        float[] s = r.sequencesScores();
        assertThat(s[0]).isCloseTo((float) (Math.log(.36) / 2), within(1e-5f));
        assertThat(s[1]).isCloseTo((float) (Math.log(.1125) / 3), within(1e-5f));
        assertThat(s[2]).isCloseTo((float) ((Math.log(.45) + 7 * Math.log(.95)) / 9), within(1e-5f));
        assertThat(s[3]).isCloseTo((float) ((Math.log(.36) + 7 * Math.log(.95)) / 9), within(1e-5f));
        assertThat(new int[] {r.inputIndex(0), r.inputIndex(1), r.inputIndex(2), r.inputIndex(3)})
                .containsExactly(0, 0, 1, 1);
        assertThat(stats.forwardCalls).isEqualTo(9);
        assertThat(stats.selectCalls).isPositive();
    }

    @Test
    void beamScoresCountOnlyTheTokensAfterALongerPrompt() {
        // Prompt START A (length 2). Step 1 finishes eos (.35, 1 token); step 2 finishes B eos (.25 * .9 =
        // .225, 2 tokens), which beats it; step 3 finishes A B eos (.3 * .25 * .9 = .0675, 3 tokens):
        // ln(.0675)/3 = -0.898 beats ln(.35)/1 = -1.050, and then equals the best candidate: done.
        GenerationResult r = Generator.generate(MarkovDecoder.factory(new float[][][] {T1}, new MarkovDecoder.Stats()),
                new int[][] {{START, A}}, cfg().numBeams(2).numReturnSequences(2).maxLength(10).build());
        assertThat(r.sequences()).isDeepEqualTo(new int[][] {{START, A, B, EOS, PAD}, {START, A, A, B, EOS}});
        assertThat(r.sequencesScores()[0]).isCloseTo((float) (Math.log(.225) / 2), within(1e-5f));
        assertThat(r.sequencesScores()[1]).isCloseTo((float) (Math.log(.0675) / 3), within(1e-5f));
        assertThat(r.generatedTokens(1)).containsExactly(A, B);
        assertThat(r.withoutPadding(1)).containsExactly(START, A, A, B);
    }

    @Test
    void beamSearchAppliesMinLengthToLogProbabilities() {
        // min_length 4 forbids eos at lengths 2 and 3: step 2 keeps A A (.15) and A B (.125); step 3
        // keeps A A A (.045) and A A B (.0375) (A B * < .0025); at step 4 A A B eos (.03375) wins:
        // ln(.03375)/4, and A A A eos (.01575) is second.
        GenerationResult r = run(cfg().numBeams(2).numReturnSequences(2).maxLength(5).minLength(4).build(), T1);
        assertThat(r.sequences()).isDeepEqualTo(new int[][] {{START, A, A, B, EOS}, {START, A, A, A, EOS}});
        assertThat(r.sequencesScores()[0]).isCloseTo((float) (Math.log(.03375) / 4), within(1e-5f));
        assertThat(r.sequencesScores()[1]).isCloseTo((float) (Math.log(.01575) / 4), within(1e-5f));
    }

    // ---------------------------------------------------------------- sampling

    @Test
    void samplingIsReproducibleForASeedAndVariesAcrossSeeds() {
        GenerationConfig c = cfg().doSample(true).topK(0).numReturnSequences(5).maxLength(8).seed(42L).build();
        float[][] uniform = {UNIFORM, UNIFORM, UNIFORM, UNIFORM, UNIFORM, UNIFORM};
        GenerationResult a = run(c, uniform, uniform);
        GenerationResult b = run(c, uniform, uniform);
        assertThat(a.sequences()).isDeepEqualTo(b.sequences());
        assertThat(a.size()).isEqualTo(10);
        assertThat(a.inputIndex(4)).isZero();
        assertThat(a.inputIndex(5)).isEqualTo(1);
        java.util.Set<String> distinct = new java.util.HashSet<>();
        for (long seed = 0; seed < 5; seed++) {
            distinct.add(java.util.Arrays.deepToString(run(c.toBuilder().seed(seed).build(), uniform).sequences()));
        }
        assertThat(distinct).hasSizeGreaterThan(1);
    }

    @Test
    void topKOneSamplingEqualsGreedy() {
        GenerationResult greedy = run(cfg().maxLength(8).build(), T1, T3, T2);
        GenerationResult sampled = run(cfg().maxLength(8).doSample(true).topK(1).seed(7L).build(), T1, T3, T2);
        assertThat(sampled.sequences()).isDeepEqualTo(greedy.sequences());
    }

    /** START -> A with 0.7, B with 0.3, nothing else. */
    static final float[][] COIN = {UNIFORM, UNIFORM,
            logProbs(0, 0, 0, .7, .3, 0), UNIFORM, UNIFORM, UNIFORM};

    static double shareOfA(GenerationConfig c) {
        GenerationResult r = run(c, COIN);
        int a = 0;
        for (int i = 0; i < r.size(); i++) {
            a += r.sequence(i)[1] == A ? 1 : 0;
        }
        return a / (double) r.size();
    }

    @Test
    void samplingFollowsTheDistributionAndItsWarpers() {
        GenerationConfig.Builder c = cfg().doSample(true).maxNewTokens(1).numReturnSequences(4000).seed(123L);
        assertThat(shareOfA(c.build())).isCloseTo(0.7, within(0.03));
        // Temperature 0.5 squares the probabilities: 0.49 / (0.49 + 0.09) = 0.845.
        assertThat(shareOfA(c.temperature(0.5).build())).isCloseTo(0.49 / 0.58, within(0.03));
        // top_p 0.6: B's 0.3 is at or below 1 - 0.6, so only A remains.
        assertThat(shareOfA(c.temperature(1).topP(0.6).build())).isEqualTo(1.0);
        // top_k 2 leaves both; top_k 1 only A.
        assertThat(shareOfA(c.topP(1).topK(2).build())).isCloseTo(0.7, within(0.03));
        assertThat(shareOfA(c.topK(1).build())).isEqualTo(1.0);
    }

    @Test
    void beamSamplingIsReproducibleAndReturnsRankedHypotheses() {
        GenerationConfig c = cfg().doSample(true).numBeams(3).numReturnSequences(2).maxLength(6).seed(5L).build();
        GenerationResult a = run(c, T1, T2);
        GenerationResult b = run(c, T1, T2);
        assertThat(a.sequences()).isDeepEqualTo(b.sequences());
        assertThat(a.sequencesScores()).containsExactly(b.sequencesScores());
        assertThat(a.size()).isEqualTo(4);
        assertThat(a.sequencesScores()[0]).isGreaterThanOrEqualTo(a.sequencesScores()[1]);
        assertThat(a.sequencesScores()[2]).isGreaterThanOrEqualTo(a.sequencesScores()[3]);
        for (int i = 0; i < a.size(); i++) {
            assertThat(a.sequence(i)[0]).isEqualTo(START);
        }
    }

    // ---------------------------------------------------------------- arguments

    @Test
    void rejectsPromptsOfDifferentLengthsAndIdsOutsideTheVocabulary() {
        StepDecoder.Factory f = MarkovDecoder.factory(new float[][][] {T1, T1}, new MarkovDecoder.Stats());
        assertThatThrownBy(() -> Generator.generate(f, new int[][] {{START}, {START, A}}, cfg().build()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("prompts[1]");
        assertThatThrownBy(() -> Generator.generate(f, 1, new int[] {99}, cfg().build()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("99");
    }

    @Test
    void rejectsAFactoryThatOpensTheWrongNumberOfRows() {
        StepDecoder.Factory wrong = rows -> MarkovDecoder.factory(new float[][][] {T1}, new MarkovDecoder.Stats())
                .open(new int[] {0});
        assertThatThrownBy(() -> Generator.generate(wrong, 1, PROMPT, cfg().numBeams(3).build()))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("3 were asked for");
    }
}
