package org.blipjava.image;

import java.io.InputStream;
import java.nio.file.Path;

/** Shortcuts for decoding with {@link ImageDecoder#defaults()}. */
public final class Images {
    private Images() {}

    /** Decodes a PNG, JPEG, GIF, BMP or WebP file to RGB as Pillow's {@code convert("RGB")}. */
    public static RgbImage read(Path file) {
        return ImageDecoder.defaults().read(file);
    }

    /** Decodes an encoded image held in memory; {@code name} identifies it in errors. */
    public static RgbImage read(byte[] encoded, String name) {
        return ImageDecoder.defaults().read(encoded, name);
    }

    /** Decodes an encoded image from a stream (read to its end, not closed). */
    public static RgbImage read(InputStream encoded, String name) {
        return ImageDecoder.defaults().read(encoded, name);
    }
}
