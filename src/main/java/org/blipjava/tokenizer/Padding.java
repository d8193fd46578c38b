package org.blipjava.tokenizer;

/** How {@link BertTokenizer#encodeBatch} pads the rows of a batch (always on the right, with the pad id). */
public enum Padding {
    /** No padding: rows keep their own lengths. */
    NONE,
    /** Pad every row to the longest row of the batch (the reference's {@code padding="longest"}). */
    LONGEST,
    /**
     * Pad every row to the requested maximum length, or to the tokenizer's {@code model_max_length} when none
     * is given (the reference's {@code padding="max_length"}).
     */
    MAX_LENGTH
}
