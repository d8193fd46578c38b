package org.blipjava.tokenizer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The text clean-up the reference CLIP tokenizer runs before splitting: {@code ftfy.fix_text} (ftfy 6.3.1,
 * default settings) without its mojibake detection, the tokenizer's {@code whitespace_clean}, and Python's
 * {@code str.lower()}.
 *
 * <p>Of ftfy's steps this implements, in ftfy's order and repeated until the text stops changing, per line:
 * HTML entity decoding (switched off, as in ftfy's "auto" mode, from the first line that contains {@code <}
 * on), C1 control characters read as Windows-1252, Latin ligatures split, full/half-width forms made normal
 * width, curly quotes straightened, line breaks unified, unpaired surrogates replaced, terminal escape
 * sequences and stray control characters removed, and NFC normalization. What it leaves out is
 * {@code fix_encoding}: repairing text that was decoded with the wrong encoding ("cafÃ©") depends on ftfy's
 * statistical "badness" heuristic and is not a goal of this port; such text is tokenized as it is.
 *
 * <p>Stateless and thread-safe.
 */
final class ClipTextFixer {
    /** ftfy cuts text into segments of at most this many code points (its {@code max_decode_length}). */
    private static final int MAX_SEGMENT_CODE_POINTS = 1_000_000;

    /** Windows-1252's characters for bytes 0x80..0x9F; the five unassigned bytes keep their Latin-1 meaning. */
    private static final char[] C1_AS_CP1252 = {
        '\u20ac', '\u0081', '\u201a', '\u0192', '\u201e', '\u2026', '\u2020', '\u2021',
        '\u02c6', '\u2030', '\u0160', '\u2039', '\u0152', '\u008d', '\u017d', '\u008f',
        '\u0090', '\u2018', '\u2019', '\u201c', '\u201d', '\u2022', '\u2013', '\u2014',
        '\u02dc', '\u2122', '\u0161', '\u203a', '\u0153', '\u009d', '\u017e', '\u0178',
    };

    /** ftfy's LIGATURES table: Latin ligatures and legacy digraphs, split into their letters. */
    private static final Map<Integer, String> LIGATURES = Map.ofEntries(
            Map.entry(0x0132, "IJ"), Map.entry(0x0133, "ij"), Map.entry(0x0149, "\u02bcn"),
            Map.entry(0x01F1, "DZ"), Map.entry(0x01F2, "Dz"), Map.entry(0x01F3, "dz"),
            Map.entry(0x01C4, "D\u017d"), Map.entry(0x01C5, "D\u017e"), Map.entry(0x01C6, "d\u017e"),
            Map.entry(0x01C7, "LJ"), Map.entry(0x01C8, "Lj"), Map.entry(0x01C9, "lj"),
            Map.entry(0x01CA, "NJ"), Map.entry(0x01CB, "Nj"), Map.entry(0x01CC, "nj"),
            Map.entry(0xFB00, "ff"), Map.entry(0xFB01, "fi"), Map.entry(0xFB02, "fl"),
            Map.entry(0xFB03, "ffi"), Map.entry(0xFB04, "ffl"), Map.entry(0xFB05, "\u017ft"),
            Map.entry(0xFB06, "st"));

    /**
     * ftfy's WIDTH_MAP: U+3000 becomes a space, and every code point of U+FF01..U+FFEF whose NFKC form differs
     * becomes that form (index = code point - 0xFF00; null where unchanged).
     */
    private static final String[] WIDTH_MAP = new String[0x100];

    static {
        for (int cp = 0xFF01; cp < 0xFFF0; cp++) {
            String c = String.valueOf((char) cp);
            String nfkc = Normalizer.normalize(c, Normalizer.Form.NFKC);
            if (!nfkc.equals(c)) {
                WIDTH_MAP[cp - 0xFF00] = nfkc;
            }
        }
    }

    private ClipTextFixer() {}

    // ------------------------------------------------------------------ the reference's pipeline

    /**
     * What the reference's {@code _tokenize} splits: {@code whitespace_clean(ftfy.fix_text(text)).lower()}.
     *
     * @param text one piece of input text between added tokens
     * @return the cleaned, lower-cased text
     */
    static String clean(String text) {
        return pythonLower(whitespaceClean(fixText(text)));
    }

