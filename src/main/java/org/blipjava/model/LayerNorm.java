package org.blipjava.model;

import org.blipjava.checkpoint.StateDict;
import org.blipjava.tensor.Kernels;
import org.blipjava.tensor.Parallel;

/** An {@code nn.LayerNorm} over the last dimension with its epsilon from the config. */
record LayerNorm(float[] weight, float[] bias, int dim, double eps) {

    static LayerNorm load(StateDict sd, String prefix, int dim, double eps) {
        return new LayerNorm(sd.floats(prefix + ".weight", dim), sd.floats(prefix + ".bias", dim), dim, eps);
    }

    /** Normalizes {@code x [rows, dim]} into a new array. */
    float[] forward(Parallel p, float[] x, int rows) {
        float[] y = new float[rows * dim];
        Kernels.layerNorm(p, x, rows, dim, weight, bias, eps, y);
        return y;
    }

    /** Normalizes {@code x [rows, dim]} into {@code out}. */
    void apply(Parallel p, float[] x, int rows, float[] out) {
        Kernels.layerNorm(p, x, rows, dim, weight, bias, eps, out);
    }

    /** Normalizes {@code x [rows, dim]} in place. */
    void apply(Parallel p, float[] x, int rows) {
        Kernels.layerNorm(p, x, rows, dim, weight, bias, eps, x);
    }
}
