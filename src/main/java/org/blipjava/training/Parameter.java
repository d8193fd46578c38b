package org.blipjava.training;

/**
 * A trainable weight: its checkpoint key, shape, value and accumulated gradient.
 *
 * <p>Values are updated in place by an optimizer; gradients accumulate over backward passes
 * until {@link #zeroGrad()}.
 */
public final class Parameter extends Tensor {
    private final String name;

    Parameter(String name, float[] value, int... shape) {
        super(value, true, shape);
        this.name = name;
        grad(); // allocated up front: parameters always receive gradients
    }

    /** The checkpoint key, for example {@code vision_model.embeddings.class_embedding}. */
    public String name() {
        return name;
    }

    /** The value (shared: writes change the model). */
    public float[] value() {
        return data();
    }

    @Override
    public String toString() {
        return name + java.util.Arrays.toString(shape());
    }
}
