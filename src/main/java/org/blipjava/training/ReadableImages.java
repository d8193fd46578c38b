package org.blipjava.training;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.IntFunction;
import org.blipjava.image.RgbImage;

/**
 * The images of a validation batch that could be decoded, with the indices they belong to;
 * unreadable ones are skipped (the reader has reported them).
 */
record ReadableImages(List<RgbImage> images, List<Integer> indices) {

    /**
     * Reads the images of indices {@code from} (inclusive) to {@code to} (exclusive).
     *
     * @param imageOf the image file of an index
     * @param reader  decodes an image, or returns null when it cannot
     */
    static ReadableImages read(int from, int to, IntFunction<Path> imageOf, Function<Path, RgbImage> reader) {
        List<RgbImage> images = new ArrayList<>();
        List<Integer> indices = new ArrayList<>();
        for (int i = from; i < to; i++) {
            RgbImage img = reader.apply(imageOf.apply(i));
            if (img != null) {
                images.add(img);
                indices.add(i);
            }
        }
        return new ReadableImages(images, indices);
    }

    int size() {
        return images.size();
    }

    boolean isEmpty() {
        return images.isEmpty();
    }
}
