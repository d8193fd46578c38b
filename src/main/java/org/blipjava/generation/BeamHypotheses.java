package org.blipjava.generation;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The finished hypotheses of one input during beam search: at most {@code numBeams} of them, scored
 * {@code sumLogprobs / generatedLength^lengthPenalty} (transformers 4.40 {@code BeamHypotheses}, where the
 * generated length counts the tokens after the prompt, eos included). Scores are doubles, as the
 * reference computes them in Python floats.
 */
final class BeamHypotheses {

    /** A finished hypothesis: its tokens (prompt included, eos excluded) and its normalised score. */
    record Hypothesis(double score, int[] tokens) {}

    private final int numBeams;
    private final double lengthPenalty;
    private final EarlyStopping earlyStopping;
    private final int maxLength;
    // Insertion order matters: ties are broken by it when removing the worst and when picking the best.
    private final List<Hypothesis> beams = new ArrayList<>();
    private double worstScore = 1e9;

    BeamHypotheses(int numBeams, double lengthPenalty, EarlyStopping earlyStopping, int maxLength) {
        this.numBeams = numBeams;
        this.lengthPenalty = lengthPenalty;
        this.earlyStopping = earlyStopping;
        this.maxLength = maxLength;
    }

    int size() {
        return beams.size();
    }

    /** Offers a hypothesis; it is kept when there is room or it beats the worst kept one. */
    void add(int[] tokens, float sumLogprobs, int generatedLength) {
        double score = sumLogprobs / Math.pow(generatedLength, lengthPenalty);
        if (beams.size() < numBeams || score > worstScore) {
            beams.add(new Hypothesis(score, tokens));
            if (beams.size() > numBeams) {
                // Remove the lowest score (the earliest added among equals); the next lowest becomes the worst.
                int worst = 0;
                for (int i = 1; i < beams.size(); i++) {
                    if (beams.get(i).score() < beams.get(worst).score()) {
                        worst = i;
                    }
                }
                double next = Double.POSITIVE_INFINITY;
                for (int i = 0; i < beams.size(); i++) {
                    if (i != worst) {
                        next = Math.min(next, beams.get(i).score());
                    }
                }
                worstScore = next;
                beams.remove(worst);
            } else {
                worstScore = Math.min(score, worstScore);
            }
        }
    }

    /**
     * Whether no running beam can improve this input's hypotheses any more.
     *
     * @param bestSumLogprobs the best candidate's cumulative score at this step
     * @param curLength       the candidates' sequence length (the running sequence plus the new token)
     * @param promptLength    the prompt's length
     */
    boolean isDone(float bestSumLogprobs, int curLength, int promptLength) {
        if (beams.size() < numBeams) {
            return false;
        }
        double highestAttainable;
        switch (earlyStopping) {
            case EARLY:
                return true;
            case HEURISTIC:
                highestAttainable = bestSumLogprobs / Math.pow(curLength - promptLength, lengthPenalty);
                break;
            case NEVER:
                // With a positive penalty the best score is reached at the longest length, else now.
                int length = lengthPenalty > 0 ? maxLength - promptLength : curLength - promptLength;
                if (length <= 0) {
                    throw new IllegalArgumentException("max_length (" + maxLength
                            + ") is not larger than the prompt length (" + promptLength + ")");
                }
                highestAttainable = bestSumLogprobs / Math.pow(length, lengthPenalty);
                break;
            default:
                throw new AssertionError(earlyStopping);
        }
        return worstScore >= highestAttainable;
    }

    /**
     * The kept hypotheses, best first; among equal scores the later added comes first, as the
     * reference's stable ascending sort popped from the end gives them.
     */
    List<Hypothesis> bestFirst() {
        List<Hypothesis> sorted = new ArrayList<>(beams);
        sorted.sort(Comparator.comparingDouble(Hypothesis::score));
        List<Hypothesis> out = new ArrayList<>(sorted.size());
        for (int i = sorted.size() - 1; i >= 0; i--) {
            out.add(sorted.get(i));
        }
        return out;
    }
}
