package org.blipjava.tokenizer;

/**
 * Character classes and string helpers with the reference's (Python's) definitions, on code points.
 *
 * <p>Python iterates strings by code point, so every helper here does too; Java's own definitions
 * ({@link Character#isWhitespace}, {@link String#strip}) differ from Python's in a few code points.
 */
final class CharClasses {
    private CharClasses() {}

    /** BERT's whitespace: space, tab, newline, carriage return and every Zs code point. */
    static boolean isBertWhitespace(int cp) {
        return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r'
                || Character.getType(cp) == Character.SPACE_SEPARATOR;
    }

    /** BERT's control characters: any C* category except tab, newline and carriage return. */
    static boolean isBertControl(int cp) {
        if (cp == '\t' || cp == '\n' || cp == '\r') {
            return false;
        }
        int type = Character.getType(cp);
        return type == Character.CONTROL || type == Character.FORMAT || type == Character.UNASSIGNED
                || type == Character.PRIVATE_USE || type == Character.SURROGATE;
    }

    /** BERT's punctuation: the ASCII symbol ranges (so "$", "^", "`" count) plus every P* category. */
    static boolean isBertPunctuation(int cp) {
        if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) {
            return true;
        }
        if (cp < 128) {
            return false;
        }
        return switch (Character.getType(cp)) {
            case Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.START_PUNCTUATION,
                    Character.END_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION,
                    Character.FINAL_QUOTE_PUNCTUATION, Character.OTHER_PUNCTUATION -> true;
            default -> false;
        };
    }

    /** The CJK Unified Ideograph blocks BERT isolates (not Hangul, Hiragana or Katakana). */
    static boolean isCjk(int cp) {
        return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF)
                || (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F)
                || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF)
                || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
    }

    /** Python's {@code str.isspace()} for one code point (what {@code str.split()} and {@code strip()} use). */
    static boolean isPythonSpace(int cp) {
        return switch (cp) {
            case 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029,
                    0x202F, 0x205F, 0x3000 -> true;
            default -> cp >= 0x2000 && cp <= 0x200A;
        };
    }

    /** Python's {@code str.split()} with no argument: runs of whitespace separate, no empty pieces. */
    static void splitPythonWhitespace(String text, java.util.List<String> out) {
        int n = text.length();
        int start = -1;
        for (int i = 0; i < n; ) {
            int cp = text.codePointAt(i);
            int next = i + Character.charCount(cp);
            if (isPythonSpace(cp)) {
                if (start >= 0) {
                    out.add(text.substring(start, i));
                    start = -1;
                }
            } else if (start < 0) {
                start = i;
            }
            i = next;
        }
        if (start >= 0) {
            out.add(text.substring(start));
        }
    }

    /** Python's {@code str.strip()}. */
    static String pythonStrip(String s) {
        return pythonRstrip(pythonLstrip(s));
    }

    /** Python's {@code str.lstrip()}. */
    static String pythonLstrip(String s) {
        int i = 0;
        while (i < s.length()) {
            int cp = s.codePointAt(i);
            if (!isPythonSpace(cp)) {
                break;
            }
            i += Character.charCount(cp);
        }
        return s.substring(i);
    }

    /** Python's {@code str.rstrip()}. */
    static String pythonRstrip(String s) {
        int end = s.length();
        while (end > 0) {
            int cp = s.codePointBefore(end);
            if (!isPythonSpace(cp)) {
                break;
            }
            end -= Character.charCount(cp);
        }
        return s.substring(0, end);
    }

    /**
     * Appends the lower case of one code point as Python's {@code str.lower()} gives it for that code point
     * alone (full case mapping, so U+0130 becomes two code points; no final-sigma context, because the
     * reference lower-cases the text one character at a time).
     */
    static void appendLower(StringBuilder out, int cp) {
        if (cp < 128) {
            out.append((char) (cp >= 'A' && cp <= 'Z' ? cp + 32 : cp));
        } else if (cp == 0x130) {
            // The one code point whose full lower-case mapping is longer than the simple one.
            out.append("i\u0307");
        } else {
            out.appendCodePoint(Character.toLowerCase(cp));
        }
    }

    /** Whether every char of {@code s} is ASCII (the fast path of most normalisation steps). */
    static boolean isAscii(CharSequence s) {
        for (int i = 0, n = s.length(); i < n; i++) {
            if (s.charAt(i) >= 128) {
                return false;
            }
        }
        return true;
    }
}
