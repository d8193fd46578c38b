package org.blipjava.model;

/**
 * What the text transformer's cross-attention reads: a batch of encoder states (image
 * embeddings, or a VQA question's encoding) and their attention mask.
 *
 * @param states  [entries, len, width]
 * @param entries number of conditioning inputs
 * @param len     positions per input
 * @param width   width of each position (the encoder's hidden size)
 * @param mask    [entries][len] of 1 (attend) / 0 (ignore), or null for all ones
 */
public record Conditioning(float[] states, int entries, int len, int width, int[][] mask) {
    public Conditioning {
        if (entries < 1 || len < 1 || width < 1) {
            throw new IllegalArgumentException("conditioning needs entries, len and width >= 1, got "
                    + entries + ", " + len + ", " + width);
        }
        if (states.length != entries * len * width) {
            throw new IllegalArgumentException("conditioning states have " + states.length
                    + " floats, expected entries*len*width = " + ((long) entries * len * width));
        }
        if (mask != null) {
            if (mask.length != entries) {
                throw new IllegalArgumentException("conditioning mask has " + mask.length + " rows, expected " + entries);
            }
            for (int[] row : mask) {
                if (row.length != len) {
                    throw new IllegalArgumentException("conditioning mask rows must have length " + len
                            + ", got " + row.length);
                }
            }
        }
    }

    /** Conditioning on every position of each input (the mask is all ones). */
    public static Conditioning unmasked(float[] states, int entries, int len, int width) {
        return new Conditioning(states, entries, len, width, null);
    }

    /**
     * The cross-attention's additive mask {@code (1 - mask) * float32.min} as the reference's
     * {@code invert_attention_mask} builds it, [entries, len]; null when every position is attended.
     */
    float[] additiveMask() {
        if (mask == null) {
            return null;
        }
        float[] out = new float[entries * len];
        for (int e = 0; e < entries; e++) {
            for (int j = 0; j < len; j++) {
                out[e * len + j] = (1f - mask[e][j]) * -Float.MAX_VALUE;
            }
        }
        return out;
    }
}
