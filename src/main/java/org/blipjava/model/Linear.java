package org.blipjava.model;

import org.blipjava.checkpoint.StateDict;
import org.blipjava.tensor.Kernels;
import org.blipjava.tensor.Parallel;

/** An {@code nn.Linear} layer's weights ({@code [out, in]}, PyTorch layout) and optional bias. */
record Linear(float[] weight, float[] bias, int in, int out) {

    /** Takes {@code prefix.weight} (and {@code prefix.bias} when {@code withBias}) from the state dict. */
    static Linear load(StateDict sd, String prefix, int in, int out, boolean withBias) {
        float[] w = sd.floats(prefix + ".weight", out, in);
        float[] b = withBias ? sd.floats(prefix + ".bias", out) : null;
        return new Linear(w, b, in, out);
    }

    /** {@code x [rows, in] -> [rows, out]}. */
    float[] forward(Parallel p, float[] x, int rows) {
        float[] y = new float[rows * out];
        Kernels.linear(p, x, rows, in, weight, bias, out, y);
        return y;
    }

    /** Rows {@code [from, from+count)} of the output as a new layer (for splitting fused projections). */
    Linear slice(int from, int count) {
        float[] w = new float[count * in];
        System.arraycopy(weight, from * in, w, 0, count * in);
        float[] b = null;
        if (bias != null) {
            b = new float[count];
            System.arraycopy(bias, from, b, 0, count);
        }
        return new Linear(w, b, in, count);
    }
}