    /** ftfy's {@code fix_text}: each line (ending after its "\n") is fixed on its own. */
    static String fixText(String text) {
        int n = text.length();
        if (n == 0) {
            return text;
        }
        StringBuilder out = new StringBuilder(n);
        boolean unescapeHtml = true;
        int pos = 0;
        while (pos < n) {
            int nl = text.indexOf('\n', pos);
            int end = nl < 0 ? n : nl + 1;
            if (end - pos > MAX_SEGMENT_CODE_POINTS
                    && text.codePointCount(pos, end) > MAX_SEGMENT_CODE_POINTS) {
                end = text.offsetByCodePoints(pos, MAX_SEGMENT_CODE_POINTS);
            }
            String segment = text.substring(pos, end);
            // ftfy's "auto" HTML mode: text with a "<" is taken to be HTML source, whose entities are meant
            // literally; once seen, entities stay undecoded for the rest of the text.
            if (unescapeHtml && segment.indexOf('<') >= 0) {
                unescapeHtml = false;
            }
            out.append(fixSegment(segment, unescapeHtml));
            pos = end;
        }
        return out.toString();
    }

    /** ftfy's {@code fix_and_explain} loop for one segment, without {@code fix_encoding}. */
    private static String fixSegment(String segment, boolean unescapeHtml) {
        String text = segment;
        while (true) {
            String before = text;
            if (unescapeHtml) {
                text = unescapeHtml(text);
            }
            text = fixC1Controls(text);
            text = fixLatinLigatures(text);
            text = fixCharacterWidth(text);
            text = uncurlQuotes(text);
            text = fixLineBreaks(text);
            text = fixSurrogates(text);
            text = removeTerminalEscapes(text);
            text = removeControlChars(text);
            if (!CharClasses.isAscii(text)) {
                text = Normalizer.normalize(text, Normalizer.Form.NFC);
            }
            if (text.equals(before)) {
                return text;
            }
        }
    }

    /**
     * The tokenizer's {@code whitespace_clean}: runs of {@code regex}'s {@code \s} (the Unicode White_Space
     * code points) become one space, then Python's {@code strip()}.
     */
    static String whitespaceClean(String text) {
        StringBuilder sb = new StringBuilder(text.length());
        boolean inRun = false;
        for (int i = 0, n = text.length(); i < n; ) {
            int cp = text.codePointAt(i);
            if (isRegexSpace(cp)) {
                if (!inRun) {
                    sb.append(' ');
                    inRun = true;
                }
            } else {
                sb.appendCodePoint(cp);
                inRun = false;
            }
            i += Character.charCount(cp);
        }
        return CharClasses.pythonStrip(sb.toString());
    }

    /**
     * The {@code regex} module's {@code \s} on str patterns: the Unicode White_Space property (unlike
     * Python's {@code str.isspace()} it excludes U+001C..U+001F).
     */
    static boolean isRegexSpace(int cp) {
        return switch (cp) {
            case 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000 -> true;
            default -> cp >= 0x2000 && cp <= 0x200A;
        };
    }

    /**
     * Python's {@code str.lower()} on a whole string: the full lower-case mapping of each code point, with
     * capital sigma becoming final sigma by Python's rule (preceded by a cased letter and not followed by one,
     * case-ignorable code points skipped both ways). Java's own {@code toLowerCase} decides final sigma by word
     * boundaries instead, which differs around punctuation.
     */
    static String pythonLower(String s) {
        int n = s.length();
        int i = 0;
        // Fast path: nothing to change in a leading run of lower-case ASCII.
        while (i < n) {
            char c = s.charAt(i);
            if (c >= 128 || (c >= 'A' && c <= 'Z')) {
                break;
            }
            i++;
        }
        if (i == n) {
            return s;
        }
        StringBuilder sb = new StringBuilder(n + 8);
        sb.append(s, 0, i);
        while (i < n) {
            int cp = s.codePointAt(i);
            int len = Character.charCount(cp);
            if (cp < 128) {
                sb.append((char) (cp >= 'A' && cp <= 'Z' ? cp + 32 : cp));
            } else if (cp == 0x03A3) {
                sb.append(isFinalSigma(s, i) ? '\u03c2' : '\u03c3');
            } else if (Character.isSurrogate((char) cp)) {
                sb.append((char) cp);
            } else {
                // One code point on its own: only U+0130 maps to more than one code point, and no
                // locale-dependent rule applies in the root locale.
                sb.append(s.substring(i, i + len).toLowerCase(Locale.ROOT));
            }
            i += len;
        }
        return sb.toString();
    }

