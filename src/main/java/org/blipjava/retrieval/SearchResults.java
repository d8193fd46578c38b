package org.blipjava.retrieval;

import java.util.List;

/**
 * The hits of one query, best first, and the images that could not be re-read for re-ranking
 * (those keep their ITC rank after the re-ranked ones).
 */
public record SearchResults(List<SearchHit> hits, List<Indexer.Failure> failed) {
    public SearchResults {
        hits = List.copyOf(hits);
        failed = List.copyOf(failed);
    }
}
