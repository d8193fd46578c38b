package org.blipjava.cli;

import java.io.File;
import java.nio.file.Path;
import java.util.Locale;
import org.blipjava.retrieval.PathKeys;

/**
 * Escapes file names and texts for the plain-text (non-JSON) output of the commands, whose lines
 * hold tab-separated fields: a tab, a newline or an ESC in a file name would otherwise split a
 * field, start a false line or drive the terminal. JSON output is written as it is (JSON escapes
 * these itself).
 *
 * <p>In a field, a tab, a newline and a carriage return are written as backslash-t, -n and -r, a
 * backslash as two (except on Windows, where it separates a path's names), other control
 * characters (C0, DEL, C1) as backslash-x and two hex digits, and the Unicode line separators and
 * bidirectional controls as backslash-u and four hex digits, so every line reads unambiguously.
 * Everything else, non-ASCII letters included, is written as it is.
 */
final class PlainText {
    private static final boolean ESCAPE_BACKSLASH = File.separatorChar != '\\';

    private PlainText() {}

    /** A text for one field of a plain-text line. */
    static String field(String s) {
        return escape(s, ESCAPE_BACKSLASH);
    }

    /**
     * A path for one field of a plain-text line: as given, or, when the JVM's file name encoding
     * cannot spell it, its absolute name in UTF-8 or as a {@code file:} URI of its bytes (which
     * every command accepts back as an image argument); then escaped as {@link #field}.
     */
    static String path(Path p) {
        return field(PathKeys.display(p));
    }

    /**
     * A message for one stderr line: control characters escaped as in {@link #field}, backslashes
     * kept (a message is read, not parsed).
     */
    static String message(String s) {
        return escape(s, false);
    }

    private static String escape(String s, boolean backslash) {
        int i = 0;
        while (i < s.length() && !special(s.charAt(i), backslash)) {
            i++;
        }
        if (i == s.length()) {
            return s;
        }
        StringBuilder sb = new StringBuilder(s.length() + 8).append(s, 0, i);
        for (; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!special(c, backslash)) {
                sb.append(c);
                continue;
            }
            switch (c) {
                case '\t' -> sb.append("\\t");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\\' -> sb.append("\\\\");
                default -> sb.append(c <= 0xff ? String.format(Locale.ROOT, "\\x%02x", (int) c)
                        : String.format(Locale.ROOT, "\\u%04x", (int) c));
            }
        }
        return sb.toString();
    }

    private static boolean special(char c, boolean backslash) {
        return c < 0x20 || (c >= 0x7f && c <= 0x9f) || (c == '\\' && backslash)
                || c == '\u2028' || c == '\u2029' || c == '\u061c' || c == '\u200e' || c == '\u200f'
                || (c >= '\u202a' && c <= '\u202e') || (c >= '\u2066' && c <= '\u2069');
    }
}