    /** CPython's {@code handle_capital_sigma} for the sigma at {@code index}. */
    private static boolean isFinalSigma(String s, int index) {
        int j = index;
        int c = -1;
        while (j > 0) {
            c = s.codePointBefore(j);
            if (!isCaseIgnorable(c)) {
                break;
            }
            j -= Character.charCount(c);
            c = -1;
        }
        if (c < 0 || !isCased(c)) {
            return false;
        }
        j = index + 1;
        while (j < s.length()) {
            c = s.codePointAt(j);
            if (!isCaseIgnorable(c)) {
                return !isCased(c);
            }
            j += Character.charCount(c);
        }
        return true;
    }

    /** Unicode's Cased property: Lowercase, Uppercase or titlecase letter. */
    private static boolean isCased(int cp) {
        return Character.isLowerCase(cp) || Character.isUpperCase(cp) || Character.isTitleCase(cp);
    }

    /**
     * Unicode's Case_Ignorable property: marks, format characters, modifier letters and symbols, and the
     * Word_Break classes MidLetter, MidNumLet and Single_Quote.
     */
    private static boolean isCaseIgnorable(int cp) {
        switch (Character.getType(cp)) {
            case Character.NON_SPACING_MARK, Character.ENCLOSING_MARK, Character.FORMAT, Character.MODIFIER_LETTER,
                    Character.MODIFIER_SYMBOL -> {
                return true;
            }
            default -> {
                return switch (cp) {
                    case 0x27, 0x2E, 0x3A, 0xB7, 0x387, 0x55F, 0x5F4, 0x2018, 0x2019, 0x2024, 0x2027, 0xFE13,
                            0xFE52, 0xFE55, 0xFF07, 0xFF0E, 0xFF1A -> true;
                    default -> false;
                };
            }
        }
    }

    // ------------------------------------------------------------------ ftfy's fixers

    /**
     * ftfy's {@code unescape_html}: every {@code &name;} or {@code &#number;} of 1..24 ASCII letters and digits
     * that is a known entity is decoded; anything else is kept as written.
     */
    static String unescapeHtml(String text) {
        int amp = text.indexOf('&');
        if (amp < 0) {
            return text;
        }
        StringBuilder sb = null;
        int copied = 0;
        int n = text.length();
        for (int i = amp; i >= 0 && i < n; i = text.indexOf('&', i)) {
            int start = i + 1;
            boolean numeric = start < n && text.charAt(start) == '#';
            int nameStart = numeric ? start + 1 : start;
            int j = nameStart;
            while (j < n && j - nameStart < 25 && isAsciiAlnum(text.charAt(j))) {
                j++;
            }
            int len = j - nameStart;
            if (len < 1 || len > 24 || j >= n || text.charAt(j) != ';') {
                i++;
                continue;
            }
            String name = text.substring(nameStart, j);
            String replacement = numeric ? numericEntity(name) : HtmlEntities.TABLE.get(name);
            if (replacement != null) {
                if (sb == null) {
                    sb = new StringBuilder(n);
                }
                sb.append(text, copied, i).append(replacement);
                copied = j + 1;
            }
            i = j + 1;
        }
        if (sb == null) {
            return text;
        }
        return sb.append(text, copied, n).toString();
    }

    private static boolean isAsciiAlnum(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }

    /**
     * A numeric entity's text as Python's {@code html.unescape} gives it, or null where ftfy keeps the entity
     * as written: the digits are not all decimal (or all hex after {@code x}), or the result contains ";".
     */
    private static String numericEntity(String body) {
        boolean hex = body.charAt(0) == 'x' || body.charAt(0) == 'X';
        String digits = hex ? body.substring(1) : body;
        if (digits.isEmpty()) {
            return null;
        }
        long num = 0;
        for (int k = 0; k < digits.length(); k++) {
            int d = Character.digit(digits.charAt(k), hex ? 16 : 10);
            if (d < 0) {
                return null;
            }
            // Saturate: any value past U+10FFFF behaves the same.
            num = Math.min(num * (hex ? 16 : 10) + d, 0x7FFF_FFFFL);
        }
        String out;
        if (num >= 0x80 && num <= 0x9F) {
            out = String.valueOf(C1_AS_CP1252[(int) num - 0x80]);
        } else if (num == 0) {
            out = "\ufffd";
        } else if (num == 0x0D) {
            out = "\r";
        } else if ((num >= 0xD800 && num <= 0xDFFF) || num > 0x10FFFF) {
            out = "\ufffd";
        } else if (isInvalidCharRef((int) num)) {
            out = "";
        } else {
            out = new String(Character.toChars((int) num));
        }
        return out.indexOf(';') >= 0 ? null : out;
    }

