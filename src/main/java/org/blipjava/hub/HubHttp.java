package org.blipjava.hub;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The Hub's HTTP protocol: metadata by HEAD on {@code /resolve/} (relative redirects followed,
 * absolute ones, i.e. CDN links, reported), and resumable GETs. The token is only ever sent to the
 * endpoint's own host and port.
 */
final class HubHttp implements AutoCloseable {
    static final String USER_AGENT = "blip-java/0.1; java/" + Runtime.version().feature();
    private static final int MAX_REDIRECTS = 10;
    private static final long POLL_MILLIS = 200;

    private final HttpClient client;
    private final String token;
    private final String endpointAuthority;
    private final Duration metadataTimeout;
    private final Duration downloadTimeout;
    private final Duration stallTimeout;

    /** What a HEAD found: {@link Metadata} or an {@link Answer}. */
    sealed interface HeadResult permits Metadata, Answer {}

    /** The Hub answered but not with the file: its status and headers. */
    record Answer(int status, HttpHeaders headers, URI url) implements HeadResult {
        String header(String name) {
            return headers.firstValue(name).orElse(null);
        }

        String errorCode() {
            return header("X-Error-Code");
        }
    }

    /**
     * What a HEAD on {@code /resolve/} tells about a file.
     *
     * @param commit the commit the revision resolved to ({@code X-Repo-Commit})
     * @param etag the blob name: sha256 for LFS files, git sha1 otherwise
     * @param size the expected byte count, or -1 when unknown
     * @param location where to GET it (a CDN URL for LFS files)
     */
    record Metadata(String commit, String etag, long size, URI location) implements HeadResult {}

    /** The network failed (no connection, timeout, lost connection, 5xx); the cache may still help. */
    static final class NetworkException extends Exception {
        NetworkException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    HubHttp(URI endpoint, String token, Duration connectTimeout, Duration metadataTimeout, Duration downloadTimeout,
            Duration stallTimeout) {
        this.stallTimeout = Objects.requireNonNull(stallTimeout);
        this.token = token;
        this.endpointAuthority = authority(endpoint);
        this.metadataTimeout = Objects.requireNonNull(metadataTimeout);
        this.downloadTimeout = Objects.requireNonNull(downloadTimeout);
        this.client = HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NEVER) // redirects decide where the token may go
                .connectTimeout(connectTimeout)
                .version(HttpClient.Version.HTTP_1_1)
                .build();
    }

    /**
     * HEADs a resolve URL. Returns the metadata when the file exists; otherwise the non-success
     * answer (4xx) for the caller to explain.
     */
    HeadResult head(URI url) throws NetworkException {
        URI current = url;
        for (int hop = 0; ; hop++) {
            HttpRequest request = request(current)
                    .method("HEAD", HttpRequest.BodyPublishers.noBody())
                    .timeout(metadataTimeout)
                    // The size must be the file's, not that of a compressed transfer.
                    .header("Accept-Encoding", "identity")
                    .build();
            HttpResponse<Void> response = send(request, HttpResponse.BodyHandlers.discarding());
            int status = response.statusCode();
            if (status >= 300 && status < 400) {
                URI target = location(response, current);
                if (!isRelative(response)) {
                    return metadata(response, target);
                }
                // A renamed repository: same host, keep asking there.
                if (hop >= MAX_REDIRECTS) {
                    throw new HubException("too many redirects from " + url + "; check HF_ENDPOINT");
                }
                current = target;
                continue;
            }
            if (status >= 200 && status < 300) {
                return metadata(response, current);
            }
            if (status >= 500 || status == 429) {
                throw new NetworkException("HTTP " + status + " from " + current, null);
            }
            return new Answer(status, response.headers(), current);
        }
    }

