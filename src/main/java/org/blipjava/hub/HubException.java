package org.blipjava.hub;

/** The Hub or the local Hub cache could not provide a model; the message says what and what to do. */
public class HubException extends RuntimeException {
    public HubException(String message) {
        super(message);
    }

    public HubException(String message, Throwable cause) {
        super(message, cause);
    }
}
