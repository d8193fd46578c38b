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

    /**
     * Encoded rows padded on the right as the reference's tokenizers pad a batch.
     *
     * @param rows      the ids of each text (already truncated)
     * @param maxLength the length {@link Padding#MAX_LENGTH} pads to; {@code Integer.MAX_VALUE} when the
     *                  tokenizer has none (MAX_LENGTH is then refused, naming {@code tokenizer})
     * @param padId     the pad token's id
     */
    static Batch padded(int[][] rows, Padding padding, int maxLength, int padId, Object tokenizer) {
        int target = switch (padding) {
            case NONE -> 0;
            case LONGEST -> java.util.Arrays.stream(rows).mapToInt(r -> r.length).max().orElse(0);
            case MAX_LENGTH -> {
                if (maxLength == Integer.MAX_VALUE) {
                    throw new IllegalArgumentException("Padding.MAX_LENGTH needs a maxLength: tokenizer "
                            + tokenizer + " has no model_max_length");
                }
                yield maxLength;
            }
        };
        int pad = padding == Padding.NONE ? 0 : padId;
        int[][] ids = new int[rows.length][];
        int[][] mask = new int[rows.length][];
        for (int i = 0; i < rows.length; i++) {
            int len = Math.max(rows[i].length, target);
            ids[i] = java.util.Arrays.copyOf(rows[i], len);
            java.util.Arrays.fill(ids[i], rows[i].length, len, pad);
            mask[i] = new int[len];
            java.util.Arrays.fill(mask[i], 0, rows[i].length, 1);
        }
        return new Batch(ids, mask);
    }

    /** Number of rows (texts). */
    public int size() {
        return inputIds.length;
    }
}