    /**
     * Appends the rest of the file at {@code location} to {@code partial}, resuming with a Range
     * request when it already holds bytes. Returns normally when the server sent the whole body.
     * A lost or stalled connection leaves the bytes received so far in {@code partial}.
     */
    void download(URI location, Path partial, long expectedSize, String file, DownloadListener listener)
            throws NetworkException {
        long offset = Files.exists(partial) ? size(partial) : 0;
        if (expectedSize >= 0 && offset > expectedSize) {
            delete(partial);
            offset = 0;
        }
        if (expectedSize >= 0 && offset == expectedSize) {
            return;
        }
        URI current = location;
        for (int hop = 0; ; hop++) {
            HttpRequest.Builder b = request(current).GET().timeout(downloadTimeout)
                    .header("Accept-Encoding", "identity");
            if (offset > 0) {
                b.header("Range", "bytes=" + offset + "-");
            }
            long resumeAt = offset;
            AtomicReference<FileSink> sink = new AtomicReference<>();
            HttpResponse.BodyHandler<Void> handler = info -> {
                int s = info.statusCode();
                // A 200 means the server ignored the Range: the file starts over.
                if (s == 200 || (s == 206 && contentRangeStart(info.headers()) == resumeAt)) {
                    FileSink fs = new FileSink(partial, s == 206 && resumeAt > 0, expectedSize);
                    sink.set(fs);
                    return fs;
                }
                return HttpResponse.BodySubscribers.replacing(null);
            };
            HttpResponse<Void> response = receive(client.sendAsync(b.build(), handler), sink, partial, expectedSize,
                    file, current, listener);
            int status = response.statusCode();
            if (sink.get() != null) {
                if (expectedSize >= 0 && sink.get().position() < expectedSize) {
                    // The server ended the body early without an error; resume on the next attempt.
                    throw new NetworkException("connection closed after " + sink.get().position() + " of "
                            + expectedSize + " bytes of " + file, null);
                }
                return;
            }
            if (status >= 300 && status < 400) {
                if (hop >= MAX_REDIRECTS) {
                    throw new HubException("too many redirects downloading " + file + " from " + location);
                }
                current = location(response, current);
                continue;
            }
            if (status == 206 || (status == 416 && offset > 0)) {
                // The server cannot continue our partial file where it ends; start over next attempt.
                delete(partial);
                throw new NetworkException("server could not resume " + file + " at byte " + offset
                        + " (HTTP " + status + ")", null);
            }
            if (status >= 500 || status == 429) {
                throw new NetworkException("HTTP " + status + " downloading " + file + " from " + current, null);
            }
            throw new HubException("downloading " + file + " from " + current + " failed with HTTP "
                    + status + " after its metadata was found; try again later");
        }
    }

    /** Waits for a download, reporting progress and aborting it when no byte comes for too long. */
    private HttpResponse<Void> receive(CompletableFuture<HttpResponse<Void>> future, AtomicReference<FileSink> sinkRef,
            Path partial, long expectedSize, String file, URI url, DownloadListener listener) throws NetworkException {
        boolean started = false;
        try {
            while (true) {
                try {
                    return future.get(POLL_MILLIS, TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    FileSink sink = sinkRef.get();
                    if (sink == null) {
                        continue; // waiting for headers: the request timeout covers this
                    }
                    if (!started) {
                        listener.start(file, expectedSize);
                        started = true;
                    }
                    listener.progress(sink.position());
                    if (System.nanoTime() - sink.lastActivityNanos() > stallTimeout.toNanos()) {
                        IOException stalled = new HttpTimeoutException("no data for " + stallTimeout.toSeconds() + " s");
                        sink.abort(stalled);
                        future.cancel(true);
                        throw new NetworkException("no data received for " + stallTimeout.toSeconds() + " s after "
                                + sink.position() + " bytes of " + file + " from " + url, stalled);
                    }
                } catch (ExecutionException e) {
                    Throwable cause = e.getCause();
                    long got = sinkRef.get() == null ? 0 : sinkRef.get().position();
                    if (cause instanceof FileSink.WriteFailure w) {
                        throw new HubException("cannot write " + partial + " (" + w.getMessage()
                                + "); check free space and permissions of the Hub cache, or set HF_HUB_CACHE", w);
                    }
                    if (cause instanceof FileSink.Oversize o) {
                        delete(partial);
                        throw new HubException("the download of " + file + " from " + url + " sent " + o.getMessage()
                                + " by the Hub; it was deleted, try again");
                    }
                    if (cause instanceof IOException io) {
                        throw new NetworkException((got > 0 ? "connection lost after " + got + " bytes of " + file
                                : describe(io) + " (GET " + url + ")"), io);
                    }
                    throw new HubException("downloading " + file + " from " + url + " failed: " + cause, cause);
                }
            }
        } catch (InterruptedException e) {
            future.cancel(true);
            FileSink sink = sinkRef.get();
            if (sink != null) {
                sink.abort(new IOException("interrupted"));
            }
            Thread.currentThread().interrupt();
            throw new HubException("interrupted while downloading " + file);
        } finally {
            FileSink sink = sinkRef.get();
            if (sink != null) {
                if (!started) {
                    listener.start(file, expectedSize);
                }
                listener.progress(sink.position());
                listener.done();
            }
        }
    }

    @Override
    public void close() {
        client.close();
    }

    private HttpRequest.Builder request(URI url) {
        HttpRequest.Builder b = HttpRequest.newBuilder(url).header("User-Agent", USER_AGENT);
        // The token belongs to the endpoint only: never to a CDN or any other host a redirect names.
        if (token != null && endpointAuthority.equals(authority(url))) {
            b.header("Authorization", "Bearer " + token);
        }
        return b;
    }

    private <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler)
            throws NetworkException {
        try {
            return client.send(request, handler);
        } catch (IOException e) {
            throw new NetworkException(describe(e) + " (" + request.method() + " " + request.uri() + ")", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HubException("interrupted while contacting " + request.uri());
        }
    }

    private static String describe(IOException e) {
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null || m.isBlank() ? "" : ": " + m);
    }

