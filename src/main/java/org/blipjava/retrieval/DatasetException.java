package org.blipjava.retrieval;

/** A dataset file that cannot be understood; the message names the file and the entry. */
public class DatasetException extends RuntimeException {
    public DatasetException(String message) {
        super(message);
    }
}
