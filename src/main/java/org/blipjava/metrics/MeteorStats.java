package org.blipjava.metrics;

/**
 * METEOR sufficient statistics of one candidate against one reference, or a sum of them over a
 * corpus (the corpus score is computed from the summed statistics, as METEOR does).
 *
 * @param testLength candidate words
 * @param referenceLength reference words
 * @param testFunctionWords candidate words that are function words
 * @param referenceFunctionWords reference words that are function words
 * @param exact matches found by exact comparison
 * @param stem matches found by comparing stems
 * @param synonym matches found through shared WordNet synsets
 * @param chunks number of chunks (runs of matches adjacent and in the same order in both)
 */
public record MeteorStats(int testLength, int referenceLength, int testFunctionWords, int referenceFunctionWords,
        Matches exact, Matches stem, Matches synonym, int chunks) {

    /** Matched words of one module, split into content and function words on each side. */
    public record Matches(int testContent, int referenceContent, int testFunction, int referenceFunction) {
        static final Matches NONE = new Matches(0, 0, 0, 0);

        Matches plus(Matches o) {
            return new Matches(testContent + o.testContent, referenceContent + o.referenceContent,
                    testFunction + o.testFunction, referenceFunction + o.referenceFunction);
        }

        int test() {
            return testContent + testFunction;
        }

        int reference() {
            return referenceContent + referenceFunction;
        }
    }

    /** Statistics of nothing (the identity of {@link #plus}). */
    public static final MeteorStats EMPTY = new MeteorStats(0, 0, 0, 0, Matches.NONE, Matches.NONE, Matches.NONE, 0);

    /** Matched candidate words over all modules. */
    public int testMatches() {
        return exact.test() + stem.test() + synonym.test();
    }

    /** Matched reference words over all modules. */
    public int referenceMatches() {
        return exact.reference() + stem.reference() + synonym.reference();
    }

    /** Field-wise sum, for corpus-level scores. */
    public MeteorStats plus(MeteorStats o) {
        return new MeteorStats(testLength + o.testLength, referenceLength + o.referenceLength,
                testFunctionWords + o.testFunctionWords, referenceFunctionWords + o.referenceFunctionWords,
                exact.plus(o.exact), stem.plus(o.stem), synonym.plus(o.synonym), chunks + o.chunks);
    }
}
