package org.blipjava.generation;

/**
 * When beam search stops for one input, as transformers' {@code early_stopping} setting
 * ({@code true}, {@code false} or {@code "never"}).
 */
public enum EarlyStopping {
    /** {@code early_stopping=true}: stop as soon as {@code num_beams} hypotheses are finished. */
    EARLY,
    /**
     * {@code early_stopping=false} (the default): stop when the best running beam, normalised by the
     * current length, cannot beat the worst finished hypothesis. A heuristic: with a positive length
     * penalty a longer continuation could still score better.
     */
    HEURISTIC,
    /**
     * {@code early_stopping="never"}: stop only when no running beam can beat the worst finished
     * hypothesis even at the longest allowed length (canonical beam search).
     */
    NEVER;

    /** The value as generation_config.json writes it: {@code true}, {@code false} or {@code "never"}. */
    public String jsonValue() {
        return switch (this) {
            case EARLY -> "true";
            case HEURISTIC -> "false";
            case NEVER -> "\"never\"";
        };
    }
}
