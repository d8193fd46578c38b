package org.blipjava.hub;

/**
 * The model argument names nothing that exists: a missing local directory, an invalid repository
 * id, or a repository, revision or required file the Hub does not have.
 */
public class ModelNotFoundException extends HubException {
    public ModelNotFoundException(String message) {
        super(message);
    }
}
