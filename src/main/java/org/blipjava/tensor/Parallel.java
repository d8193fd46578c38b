package org.blipjava.tensor;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * A fixed pool of worker threads that runs loops over index ranges.
 *
 * <p>With one thread everything runs inline on the caller. A loop started from one of this
 * pool's own workers also runs inline, so kernels may call each other without deadlocking.
 * Several threads may submit loops at once. Close it to stop the workers.
 */
public final class Parallel implements AutoCloseable {
    /** A loop body over the half-open index range {@code [start, end)}. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int start, int end);
    }

    private final int threads;
    private final ExecutorService pool;
    // Marks this pool's workers so nested loops run inline instead of waiting on themselves.
    private final ThreadLocal<Boolean> insideWorker = ThreadLocal.withInitial(() -> Boolean.FALSE);

    /**
     * @param threads number of threads (at least 1); 1 runs everything on the calling thread
     */
    public Parallel(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        this.threads = threads;
        if (threads == 1) {
            pool = null;
        } else {
            AtomicInteger n = new AtomicInteger();
            ThreadFactory factory = r -> {
                Thread t = new Thread(() -> {
                    insideWorker.set(Boolean.TRUE);
                    r.run();
                }, "blip-kernel-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
            };
            pool = Executors.newFixedThreadPool(threads, factory);
        }
    }

    /** A pool with one thread per available processor. */
    public static Parallel ofAvailableProcessors() {
        return new Parallel(Runtime.getRuntime().availableProcessors());
    }

    /** Number of threads. */
    public int threads() {
        return threads;
    }

    /** Runs {@code body.accept(i)} for every i in {@code [0, n)}, in parallel, and waits for all. */
    public void forRange(int n, IntConsumer body) {
        forRange(n, 1, (s, e) -> {
            for (int i = s; i < e; i++) {
                body.accept(i);
            }
        });
    }

    /**
     * Splits {@code [0, n)} into contiguous chunks of at least {@code grain} indices (the last may
     * be shorter), runs them in parallel and waits for all.
     */
    public void forRange(int n, int grain, RangeBody body) {
        if (n <= 0) {
            return;
        }
        int g = Math.max(1, grain);
        int chunks = Math.min(threads, (n + g - 1) / g);
        if (chunks <= 1 || pool == null || insideWorker.get()) {
            body.run(0, n);
            return;
        }
        @SuppressWarnings("unchecked")
        Future<?>[] futures = new Future<?>[chunks - 1];
        int per = n / chunks;
        int extra = n % chunks;
        int start = 0;
        int firstEnd = per + (extra > 0 ? 1 : 0);
        start = firstEnd;
        for (int c = 1; c < chunks; c++) {
            int len = per + (c < extra ? 1 : 0);
            int s = start;
            int e = start + len;
            futures[c - 1] = pool.submit(() -> body.run(s, e));
            start = e;
        }
        Throwable failure = null;
        try {
            body.run(0, firstEnd);
        } catch (RuntimeException | Error e) {
            failure = e;
        }
        awaitAll(futures, failure);
    }

    /**
     * Runs {@code [0, n)} in chunks of {@code grain} indices that idle threads take in turn, and
     * waits for all. Unlike {@link #forRange(int, int, RangeBody)} no thread is tied to a fixed
     * share, so a thread slowed down (by another process on a shared core) does not hold up the
     * rest. Which thread runs a chunk varies; the body must not depend on it.
     */
    public void forChunks(int n, int grain, RangeBody body) {
        if (n <= 0) {
            return;
        }
        int g = Math.max(1, grain);
        int chunks = (n + g - 1) / g;
        int workers = Math.min(threads, chunks);
        if (workers <= 1 || pool == null || insideWorker.get()) {
            body.run(0, n);
            return;
        }
        AtomicInteger next = new AtomicInteger();
        Runnable worker = () -> {
            int c;
            while ((c = next.getAndIncrement()) < chunks) {
                int start = c * g;
                body.run(start, Math.min(n, start + g));
            }
        };
        Future<?>[] futures = new Future<?>[workers - 1];
        for (int i = 0; i < futures.length; i++) {
            futures[i] = pool.submit(worker);
        }
        Throwable failure = null;
        try {
            worker.run();
        } catch (RuntimeException | Error e) {
            failure = e;
            next.set(chunks);
        }
        awaitAll(futures, failure);
    }

    /**
     * Waits for every submitted part, then rethrows the first failure: {@code failure} (the
     * caller's own part) if set, else the first part's.
     */
    private static void awaitAll(Future<?>[] futures, Throwable failure) {
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (ExecutionException e) {
                if (failure == null) {
                    failure = e.getCause();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                if (failure == null) {
                    failure = e;
                }
            }
        }
        if (failure instanceof RuntimeException re) {
            throw re;
        }
        if (failure instanceof Error err) {
            throw err;
        }
        if (failure != null) {
            throw new IllegalStateException("parallel loop failed", failure);
        }
    }

    /** Stops the workers; loops must not be started afterwards. */
    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }
}
