package org.blipjava.image;

/**
 * An image has more pixels than the decoder's limit; raised from the header, before any pixel
 * is decoded, so callers can tell a refused decompression bomb from a corrupt file.
 */
public class ImageTooLargeException extends ImageException {
    public ImageTooLargeException(String message) {
        super(message);
    }
}
