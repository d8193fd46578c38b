package org.blipjava.generation;

/**
 * CTRL repetition penalty (transformers' {@code RepetitionPenaltyLogitsProcessor}): every token already
 * in the row, prompt included, has its score divided by the penalty when positive and multiplied by it
 * when negative. A token present several times is penalised once.
 */
public final class RepetitionPenaltyLogitsProcessor implements LogitsProcessor {
    private final float penalty;
    private float[] gathered = new float[0];

    /** @param penalty strictly positive; 1 changes nothing, above 1 discourages repetition */
    public RepetitionPenaltyLogitsProcessor(double penalty) {
        if (!(penalty > 0) || Double.isInfinite(penalty)) {
            throw new IllegalArgumentException("repetition_penalty must be a positive number, got " + penalty);
        }
        // The reference multiplies float32 scores by the penalty in float32.
        this.penalty = (float) penalty;
    }

    @Override
    public void process(int[][] inputIds, int length, float[] scores, int vocabSize) {
        if (gathered.length < length) {
            gathered = new float[length];
        }
        for (int r = 0; r < inputIds.length; r++) {
            int base = r * vocabSize;
            int[] ids = inputIds[r];
            // Read every score before writing any, so a repeated token is penalised exactly once.
            for (int i = 0; i < length; i++) {
                gathered[i] = scores[base + ids[i]];
            }
            for (int i = 0; i < length; i++) {
                float s = gathered[i];
                scores[base + ids[i]] = s < 0 ? s * penalty : s / penalty;
            }
        }
    }
}
