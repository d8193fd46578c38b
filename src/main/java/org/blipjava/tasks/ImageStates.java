package org.blipjava.tasks;

import java.util.List;

/**
 * The vision tower's last hidden states of a batch of images, {@code [count, seqLen, hidden]}
 * float32: what the image-grounded text encoder cross-attends to for ITM, and what the ITC image
 * features are projected from. Keeping them lets a caller score an image again without decoding
 * and encoding it again.
 *
 * @param values the states, row-major; not copied, so do not change them while a call uses them
 */
public record ImageStates(float[] values, int count, int seqLen, int hidden) {
    public ImageStates {
        if (count < 0 || seqLen < 1 || hidden < 1) {
            throw new IllegalArgumentException("image states: bad shape [" + count + ", " + seqLen + ", " + hidden + "]");
        }
        if ((long) count * seqLen * hidden != values.length) {
            throw new IllegalArgumentException("image states: " + values.length + " floats for shape ["
                    + count + ", " + seqLen + ", " + hidden + "]");
        }
    }

    /**
     * The shape of one image's states.
     *
     * @param seqLen patches plus the class token
     * @param hidden the vision tower's width
     */
    public record Shape(int seqLen, int hidden) {
        /** Bytes of one image's states as float32: {@code seqLen x hidden x 4}. */
        public long bytes() {
            return (long) seqLen * hidden * Float.BYTES;
        }
    }

    /** The shape of one image's states. */
    public Shape shape() {
        return new Shape(seqLen, hidden);
    }

    /** A copy of image {@code i}'s states, {@code [seqLen, hidden]}. */
    public float[] image(int i) {
        java.util.Objects.checkIndex(i, count);
        int n = seqLen * hidden;
        return java.util.Arrays.copyOfRange(values, i * n, (i + 1) * n);
    }

    /**
     * Stacks single images' states into one batch.
     *
     * @throws IllegalArgumentException when an image's states are not {@code shape}'s size
     */
    public static ImageStates stack(List<float[]> images, Shape shape) {
        int n = shape.seqLen() * shape.hidden();
        float[] all = new float[Math.multiplyExact(images.size(), n)];
        for (int i = 0; i < images.size(); i++) {
            float[] one = images.get(i);
            if (one.length != n) {
                throw new IllegalArgumentException("image states " + i + ": " + one.length + " floats, expected "
                        + shape.seqLen() + " x " + shape.hidden());
            }
            System.arraycopy(one, 0, all, i * n, n);
        }
        return new ImageStates(all, images.size(), shape.seqLen(), shape.hidden());
    }
}
