package org.blipjava.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * The last steps of the reference's slow {@code decode}, shared by the WordPiece and BPE
 * tokenizers: runs of ordinary tokens are turned into text by the tokenizer's own rule, legacy
 * added tokens stand apart as words, the pieces are joined by spaces, and the English clean-up
 * removes spaces before punctuation and contractions when the tokenizer config asks for it.
 */
final class DecodedText {
    private DecodedText() {}

    /**
     * @param tokens       the tokens to decode (special tokens already removed if they are to be skipped)
     * @param legacy       added tokens the reference decodes apart from the text around them
     * @param toText       how a run of ordinary tokens becomes text
     * @param cleanUp      the config's {@code clean_up_tokenization_spaces}
     */
    static String join(List<String> tokens, Set<String> legacy, Function<List<String>, String> toText, boolean cleanUp) {
        List<String> subTexts = new ArrayList<>();
        List<String> current = new ArrayList<>();
        for (String token : tokens) {
            if (legacy.contains(token)) {
                if (!current.isEmpty()) {
                    String s = toText.apply(current);
                    if (!s.isEmpty()) {
                        subTexts.add(s);
                    }
                    current.clear();
                }
                subTexts.add(token);
            } else {
                current.add(token);
            }
        }
        if (!current.isEmpty()) {
            subTexts.add(toText.apply(current));
        }
        String text = String.join(" ", subTexts);
        return cleanUp ? cleanUpTokenization(text) : text;
    }

    /** The reference's {@code clean_up_tokenization}. */
    static String cleanUpTokenization(String s) {
        return s.replace(" .", ".").replace(" ?", "?").replace(" !", "!").replace(" ,", ",")
                .replace(" ' ", "'").replace(" n't", "n't").replace(" 'm", "'m").replace(" 's", "'s")
                .replace(" 've", "'ve").replace(" 're", "'re");
    }
}
