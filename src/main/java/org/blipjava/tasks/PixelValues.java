package org.blipjava.tasks;

/**
 * A batch of preprocessed images, as the reference's processor returns {@code pixel_values}:
 * {@code [count, 3, height, width]} float32, row-major, resized, rescaled and normalized.
 *
 * @param values the pixels; not copied, so do not change them while a call uses them
 */
public record PixelValues(float[] values, int count, int height, int width) {
    public PixelValues {
        if (count < 0 || height < 1 || width < 1) {
            throw new IllegalArgumentException("pixel values: bad shape [" + count + ", 3, " + height + ", " + width + "]");
        }
        if ((long) count * 3 * height * width != values.length) {
            throw new IllegalArgumentException("pixel values: " + values.length + " floats for shape ["
                    + count + ", 3, " + height + ", " + width + "]");
        }
    }

    /** Images preprocessed by {@code processor} as one batch. */
    public static PixelValues of(org.blipjava.image.ImageProcessor processor, java.util.List<org.blipjava.image.RgbImage> images) {
        return new PixelValues(processor.preprocessBatch(images), images.size(), processor.height(), processor.width());
    }
}
