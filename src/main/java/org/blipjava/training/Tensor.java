package org.blipjava.training;

import java.util.Arrays;

/**
 * A float array with a shape and, when it takes part in differentiation, a gradient of the same
 * size. Row-major; the shape is informative (ops take explicit sizes).
 *
 * <p>Not thread-safe: a tensor belongs to the one training step that created it.
 */
public class Tensor {
    private final float[] data;
    private final int[] shape;
    private final boolean requiresGrad;
    private float[] grad;

    Tensor(float[] data, boolean requiresGrad, int... shape) {
        this.data = data;
        this.shape = shape.clone();
        this.requiresGrad = requiresGrad;
    }

    /** An input that needs no gradient (pixels, masks). */
    public static Tensor constant(float[] data, int... shape) {
        return new Tensor(data, false, shape);
    }

    /** The values (shared, not copied). */
    public final float[] data() {
        return data;
    }

    /** The shape as given at creation. */
    public final int[] shape() {
        return shape.clone();
    }

    /** Number of elements. */
    public final int size() {
        return data.length;
    }

    /** Whether a backward pass computes a gradient for this tensor. */
    public final boolean requiresGrad() {
        return requiresGrad;
    }

    /** The gradient, allocated (zero) on first use. */
    public final float[] grad() {
        if (grad == null) {
            grad = new float[data.length];
        }
        return grad;
    }

    /** Whether anything has written a gradient yet (backward closures skip tensors nobody used). */
    final boolean hasGrad() {
        return grad != null;
    }

    /** Sets the gradient to zero (keeping the array). */
    public final void zeroGrad() {
        if (grad != null) {
            Arrays.fill(grad, 0f);
        }
    }

    /** The single value of a scalar tensor. */
    public final float item() {
        if (data.length != 1) {
            throw new IllegalStateException("item() needs a scalar, this tensor has " + data.length + " elements");
        }
        return data[0];
    }
}
