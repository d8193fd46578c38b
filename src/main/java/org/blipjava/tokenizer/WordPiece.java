package org.blipjava.tokenizer;

import java.util.List;
import java.util.Map;

/**
 * Greedy longest-match-first WordPiece over one vocabulary. Immutable.
 *
 * @param vocab                  token to id (the vocabulary file only, not added tokens)
 * @param unkToken               what a word that cannot be covered becomes
 * @param continuingPrefix       prefix of word-internal pieces ("##")
 * @param maxInputCharsPerWord   longer words (in code points) become {@code unkToken} whole
 * @param maxTokenCodePoints     the longest vocabulary entry without the prefix, bounding the search
 */
record WordPiece(Map<String, Integer> vocab, String unkToken, String continuingPrefix, int maxInputCharsPerWord,
        int maxTokenCodePoints) {

    static WordPiece of(Map<String, Integer> vocab, String unkToken, String continuingPrefix,
            int maxInputCharsPerWord) {
        int longest = 1;
        for (String t : vocab.keySet()) {
            String body = t.startsWith(continuingPrefix) ? t.substring(continuingPrefix.length()) : t;
            longest = Math.max(longest, body.codePointCount(0, body.length()));
            // A full token that starts with the prefix can also match at a word start.
            longest = Math.max(longest, t.codePointCount(0, t.length()));
        }
        return new WordPiece(vocab, unkToken, continuingPrefix, maxInputCharsPerWord, longest);
    }

    /** Appends the pieces of one whitespace-free word to {@code out}. */
    void tokenizeWord(String word, List<String> out) {
        int n = word.codePointCount(0, word.length());
        if (n > maxInputCharsPerWord) {
            out.add(unkToken);
            return;
        }
        // Char offset of every code point boundary, so pieces never split a surrogate pair.
        int[] at = new int[n + 1];
        for (int k = 0, i = 0; k < n; k++) {
            at[k] = i;
            i += Character.charCount(word.codePointAt(i));
        }
        at[n] = word.length();
        int mark = out.size();
        int start = 0;
        StringBuilder candidate = new StringBuilder(continuingPrefix.length() + word.length());
        while (start < n) {
            int end = Math.min(n, start + maxTokenCodePoints);
            String found = null;
            while (start < end) {
                candidate.setLength(0);
                if (start > 0) {
                    candidate.append(continuingPrefix);
                }
                candidate.append(word, at[start], at[end]);
                String piece = candidate.toString();
                if (vocab.containsKey(piece)) {
                    found = piece;
                    break;
                }
                end--;
            }
            if (found == null) {
                out.subList(mark, out.size()).clear();
                out.add(unkToken);
                return;
            }
            out.add(found);
            start = end;
        }
    }
}
