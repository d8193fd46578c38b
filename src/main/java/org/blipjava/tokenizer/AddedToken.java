package org.blipjava.tokenizer;

/**
 * A token matched verbatim in the input before any normalisation (the reference's {@code AddedToken}).
 *
 * @param content    the exact text
 * @param id         its id
 * @param special    whether it is a special token (skipped by {@code decode(ids, true)})
 * @param lstrip     whether it swallows the whitespace on its left
 * @param rstrip     whether it swallows the whitespace on its right
 * @param singleWord whether it only matches as a whole word
 * @param normalized whether it is matched after lower-casing (non-special tokens only)
 */
record AddedToken(String content, int id, boolean special, boolean lstrip, boolean rstrip, boolean singleWord,
        boolean normalized) {

    /** A special token as the reference creates it from a plain string. */
    static AddedToken special(String content, int id) {
        return new AddedToken(content, id, true, false, false, false, false);
    }
}
