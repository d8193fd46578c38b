package org.blipjava.data;

import java.util.List;
import java.util.Objects;

/**
 * The usable entries of a dataset and the ones left out.
 *
 * @param format the detected format, e.g. "coco-karpathy"
 * @param samples the entries whose image exists, in file order
 * @param skipped entries left out (missing image, empty caption, ...) with the reason
 * @param <T> the sample type
 */
public record Dataset<T>(String format, List<T> samples, List<Skipped> skipped) {
    public Dataset {
        Objects.requireNonNull(format, "format");
        samples = List.copyOf(samples);
        skipped = List.copyOf(skipped);
    }

    /** The first {@code n} samples (all when {@code n} is null or not smaller than the size). */
    public Dataset<T> limit(Integer n) {
        if (n == null || n >= samples.size()) {
            return this;
        }
        if (n < 0) {
            throw new IllegalArgumentException("limit must be positive, not " + n);
        }
        return new Dataset<>(format, samples.subList(0, n), skipped);
    }
}
