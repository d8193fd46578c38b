package org.blipjava.serve;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * How {@link BlipServer} listens, batches and limits requests.
 *
 * @param host            address to bind (loopback unless told otherwise)
 * @param port            port to bind; 0 for any free one
 * @param maxUploadBytes  largest encoded image accepted (multipart part or decoded base64)
 * @param maxPixels       largest image, width x height, checked from its header before decoding
 * @param maxTextChars    longest prompt, question or text
 * @param maxTexts        most texts in one match or embed request
 * @param queueCapacity   most requests waiting for a batch; more are answered 503 with Retry-After
 * @param maxBatch        most requests in one model call
 * @param batchWait       how long a request may wait for others to join its batch
 * @param workers         model calls running at the same time
 * @param requestTimeout  longest a request may wait for its result before a 504
 * @param apiKey          the key every {@code /v1} and {@code /metrics} request must present, or null for none
 * @param corsOrigins     origins allowed to call the API from another site's pages; empty for CORS off
 * @param shutdownGrace   how long a shutdown waits for requests in flight
 */
public record ServeOptions(String host, int port, long maxUploadBytes, long maxPixels, int maxTextChars, int maxTexts,
        int queueCapacity, int maxBatch, Duration batchWait, int workers, Duration requestTimeout, String apiKey,
        List<String> corsOrigins, Duration shutdownGrace) {

    public ServeOptions {
        Objects.requireNonNull(host, "host");
        corsOrigins = List.copyOf(corsOrigins);
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be 0..65535, got " + port);
        }
        positive("max upload bytes", maxUploadBytes);
        positive("max pixels", maxPixels);
        positive("max text length", maxTextChars);
        positive("max texts", maxTexts);
        positive("queue capacity", queueCapacity);
        positive("max batch", maxBatch);
        positive("workers", workers);
        if (batchWait.isNegative() || requestTimeout.isNegative() || requestTimeout.isZero() || shutdownGrace.isNegative()) {
            throw new IllegalArgumentException("batch wait and shutdown grace must be >= 0 and the request timeout > 0");
        }
        if (apiKey != null && apiKey.isBlank()) {
            throw new IllegalArgumentException("the API key is empty");
        }
    }

    private static void positive(String what, long v) {
        if (v < 1) {
            throw new IllegalArgumentException(what + " must be at least 1, got " + v);
        }
    }

    /**
     * Loopback, port 8080, 20 MB uploads, 50 megapixels, 1000-character texts, 64 texts, a queue
     * of 64, batches of up to 8 gathered for 5 ms, one worker, 60 s per request, no API key, no
     * CORS, 30 s to finish requests in flight on shutdown.
     */
    public static ServeOptions defaults() {
        return new ServeOptions("127.0.0.1", 8080, 20L << 20, 50_000_000L, 1000, 64, 64, 8, Duration.ofMillis(5), 1,
                Duration.ofSeconds(60), null, List.of(), Duration.ofSeconds(30));
    }

    public ServeOptions withAddress(String host, int port) {
        return new ServeOptions(host, port, maxUploadBytes, maxPixels, maxTextChars, maxTexts, queueCapacity, maxBatch,
                batchWait, workers, requestTimeout, apiKey, corsOrigins, shutdownGrace);
    }

    public ServeOptions withLimits(long maxUploadBytes, long maxPixels, int maxTextChars, int maxTexts) {
        return new ServeOptions(host, port, maxUploadBytes, maxPixels, maxTextChars, maxTexts, queueCapacity, maxBatch,
                batchWait, workers, requestTimeout, apiKey, corsOrigins, shutdownGrace);
    }

    public ServeOptions withBatching(int maxBatch, Duration batchWait, int queueCapacity, int workers) {
        return new ServeOptions(host, port, maxUploadBytes, maxPixels, maxTextChars, maxTexts, queueCapacity, maxBatch,
                batchWait, workers, requestTimeout, apiKey, corsOrigins, shutdownGrace);
    }

    public ServeOptions withRequestTimeout(Duration requestTimeout) {
        return new ServeOptions(host, port, maxUploadBytes, maxPixels, maxTextChars, maxTexts, queueCapacity, maxBatch,
                batchWait, workers, requestTimeout, apiKey, corsOrigins, shutdownGrace);
    }

    public ServeOptions withApiKey(String apiKey) {
        return new ServeOptions(host, port, maxUploadBytes, maxPixels, maxTextChars, maxTexts, queueCapacity, maxBatch,
                batchWait, workers, requestTimeout, apiKey, corsOrigins, shutdownGrace);
    }

    public ServeOptions withCorsOrigins(List<String> corsOrigins) {
        return new ServeOptions(host, port, maxUploadBytes, maxPixels, maxTextChars, maxTexts, queueCapacity, maxBatch,
                batchWait, workers, requestTimeout, apiKey, corsOrigins, shutdownGrace);
    }

    public ServeOptions withShutdownGrace(Duration shutdownGrace) {
        return new ServeOptions(host, port, maxUploadBytes, maxPixels, maxTextChars, maxTexts, queueCapacity, maxBatch,
                batchWait, workers, requestTimeout, apiKey, corsOrigins, shutdownGrace);
    }

    @Override
    public String toString() {
        // The key stays out of logs.
        return "ServeOptions[host=" + host + ", port=" + port + ", maxUploadBytes=" + maxUploadBytes + ", maxPixels="
                + maxPixels + ", maxTextChars=" + maxTextChars + ", maxTexts=" + maxTexts + ", queueCapacity="
                + queueCapacity + ", maxBatch=" + maxBatch + ", batchWait=" + batchWait + ", workers=" + workers
                + ", requestTimeout=" + requestTimeout + ", apiKey=" + (apiKey == null ? "none" : "set")
                + ", corsOrigins=" + corsOrigins + ", shutdownGrace=" + shutdownGrace + "]";
    }
}
