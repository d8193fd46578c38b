package org.blipjava.model;

import org.blipjava.checkpoint.StateDict;
import org.blipjava.tensor.Kernels;
import org.blipjava.tensor.PackedMatrix;
import org.blipjava.tensor.Parallel;
import org.blipjava.tensor.WeightPrecision;

/**
 * An {@code nn.Linear} layer: its weight packed once for the matrix-product kernels (only the
 * packed copy is kept) and an optional bias.
 */
record Linear(PackedMatrix packed, float[] bias, int in, int out) {

    /** From a weight in PyTorch layout {@code [out, in]}. */
    Linear(float[] weight, float[] bias, int in, int out) {
        this(PackedMatrix.ofLinearWeight(weight, out, in), bias, in, out);
    }

    /** Takes {@code prefix.weight} (and {@code prefix.bias} when {@code withBias}) from the state dict. */
    static Linear load(StateDict sd, String prefix, int in, int out, boolean withBias) {
        return load(sd, prefix, in, out, withBias, WeightPrecision.F32);
    }

    /** As {@link #load(StateDict, String, int, int, boolean)}, storing the weight at {@code precision}. */
    static Linear load(StateDict sd, String prefix, int in, int out, boolean withBias, WeightPrecision precision) {
        PackedMatrix w = PackedMatrix.ofLinearWeight(sd.take(prefix + ".weight", out, in), 0, out)
                .withPrecision(precision);
        float[] b = withBias ? sd.floats(prefix + ".bias", out) : null;
        return new Linear(w, b, in, out);
    }

    /**
     * Output rows {@code [from, from+count)} of the fused projection {@code prefix} (weight
     * {@code [fusedOut, in]}), packed straight from the checkpoint.
     */
    static Linear loadRows(StateDict sd, String prefix, int in, int fusedOut, int from, int count,
                           WeightPrecision precision) {
        PackedMatrix w = PackedMatrix.ofLinearWeight(sd.take(prefix + ".weight", fusedOut, in), from, count)
                .withPrecision(precision);
        float[] b = new float[count];
        System.arraycopy(sd.floats(prefix + ".bias", fusedOut), from, b, 0, count);
        return new Linear(w, b, in, count);
    }

    /** The weight in PyTorch layout {@code [out, in]}, unpacked into a new array. */
    float[] weight() {
        return packed.toLinearWeight();
    }

    /** {@code x [rows, in] -> [rows, out]}. */
    float[] forward(Parallel p, float[] x, int rows) {
        float[] y = new float[rows * out];
        forward(p, x, rows, y);
        return y;
    }

    /** {@code x [rows, in] -> y [rows, out]} into a caller's array. */
    void forward(Parallel p, float[] x, int rows, float[] y) {
        Kernels.linear(p, x, rows, packed, bias, y);
    }

    /** Rows of {@code x} from float {@code xOff} into rows of {@code y} from float {@code yOff}. */
    void forward(Parallel p, float[] x, int xOff, int rows, float[] y, int yOff) {
        Kernels.linear(p, x, xOff, rows, packed, bias, y, yOff);
    }

    /** Rows {@code [from, from+count)} of the output as a new layer (for splitting fused projections). */
    Linear slice(int from, int count) {
        float[] b = null;
        if (bias != null) {
            b = new float[count];
            System.arraycopy(bias, from, b, 0, count);
        }
        return new Linear(packed.sliceColumns(from, count), b, in, count);
    }
}
