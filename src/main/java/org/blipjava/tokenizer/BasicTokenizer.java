package org.blipjava.tokenizer;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * BERT's pre-tokenizer: cleans the text, isolates CJK ideographs, lower-cases and strips accents, then
 * splits on whitespace and punctuation. Immutable.
 *
 * @param doLowerCase          lower-case every token not in never-split
 * @param stripAccents         null: strip accents exactly when lower-casing; otherwise as given
 * @param tokenizeChineseChars surround CJK ideographs with spaces
 * @param neverSplit           tokens kept whole (no lower-casing, no punctuation split)
 */
record BasicTokenizer(boolean doLowerCase, Boolean stripAccents, boolean tokenizeChineseChars,
        Set<String> neverSplit) {

    BasicTokenizer {
        neverSplit = Set.copyOf(neverSplit);
    }

    /** Tokenizes one piece of text (no added tokens in it); {@code extraNeverSplit} adds to never-split. */
    List<String> tokenize(String text, Set<String> extraNeverSplit) {
        String cleaned = normalizeText(text);
        List<String> words = new ArrayList<>();
        CharClasses.splitPythonWhitespace(cleaned, words);
        List<String> out = new ArrayList<>(words.size() + 8);
        for (String word : words) {
            boolean keep = neverSplit.contains(word) || extraNeverSplit.contains(word);
            String w = word;
            if (!keep) {
                if (doLowerCase) {
                    w = lower(w);
                    if (!Boolean.FALSE.equals(stripAccents)) {
                        w = stripAccents(w);
                    }
                } else if (Boolean.TRUE.equals(stripAccents)) {
                    w = stripAccents(w);
                }
            }
            // The reference checks never-split again on the lower-cased word before splitting punctuation.
            if (keep || neverSplit.contains(w) || extraNeverSplit.contains(w)) {
                addNonEmpty(w, out);
            } else {
                splitOnPunctuation(w, out);
            }
        }
        return out;
    }

    /** Control characters dropped, whitespace made a space, CJK isolated, then NFC. */
    private String normalizeText(String text) {
        StringBuilder sb = new StringBuilder(text.length() + 16);
        for (int i = 0, n = text.length(); i < n; ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            if (cp == 0 || cp == 0xFFFD || CharClasses.isBertControl(cp)) {
                continue;
            }
            if (CharClasses.isBertWhitespace(cp)) {
                sb.append(' ');
            } else if (tokenizeChineseChars && CharClasses.isCjk(cp)) {
                sb.append(' ').appendCodePoint(cp).append(' ');
            } else {
                sb.appendCodePoint(cp);
            }
        }
        String s = sb.toString();
        // NFC so that composed and decomposed spellings of a character tokenize alike.
        return CharClasses.isAscii(s) || Normalizer.isNormalized(s, Normalizer.Form.NFC)
                ? s : Normalizer.normalize(s, Normalizer.Form.NFC);
    }

    private static String lower(String w) {
        StringBuilder sb = new StringBuilder(w.length());
        for (int i = 0, n = w.length(); i < n; ) {
            int cp = w.codePointAt(i);
            i += Character.charCount(cp);
            CharClasses.appendLower(sb, cp);
        }
        return sb.toString();
    }

    /** NFD, then every non-spacing mark (Mn) removed. */
    static String stripAccents(String w) {
        if (CharClasses.isAscii(w)) {
            return w;
        }
        String nfd = Normalizer.normalize(w, Normalizer.Form.NFD);
        StringBuilder sb = new StringBuilder(nfd.length());
        for (int i = 0, n = nfd.length(); i < n; ) {
            int cp = nfd.codePointAt(i);
            i += Character.charCount(cp);
            if (Character.getType(cp) != Character.NON_SPACING_MARK) {
                sb.appendCodePoint(cp);
            }
        }
        return sb.toString();
    }

    /** Every punctuation code point becomes its own token; runs of other code points stay together. */
    private static void splitOnPunctuation(String w, List<String> out) {
        int start = 0;
        for (int i = 0, n = w.length(); i < n; ) {
            int cp = w.codePointAt(i);
            int next = i + Character.charCount(cp);
            if (CharClasses.isBertPunctuation(cp)) {
                if (start < i) {
                    addNonEmpty(w.substring(start, i), out);
                }
                out.add(w.substring(i, next));
                start = next;
            }
            i = next;
        }
        if (start < w.length()) {
            addNonEmpty(w.substring(start), out);
        }
    }

    /** The reference re-splits its output on whitespace; accent stripping can empty a word or leave spaces. */
    private static void addNonEmpty(String piece, List<String> out) {
        boolean plain = true;
        for (int i = 0, n = piece.length(); i < n; i++) {
            char c = piece.charAt(i);
            if (c == ' ' || c >= 128 && CharClasses.isPythonSpace(c) || c < 32) {
                plain = false;
                break;
            }
        }
        if (plain) {
            if (!piece.isEmpty()) {
                out.add(piece);
            }
        } else {
            CharClasses.splitPythonWhitespace(piece, out);
        }
    }
}
