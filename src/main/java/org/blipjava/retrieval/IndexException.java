package org.blipjava.retrieval;

/** An index that cannot be used as asked: not a blip index, another model's index, unreadable. */
public class IndexException extends RuntimeException {
    public IndexException(String message) {
        super(message);
    }

    public IndexException(String message, Throwable cause) {
        super(message, cause);
    }
}
