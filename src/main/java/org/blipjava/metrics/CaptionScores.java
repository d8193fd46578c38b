package org.blipjava.metrics;

import java.util.List;

/**
 * Every caption metric of one caption set, at corpus level and per image.
 *
 * @param ids image ids, the order of every per-image list
 * @param bleu BLEU-1..4
 * @param rougeL ROUGE-L
 * @param ciderD CIDEr-D
 * @param meteor METEOR
 */
public record CaptionScores(List<String> ids, Bleu.Result bleu, MetricResult rougeL, MetricResult ciderD,
        MetricResult meteor) {
    public CaptionScores {
        ids = List.copyOf(ids);
    }

    /**
     * Scores a caption set with all metrics.
     *
     * @param set captions to score
     * @param pretokenized true when the captions are already tokenized as the toolkit does;
     *     otherwise {@link PtbTokenizer} is applied first
     * @param meteor the METEOR scorer (e.g. {@link Meteor#english()}, which loads WordNet once)
     */
    public static CaptionScores score(CaptionSet set, boolean pretokenized, Meteor meteor) {
        CaptionSet s = pretokenized ? set : set.tokenized();
        return new CaptionScores(s.ids(), Bleu.score(s), RougeL.score(s), CiderD.score(s), meteor.score(s));
    }
}
