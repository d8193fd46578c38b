package org.blipjava.hub;

/** The Hub refused access (HTTP 401 or 403): a private or gated repository, or a bad token. */
public class HubAccessException extends HubException {
    /** The HTTP status the Hub answered with. */
    private final int status;

    public HubAccessException(String message, int status) {
        super(message);
        this.status = status;
    }

    /** The HTTP status the Hub answered with (401 or 403). */
    public int status() {
        return status;
    }
}
