package org.blipjava.serve;

/**
 * A request the server refuses, answered as {@code {"error": {"code": ..., "message": ...}}} with
 * an HTTP status: 4xx for what the client can fix, 503 and 504 for load.
 */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String code;
    private final Integer retryAfterSeconds;

    /**
     * @param status  the HTTP status
     * @param code    a stable machine-readable name (for example {@code bad_image})
     * @param message what is wrong, in words
     */
    public ApiException(int status, String code, String message) {
        this(status, code, message, null);
    }

    /** As {@link #ApiException(int, String, String)} with a {@code Retry-After} header (seconds). */
    public ApiException(int status, String code, String message, Integer retryAfterSeconds) {
        super(message);
        this.status = status;
        this.code = code;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    static ApiException badRequest(String code, String message) {
        return new ApiException(400, code, message);
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    /** Seconds for a {@code Retry-After} header, or null for none. */
    public Integer retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
