package org.blipjava.metrics;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The caption tokenization the coco-caption toolkit applies before scoring: Penn-Treebank-style
 * tokens, lower case, with punctuation tokens removed.
 *
 * <p>The toolkit runs Stanford CoreNLP's {@code PTBTokenizer -preserveLines -lowerCase} and then
 * drops the tokens {@code '' ' `` ` -LRB- -RRB- -LCB- -RCB- . ? ! , : - -- ... ;}. This class
 * re-implements the parts of PTB tokenization that matter for captions: punctuation is split
 * from words (but kept inside numbers such as {@code 1,000} or {@code 3.5}, in abbreviations such
 * as {@code u.s.}, and in hyphenated words), clitics are split ({@code don't} becomes {@code do
 * n't}, {@code dog's} becomes {@code dog 's}, {@code cannot} becomes {@code can not}), currency
 * and percent signs become tokens of their own, and brackets and quotes are dropped. Stateless
 * and thread-safe.
 */
public final class PtbTokenizer {
    /** Tokens the toolkit removes after tokenizing (brackets and quotes are dropped here directly). */
    static final Set<String> PUNCTUATION = Set.of("''", "'", "``", "`", "-lrb-", "-rrb-", "-lcb-", "-rcb-",
            ".", "?", "!", ",", ":", "-", "--", "...", ";");
    private static final Set<String> CLITICS = Set.of("'s", "'re", "'ve", "'ll", "'d", "'m", "n't");
    private static final String LEADING = "\"'`([{";
    private static final String TRAILING = "\"'`)]}.,;:?!";

    private PtbTokenizer() {}

    /** Tokenizes one caption and returns its tokens joined by single spaces. */
    public static String tokenize(String caption) {
        return String.join(" ", tokens(caption));
    }

    /** Tokenizes one caption: lower case, PTB tokens, punctuation tokens removed. */
    public static List<String> tokens(String caption) {
        List<String> out = new ArrayList<>();
        String text = caption.toLowerCase(Locale.ROOT);
        for (String chunk : Words.split(text)) {
            for (String piece : splitInternal(chunk)) {
                addChunk(piece, out);
            }
        }
        out.removeIf(t -> t.isEmpty() || PUNCTUATION.contains(t) || isBracketOrQuote(t));
        return out;
    }

    /** Splits a whitespace-free chunk at punctuation that never belongs inside a word. */
    private static List<String> splitInternal(String chunk) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (int i = 0; i < chunk.length(); i++) {
            char c = chunk.charAt(i);
            boolean separator = c == ';' || c == '!' || c == '?' || c == '"' || c == '(' || c == ')'
                    || c == '[' || c == ']' || c == '{' || c == '}'
                    || (c == ',' && !(i > 0 && i + 1 < chunk.length()
                            && Character.isDigit(chunk.charAt(i - 1)) && Character.isDigit(chunk.charAt(i + 1))))
                    || (c == '-' && i + 1 < chunk.length() && chunk.charAt(i + 1) == '-');
            if (separator) {
                if (!cur.isEmpty()) {
                    out.add(cur.toString());
                    cur.setLength(0);
                }
                if (c == '-') {
                    i++; // "--" is a dash token; both characters go
                }
                out.add(String.valueOf(c));
            } else {
                cur.append(c);
            }
        }
        if (!cur.isEmpty()) {
            out.add(cur.toString());
        }
        return out;
    }

    private static void addChunk(String chunk, List<String> out) {
        if (CLITICS.contains(chunk)) {
            out.add(chunk);
            return;
        }
        int start = 0;
        int end = chunk.length();
        List<String> lead = new ArrayList<>();
        while (start < end && (LEADING.indexOf(chunk.charAt(start)) >= 0 || chunk.charAt(start) == '$'
                || chunk.charAt(start) == '#')) {
            // A leading apostrophe that starts a clitic ('s) stays with it.
            if (chunk.charAt(start) == '\'' && CLITICS.contains(chunk.substring(start, end))) {
                break;
            }
            lead.add(String.valueOf(chunk.charAt(start)));
            start++;
        }
        List<String> trail = new ArrayList<>();
        while (end > start) {
            char c = chunk.charAt(end - 1);
            if (c == '.' && end - start >= 3 && chunk.startsWith("...", end - 3)) {
                trail.addFirst("...");
                end -= 3;
            } else if (c == '.' && isAbbreviation(chunk.substring(start, end))) {
                break;
            } else if (TRAILING.indexOf(c) >= 0 || c == '%') {
                trail.addFirst(String.valueOf(c));
                end--;
            } else {
                break;
            }
        }
        out.addAll(lead);
        String core = chunk.substring(start, end);
        if (!core.isEmpty()) {
            splitClitics(core, out);
        }
        out.addAll(trail);
    }

    /** Words like "u.s." or "a.m." keep their final period, as PTB does for such abbreviations. */
    private static boolean isAbbreviation(String word) {
        if (word.length() < 3) {
            return false;
        }
        String body = word.substring(0, word.length() - 1);
        return body.indexOf('.') >= 0 && body.chars().allMatch(ch -> Character.isLetter(ch) || ch == '.');
    }

    private static void splitClitics(String word, List<String> out) {
        if (word.equals("cannot")) {
            out.add("can");
            out.add("not");
            return;
        }
        if (word.length() > 3 && word.endsWith("n't")) {
            out.add(word.substring(0, word.length() - 3));
            out.add("n't");
            return;
        }
        for (String clitic : CLITICS) {
            if (!clitic.equals("n't") && word.length() > clitic.length() && word.endsWith(clitic)) {
                out.add(word.substring(0, word.length() - clitic.length()));
                out.add(clitic);
                return;
            }
        }
        out.add(word);
    }

    private static boolean isBracketOrQuote(String t) {
        return t.length() == 1 && "()[]{}\"".indexOf(t.charAt(0)) >= 0;
    }
}
