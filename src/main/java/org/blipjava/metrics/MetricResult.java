package org.blipjava.metrics;

import java.util.List;

/**
 * One metric over a caption set: the corpus-level value and the value of each image (in {@link
 * CaptionSet#ids()} order).
 *
 * @param corpus corpus-level score
 * @param perImage score of each image
 */
public record MetricResult(double corpus, List<Double> perImage) {
    public MetricResult {
        perImage = List.copyOf(perImage);
    }

    /** A result whose corpus value is the mean of the per-image values. */
    static MetricResult ofMean(List<Double> perImage) {
        double sum = 0;
        for (double v : perImage) {
            sum += v;
        }
        return new MetricResult(perImage.isEmpty() ? 0 : sum / perImage.size(), perImage);
    }
}
