package org.blipjava.bench;

import java.util.Arrays;

/**
 * Repeated measurements summarized: median, minimum and maximum.
 *
 * @param values the measurements, in run order
 */
public record Stats(double[] values) {
    public Stats {
        if (values.length == 0) {
            throw new IllegalArgumentException("no measurements");
        }
        values = values.clone();
    }

    @Override
    public double[] values() {
        return values.clone();
    }

    public double median() {
        double[] s = values.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    public double min() {
        return Arrays.stream(values).min().orElseThrow();
    }

    public double max() {
        return Arrays.stream(values).max().orElseThrow();
    }

    /** (max - min) / median, as a percentage: how much the runs disagree. */
    public double spreadPercent() {
        double m = median();
        return m == 0 ? 0 : 100 * (max() - min()) / m;
    }

    /** Each value mapped through {@code f} (for example seconds to a rate). */
    public Stats map(java.util.function.DoubleUnaryOperator f) {
        return new Stats(Arrays.stream(values).map(f).toArray());
    }
}
