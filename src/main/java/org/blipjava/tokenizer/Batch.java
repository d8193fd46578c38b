package org.blipjava.tokenizer;

/**
 * A batch of encoded texts, one row per text, as {@link BertTokenizer#encodeBatch} returns it.
 *
 * <p>The arrays belong to the caller; the tokenizer keeps no reference to them.
 *
 * @param inputIds      token ids per row ({@code [CLS] ... [SEP]} followed by pad ids)
 * @param attentionMask 1 for a real token, 0 for padding; same shape as {@code inputIds}
 */
public record Batch(int[][] inputIds, int[][] attentionMask) {
    /** Checks that both arrays have the same shape. */
    public Batch {
        if (inputIds == null || attentionMask == null || inputIds.length != attentionMask.length) {
            throw new IllegalArgumentException("inputIds and attentionMask must be non-null with the same row count");
        }
        for (int i = 0; i < inputIds.length; i++) {
            if (inputIds[i].length != attentionMask[i].length) {
                throw new IllegalArgumentException("row " + i + ": inputIds has " + inputIds[i].length
                        + " entries but attentionMask has " + attentionMask[i].length);
            }
        }
    }

    /** Number of rows (texts). */
    public int size() {
        return inputIds.length;
    }
}
