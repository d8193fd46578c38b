package org.blipjava.tokenizer;

/**
 * A tokenizer directory or file is missing, malformed or inconsistent, or a token role the caller asked
 * for is not configured. The message names the file, key or argument that is wrong and what to do.
 */
public class TokenizerException extends RuntimeException {
    /** Creates the exception with a message that names the offending file or key. */
    public TokenizerException(String message) {
        super(message);
    }

    /** Creates the exception with a message and the underlying cause (usually an I/O or JSON error). */
    public TokenizerException(String message, Throwable cause) {
        super(message, cause);
    }
}
