package org.blipjava.hub;

/**
 * The Hub could not be reached (offline mode, no network, connection lost or server error) and the
 * cache does not hold everything the request needs.
 */
public class HubUnreachableException extends HubException {
    public HubUnreachableException(String message, Throwable cause) {
        super(message, cause);
    }
}
