package org.blipjava.tasks;

import java.util.Arrays;

/** Splitting flat row-major results into one array per row. */
final class Rows {
    private Rows() {}

    /** {@code flat} as {@code n} rows of equal width. */
    static float[][] split(float[] flat, int n) {
        if (n == 0) {
            return new float[0][];
        }
        if (flat.length % n != 0) {
            throw new IllegalArgumentException(flat.length + " values do not split into " + n + " equal rows");
        }
        int width = flat.length / n;
        float[][] out = new float[n][];
        for (int i = 0; i < n; i++) {
            out[i] = Arrays.copyOfRange(flat, i * width, (i + 1) * width);
        }
        return out;
    }
}
