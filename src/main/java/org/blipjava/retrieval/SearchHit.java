package org.blipjava.retrieval;

/**
 * One search result.
 *
 * @param path     the indexed image file
 * @param caption  its stored caption, or null
 * @param size     file size when indexed
 * @param modified modification time (ms) when indexed
 * @param itc      cosine similarity of the query and the stored embedding (the ITC score)
 * @param itm      ITM match probability after re-ranking, or NaN when the hit was not re-ranked
 */
public record SearchHit(String path, String caption, long size, long modified, double itc, double itm) {
    /** Whether {@link #itm()} holds a re-ranking score. */
    public boolean reranked() {
        return !Double.isNaN(itm);
    }

    SearchHit withItm(double p) {
        return new SearchHit(path, caption, size, modified, itc, p);
    }
}
