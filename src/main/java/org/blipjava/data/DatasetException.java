package org.blipjava.data;

/** A dataset file that cannot be read or has the wrong shape; the message names the file and what to fix. */
public class DatasetException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public DatasetException(String message) {
        super(message);
    }

    public DatasetException(String message, Throwable cause) {
        super(message, cause);
    }
}
