package org.blipjava.image;

import java.util.Arrays;

/**
 * An immutable 8-bit RGB image: {@code width * height} pixels, row-major, each pixel three
 * interleaved bytes R, G, B (unsigned).
 *
 * <p>The sample array is copied on the way in and on the way out, so an instance can be shared
 * freely between threads.
 */
public final class RgbImage {
    private final int width;
    private final int height;
    private final byte[] rgb;

    /**
     * Creates an image from interleaved RGB bytes (copied).
     *
     * @throws IllegalArgumentException when a dimension is not positive or the array length is
     *                                  not {@code width * height * 3}
     */
    public RgbImage(int width, int height, byte[] rgb) {
        this(width, height, rgb.clone(), true);
    }

    /** Takes ownership of {@code rgb} without copying; for this package's own freshly made arrays. */
    RgbImage(int width, int height, byte[] rgb, boolean owned) {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("image size must be positive, got " + width + "x" + height);
        }
        if ((long) width * height * 3 != rgb.length) {
            throw new IllegalArgumentException("rgb has " + rgb.length + " bytes; a " + width + "x" + height
                    + " RGB image needs " + ((long) width * height * 3));
        }
        this.width = width;
        this.height = height;
        this.rgb = rgb;
    }

    /** Width in pixels. */
    public int width() {
        return width;
    }

    /** Height in pixels. */
    public int height() {
        return height;
    }

    /** A copy of the interleaved samples, {@code [(y * width + x) * 3 + channel]}. */
    public byte[] rgb() {
        return rgb.clone();
    }

    /** One sample, 0..255; {@code channel} 0 = R, 1 = G, 2 = B. */
    public int sample(int x, int y, int channel) {
        return rgb[(y * width + x) * 3 + channel] & 0xff;
    }

    /** The internal array; callers in this package must not modify it. */
    byte[] data() {
        return rgb;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RgbImage other && other.width == width && other.height == height
                && Arrays.equals(other.rgb, rgb);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * width + height) + Arrays.hashCode(rgb);
    }

    @Override
    public String toString() {
        return "RgbImage[" + width + "x" + height + "]";
    }
}