    private static Metadata metadata(HttpResponse<?> response, URI location) {
        HttpHeaders h = response.headers();
        String commit = h.firstValue("X-Repo-Commit").orElse(null);
        String etag = h.firstValue("X-Linked-Etag").or(() -> h.firstValue("ETag")).map(HubHttp::normalizeEtag)
                .orElse(null);
        long size = h.firstValue("X-Linked-Size").or(() -> h.firstValue("Content-Length"))
                .map(HubHttp::parseSize).orElse(-1L);
        if (commit == null || commit.isBlank()) {
            throw new HubException(response.uri() + " did not send X-Repo-Commit; HF_ENDPOINT must be a "
                    + "Hugging Face Hub (or a mirror that forwards its headers)");
        }
        if (etag == null || etag.isEmpty()) {
            throw new HubException(response.uri() + " did not send an ETag; HF_ENDPOINT must be a "
                    + "Hugging Face Hub (or a mirror that forwards its headers)");
        }
        commit = commit.strip();
        checkName(commit, "X-Repo-Commit", response.uri());
        checkName(etag, "ETag", response.uri());
        return new Metadata(commit, etag, size, location);
    }

    /** {@code W/"abc"} and {@code "abc"} are both the blob name {@code abc}. */
    static String normalizeEtag(String raw) {
        String e = raw.strip();
        if (e.startsWith("W/")) {
            e = e.substring(2);
        }
        if (e.length() >= 2 && e.startsWith("\"") && e.endsWith("\"")) {
            e = e.substring(1, e.length() - 1);
        }
        return e;
    }

    // Commit and etag become cache file names: refuse anything that could escape the folder.
    private static void checkName(String value, String header, URI from) {
        if (value.contains("/") || value.contains("\\") || value.equals(".") || value.equals("..")
                || value.chars().anyMatch(c -> c < 0x21 || c > 0x7e)) {
            throw new HubException(from + " sent an unusable " + header + " '" + value
                    + "'; check HF_ENDPOINT");
        }
    }

    private static long parseSize(String s) {
        try {
            long v = Long.parseLong(s.strip());
            return v >= 0 ? v : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static long contentRangeStart(HttpHeaders h) {
        // "bytes <start>-<end>/<total>"
        String v = h.firstValue("Content-Range").orElse("").strip().toLowerCase(Locale.ROOT);
        if (!v.startsWith("bytes ")) {
            return -1;
        }
        int dash = v.indexOf('-');
        try {
            return dash < 0 ? -1 : Long.parseLong(v.substring(6, dash).strip());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static boolean isRelative(HttpResponse<?> response) {
        String loc = response.headers().firstValue("Location").orElse("");
        try {
            return new URI(loc.strip()).getRawAuthority() == null;
        } catch (URISyntaxException e) {
            return false;
        }
    }

    private static URI location(HttpResponse<?> response, URI base) {
        String loc = response.headers().firstValue("Location").orElse(null);
        if (loc == null || loc.isBlank()) {
            throw new HubException(base + " answered HTTP " + response.statusCode()
                    + " without a Location header; check HF_ENDPOINT");
        }
        try {
            return base.resolve(new URI(loc.strip()));
        } catch (URISyntaxException e) {
            throw new HubException(base + " redirected to an invalid URL '" + loc + "'; check HF_ENDPOINT");
        }
    }

    static String authority(URI u) {
        String host = u.getHost() == null ? "" : u.getHost().toLowerCase(Locale.ROOT);
        int port = u.getPort();
        if (port < 0) {
            port = "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
        }
        return (u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT)) + "://" + host + ":" + port;
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return 0;
        }
    }

    private static void delete(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            throw new HubException("cannot delete " + p + " (" + e.getMessage() + "); delete it by hand", e);
        }
    }

}
