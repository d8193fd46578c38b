package org.blipjava.hub;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;

/**
 * Writes a response body straight into a file and records when bytes last arrived, so that the
 * downloading thread can report progress and give up on a stalled connection (the HTTP client has
 * no read timeout of its own).
 */
final class FileSink implements HttpResponse.BodySubscriber<Void> {
    /** The local file could not be written (disk full, permissions). */
    static final class WriteFailure extends IOException {
        WriteFailure(IOException cause) {
            super(cause.getMessage(), cause);
        }
    }

    /** The server sent more bytes than the Hub announced. */
    static final class Oversize extends IOException {
        Oversize(long limit) {
            super("more than the " + limit + " bytes announced");
        }
    }

    private final CompletableFuture<Void> body = new CompletableFuture<>();
    private final FileChannel channel;
    private final IOException openFailure;
    private final long limit;
    private volatile long position;
    private volatile long lastActivityNanos = System.nanoTime();
    private volatile Flow.Subscription subscription;

    /**
     * @param file the partial file
     * @param append keep its bytes and add to them; otherwise start it over
     * @param limit the size the whole file must not exceed, or -1
     */
    FileSink(Path file, boolean append, long limit) {
        FileChannel ch = null;
        IOException failure = null;
        long start = 0;
        try {
            ch = append
                    ? FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)
                    : FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                            StandardOpenOption.TRUNCATE_EXISTING);
            start = ch.size();
        } catch (IOException e) {
            failure = e;
        }
        this.channel = ch;
        this.openFailure = failure;
        this.position = start;
        this.limit = limit;
    }

    /** Bytes of the file on disk so far. */
    long position() {
        return position;
    }

    /** {@link System#nanoTime()} when bytes last arrived (or the response began). */
    long lastActivityNanos() {
        return lastActivityNanos;
    }

    /** Stops receiving; the body completes with {@code reason}. */
    void abort(IOException reason) {
        Flow.Subscription s = subscription;
        if (s != null) {
            s.cancel();
        }
        finish(reason);
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        subscription = s;
        if (openFailure != null) {
            s.cancel();
            finish(new WriteFailure(openFailure));
            return;
        }
        s.request(1);
    }

    @Override
    public void onNext(List<ByteBuffer> buffers) {
        try {
            long p = position;
            for (ByteBuffer b : buffers) {
                while (b.hasRemaining()) {
                    p += channel.write(b);
                }
            }
            position = p;
            lastActivityNanos = System.nanoTime();
            if (limit >= 0 && p > limit) {
                abort(new Oversize(limit));
                return;
            }
        } catch (IOException e) {
            abort(new WriteFailure(e));
            return;
        }
        subscription.request(1);
    }

    @Override
    public void onError(Throwable t) {
        finish(t);
    }

    @Override
    public void onComplete() {
        finish(null);
    }

    @Override
    public CompletionStage<Void> getBody() {
        return body;
    }

    private synchronized void finish(Throwable failure) {
        if (body.isDone()) {
            return;
        }
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                failure = failure != null ? failure : new WriteFailure(e);
            }
        }
        if (failure == null) {
            body.complete(null);
        } else {
            body.completeExceptionally(failure);
        }
    }
}
