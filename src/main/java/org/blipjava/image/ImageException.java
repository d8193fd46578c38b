package org.blipjava.image;

/**
 * An image cannot be used: the file is missing, not an image of a supported format, corrupt,
 * larger than the configured pixel limit, or needing more memory to decode than there is or
 * than the configured limit. The message names the source and what to do.
 */
public class ImageException extends RuntimeException {
    public ImageException(String message) {
        super(message);
    }

    public ImageException(String message, Throwable cause) {
        super(message, cause);
    }
}
