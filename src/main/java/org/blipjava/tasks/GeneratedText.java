package org.blipjava.tasks;

/**
 * One generated caption or answer.
 *
 * @param text     the decoded text (special tokens removed; a caption prompt is included, as the
 *                 reference decodes it)
 * @param tokenIds the generated sequence as the decoder produced it, starting with {@code [DEC]}
 *                 (and the prompt), without trailing padding
 * @param score    the beam score ({@code sequences_scores} of the reference) for beam search,
 *                 {@code NaN} otherwise
 */
public record GeneratedText(String text, int[] tokenIds, double score) {
    public GeneratedText {
        tokenIds = tokenIds.clone();
    }

    @Override
    public int[] tokenIds() {
        return tokenIds.clone();
    }

    @Override
    public String toString() {
        return text;
    }
}
