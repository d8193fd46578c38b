package org.blipjava.tasks;

import java.util.Locale;

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

    /**
     * The text without a caption prompt it starts with (compared case-insensitively, as the
     * uncased tokenizer lower-cases the prompt): BLIP's evaluation scores captions without it.
     * Text that does not start with the prompt is returned stripped, unchanged otherwise.
     *
     * @param prompt the prompt given to generation, or null
     */
    public static String withoutPrompt(String text, String prompt) {
        if (prompt == null || prompt.isBlank()) {
            return text;
        }
        String p = prompt.strip().toLowerCase(Locale.ROOT);
        String t = text.strip();
        return t.toLowerCase(Locale.ROOT).startsWith(p) ? t.substring(p.length()).strip() : t;
    }

    @Override
    public String toString() {
        return text;
    }
}
