package org.blipjava.tokenizer;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Cuts a tokenizer's added tokens out of a text before any normalisation, as the reference's
 * slow tokenizers do: leftmost match first, the longest token where several match there, then
 * each matched token's lstrip/rstrip/single_word flags applied to its neighbours. Shared by the
 * WordPiece and the byte-level BPE tokenizer. Immutable.
 */
final class AddedTokenSplitter {
    private final Map<String, AddedToken> byContent;
    // Candidates by first character, longest first: the first that matches is the longest match.
    private final Map<Character, String[]> byFirstChar;

    AddedTokenSplitter(Collection<AddedToken> tokens) {
        Map<String, AddedToken> contents = new HashMap<>();
        List<String> nonEmpty = new ArrayList<>();
        for (AddedToken t : tokens) {
            contents.put(t.content(), t);
            if (!t.content().isEmpty()) {
                nonEmpty.add(t.content());
            }
        }
        nonEmpty.sort(Comparator.comparingInt(String::length).reversed().thenComparing(Comparator.naturalOrder()));
        this.byContent = Map.copyOf(contents);
        this.byFirstChar = byFirstChar(nonEmpty);
    }

    /** The strings grouped by their first character, each group in the given order without repeats. */
    static Map<Character, String[]> byFirstChar(List<String> strings) {
        Map<Character, List<String>> groups = new HashMap<>();
        for (String s : strings) {
            groups.computeIfAbsent(s.charAt(0), k -> new ArrayList<>()).add(s);
        }
        Map<Character, String[]> out = new HashMap<>();
        groups.forEach((k, v) -> out.put(k, v.stream().distinct().toArray(String[]::new)));
        return Map.copyOf(out);
    }

    /**
     * The text cut into added tokens and the text between them, with the added tokens' strip
     * flags applied (pieces may become empty). An empty text gives one empty piece.
     */
    List<String> split(String text) {
        List<String> pieces = cut(text);
        applyStripping(pieces);
        return pieces;
    }

    private List<String> cut(String text) {
        List<String> out = new ArrayList<>();
        int n = text.length();
        int last = 0;
        for (int i = 0; i < n; ) {
            String[] cands = byFirstChar.get(text.charAt(i));
            String hit = null;
            if (cands != null) {
                for (String s : cands) {
                    if (text.startsWith(s, i)) {
                        hit = s;
                        break;
                    }
                }
            }
            if (hit == null) {
                i++;
                continue;
            }
            if (last < i) {
                out.add(text.substring(last, i));
            }
            out.add(hit);
            i += hit.length();
            last = i;
        }
        if (last < n || out.isEmpty()) {
            out.add(text.substring(last));
        }
        return out;
    }

    /** Applies the lstrip/rstrip/single_word flags of matched added tokens to their neighbours. */
    private void applyStripping(List<String> pieces) {
        for (int i = 0; i < pieces.size(); i++) {
            String token = pieces.get(i);
            AddedToken ext = byContent.get(token);
            if (ext == null) {
                continue;
            }
            String left = i > 0 ? pieces.get(i - 1) : null;
            String right = i < pieces.size() - 1 ? pieces.get(i + 1) : null;
            if (ext.rstrip() && right != null && !right.isEmpty()) {
                pieces.set(i + 1, CharClasses.pythonLstrip(right));
            }
            if (ext.lstrip() && left != null && !left.isEmpty()) {
                pieces.set(i - 1, CharClasses.pythonRstrip(left));
            }
            if (ext.singleWord() && left != null && !left.isEmpty() && !left.endsWith(" ")) {
                pieces.set(i - 1, pieces.get(i - 1) + token);
                pieces.set(i, "");
            } else if (ext.singleWord() && right != null && !right.isEmpty() && !right.startsWith(" ")) {
                pieces.set(i + 1, token + pieces.get(i + 1));
                pieces.set(i, "");
            }
        }
    }
}
