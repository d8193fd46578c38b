package org.blipjava.generation;

import java.util.ArrayList;
import java.util.List;

/**
 * Builds the processor and warper lists for a configuration in the order transformers 4.40 builds them
 * ({@code _get_logits_processor}, {@code _get_logits_warper}); the order matters because each one sees
 * the scores the previous one wrote.
 */
public final class LogitsProcessors {
    private LogitsProcessors() {}

    /**
     * The processors every mode applies: repetition penalty, no-repeat n-gram, minimum length. In greedy
     * search and sampling they see raw logits; in beam search they see log-softmax scores, as in the
     * reference.
     *
     * @param promptLength the prompt's length, for {@code min_new_tokens}
     */
    public static List<LogitsProcessor> processors(GenerationConfig cfg, int promptLength) {
        List<LogitsProcessor> out = new ArrayList<>();
        if (cfg.repetitionPenalty() != 1.0) {
            out.add(new RepetitionPenaltyLogitsProcessor(cfg.repetitionPenalty()));
        }
        if (cfg.noRepeatNgramSize() > 0) {
            out.add(new NoRepeatNGramLogitsProcessor(cfg.noRepeatNgramSize()));
        }
        int minLength = cfg.minLengthFor(promptLength);
        if (!cfg.eosTokenIds().isEmpty() && minLength > 0) {
            out.add(new MinLengthLogitsProcessor(minLength, cfg.eosTokenIds()));
        }
        return out;
    }

    /**
     * The warpers sampling applies after the processors: temperature, top-k, top-p. Empty unless
     * {@code doSample}. Beam sampling keeps at least two tokens, as the reference does.
     */
    public static List<LogitsProcessor> warpers(GenerationConfig cfg) {
        List<LogitsProcessor> out = new ArrayList<>();
        if (!cfg.doSample()) {
            return out;
        }
        int minTokensToKeep = cfg.numBeams() > 1 ? 2 : 1;
        if (cfg.temperature() != 1.0) {
            out.add(new TemperatureLogitsWarper(cfg.temperature()));
        }
        if (cfg.topK() != 0) {
            out.add(new TopKLogitsWarper(cfg.topK(), minTokensToKeep));
        }
        if (cfg.topP() < 1.0) {
            out.add(new TopPLogitsWarper(cfg.topP(), minTokensToKeep));
        }
        return out;
    }

    /** Applies each processor in order. */
    static void apply(List<LogitsProcessor> list, int[][] inputIds, int length, float[] scores, int vocabSize) {
        for (LogitsProcessor p : list) {
            p.process(inputIds, length, scores, vocabSize);
        }
    }
}