    /** Python html's {@code _invalid_codepoints}: decoded to nothing. */
    private static boolean isInvalidCharRef(int cp) {
        return (cp >= 0x1 && cp <= 0x8) || cp == 0xB || (cp >= 0xE && cp <= 0x1F) || (cp >= 0x7F && cp <= 0x9F)
                || (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE;
    }

    /** ftfy's {@code fix_c1_controls}: U+0080..U+009F are read as the Windows-1252 bytes they usually were. */
    static String fixC1Controls(String text) {
        StringBuilder sb = null;
        for (int i = 0, n = text.length(); i < n; i++) {
            char c = text.charAt(i);
            if (c >= 0x80 && c <= 0x9F) {
                if (sb == null) {
                    sb = new StringBuilder(text.length()).append(text, 0, i);
                }
                sb.append(C1_AS_CP1252[c - 0x80]);
            } else if (sb != null) {
                sb.append(c);
            }
        }
        return sb == null ? text : sb.toString();
    }

    private static String fixLatinLigatures(String text) {
        StringBuilder sb = null;
        for (int i = 0, n = text.length(); i < n; i++) {
            char c = text.charAt(i);
            String rep = c >= 0x0132 && (c <= 0x01F3 || (c >= 0xFB00 && c <= 0xFB06)) ? LIGATURES.get((int) c) : null;
            if (rep != null) {
                if (sb == null) {
                    sb = new StringBuilder(text.length() + 8).append(text, 0, i);
                }
                sb.append(rep);
            } else if (sb != null) {
                sb.append(c);
            }
        }
        return sb == null ? text : sb.toString();
    }

    private static String fixCharacterWidth(String text) {
        StringBuilder sb = null;
        for (int i = 0, n = text.length(); i < n; i++) {
            char c = text.charAt(i);
            String rep = c == 0x3000 ? " " : (c >= 0xFF00 && c < 0xFFF0) ? WIDTH_MAP[c - 0xFF00] : null;
            if (rep != null) {
                if (sb == null) {
                    sb = new StringBuilder(text.length()).append(text, 0, i);
                }
                sb.append(rep);
            } else if (sb != null) {
                sb.append(c);
            }
        }
        return sb == null ? text : sb.toString();
    }

    /** ftfy's {@code uncurl_quotes}: U+02BC and U+2018..U+201B become ', U+201C..U+201F become ". */
    private static String uncurlQuotes(String text) {
        StringBuilder sb = null;
        for (int i = 0, n = text.length(); i < n; i++) {
            char c = text.charAt(i);
            char rep = c == 0x02BC || (c >= 0x2018 && c <= 0x201B) ? '\'' : (c >= 0x201C && c <= 0x201F) ? '"' : 0;
            if (rep != 0) {
                if (sb == null) {
                    sb = new StringBuilder(text.length()).append(text, 0, i);
                }
                sb.append(rep);
            } else if (sb != null) {
                sb.append(c);
            }
        }
        return sb == null ? text : sb.toString();
    }

    /** ftfy's {@code fix_line_breaks}: CRLF, CR, U+2028, U+2029 and U+0085 become "\n". */
    private static String fixLineBreaks(String text) {
        StringBuilder sb = null;
        for (int i = 0, n = text.length(); i < n; i++) {
            char c = text.charAt(i);
            boolean isBreak = c == '\r' || c == 0x2028 || c == 0x2029 || c == 0x85;
            if (isBreak) {
                if (sb == null) {
                    sb = new StringBuilder(text.length()).append(text, 0, i);
                }
                sb.append('\n');
                if (c == '\r' && i + 1 < n && text.charAt(i + 1) == '\n') {
                    i++;
                }
            } else if (sb != null) {
                sb.append(c);
            }
        }
        return sb == null ? text : sb.toString();
    }

    /** ftfy's {@code fix_surrogates}: Java strings pair surrogates already, so each unpaired one becomes U+FFFD. */
    private static String fixSurrogates(String text) {
        StringBuilder sb = null;
        for (int i = 0, n = text.length(); i < n; i++) {
            char c = text.charAt(i);
            boolean lone = false;
            if (Character.isHighSurrogate(c)) {
                if (i + 1 < n && Character.isLowSurrogate(text.charAt(i + 1))) {
                    if (sb != null) {
                        sb.append(c).append(text.charAt(i + 1));
                    }
                    i++;
                    continue;
                }
                lone = true;
            } else if (Character.isLowSurrogate(c)) {
                lone = true;
            }
            if (lone) {
                if (sb == null) {
                    sb = new StringBuilder(text.length()).append(text, 0, i);
                }
                sb.append('\ufffd');
            } else if (sb != null) {
                sb.append(c);
            }
        }
        return sb == null ? text : sb.toString();
    }

    /**
     * ftfy's {@code remove_terminal_escapes}: ESC [ followed by decimal digits (any script, as Python's
     * {@code \d}) or ";" and one ASCII letter is removed.
     */
    private static String removeTerminalEscapes(String text) {
        int esc = text.indexOf('\u001b');
        if (esc < 0) {
            return text;
        }
        StringBuilder sb = new StringBuilder(text.length());
        int copied = 0;
        int n = text.length();
        for (int i = esc; i >= 0 && i < n; i = text.indexOf('\u001b', i)) {
            if (i + 1 < n && text.charAt(i + 1) == '[') {
                int j = i + 2;
                while (j < n) {
                    int cp = text.codePointAt(j);
                    if (cp != ';' && Character.getType(cp) != Character.DECIMAL_DIGIT_NUMBER) {
                        break;
                    }
                    j += Character.charCount(cp);
                }
                if (j < n && ((text.charAt(j) >= 'a' && text.charAt(j) <= 'z')
                        || (text.charAt(j) >= 'A' && text.charAt(j) <= 'Z'))) {
                    sb.append(text, copied, i);
                    copied = j + 1;
                    i = j + 1;
                    continue;
                }
            }
            i++;
        }
        return copied == 0 ? text : sb.append(text, copied, n).toString();
    }

    /**
     * ftfy's {@code remove_control_chars}: C0 controls other than tab, line feed, form feed and carriage
     * return, DEL, the deprecated format controls U+206A..U+206F, the byte-order mark and the interlinear
     * annotation and object replacement characters U+FFF9..U+FFFC are removed.
     */
    private static String removeControlChars(String text) {
        StringBuilder sb = null;
        for (int i = 0, n = text.length(); i < n; i++) {
            char c = text.charAt(i);
            if (isRemovedControl(c)) {
                if (sb == null) {
                    sb = new StringBuilder(text.length()).append(text, 0, i);
                }
            } else if (sb != null) {
                sb.append(c);
            }
        }
        return sb == null ? text : sb.toString();
    }

    private static boolean isRemovedControl(char c) {
        if (c < 0x20) {
            return c != '\t' && c != '\n' && c != '\f' && c != '\r';
        }
        return c == 0x7F || (c >= 0x206A && c <= 0x206F) || c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFC);
    }

    /** The entity table, read from the class path the first time an entity-like text is seen. */
    private static final class HtmlEntities {
        static final String RESOURCE = "clip-html-entities.tsv";
        static final Map<String, String> TABLE = load();

        private static Map<String, String> load() {
            Map<String, String> table = new HashMap<>(4096);
            try (InputStream in = ClipTextFixer.class.getResourceAsStream(RESOURCE)) {
                if (in == null) {
                    throw new IllegalStateException("class-path resource " + RESOURCE + " of "
                            + ClipTextFixer.class.getPackageName() + " is missing from the build");
                }
                BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    if (line.isEmpty() || line.startsWith("#")) {
                        continue;
                    }
                    int tab = line.indexOf('\t');
                    StringBuilder value = new StringBuilder(2);
                    for (String hex : line.substring(tab + 1).split(" ")) {
                        value.appendCodePoint(Integer.parseInt(hex, 16));
                    }
                    table.put(line.substring(0, tab), value.toString());
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read class-path resource " + RESOURCE, e);
            }
            return Map.copyOf(table);
        }
    }
}
