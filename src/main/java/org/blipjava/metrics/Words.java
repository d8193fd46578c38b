package org.blipjava.metrics;

import java.util.ArrayList;
import java.util.List;

/** Splitting helpers that reproduce Python's {@code str.split()} and {@code str.split(" ")}. */
final class Words {
    private Words() {}

    /** Python {@code s.split()}: runs of whitespace separate words, no empty words. */
    static List<String> split(String s) {
        List<String> out = new ArrayList<>();
        int i = 0;
        int n = s.length();
        while (i < n) {
            while (i < n && isSpace(s.charAt(i))) {
                i++;
            }
            int start = i;
            while (i < n && !isSpace(s.charAt(i))) {
                i++;
            }
            if (i > start) {
                out.add(s.substring(start, i));
            }
        }
        return out;
    }

    /** Python {@code s.split(" ")}: every single space separates, empty words kept. */
    static List<String> splitOnSpace(String s) {
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == ' ') {
                out.add(s.substring(start, i));
                start = i + 1;
            }
        }
        out.add(s.substring(start));
        return out;
    }

    static boolean isSpace(char c) {
        // Python's str.isspace set for the BMP characters that matter here.
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\u0085';
    }
}
