package org.blipjava.serve;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * Dynamic batching: requests submitted with equal {@link Key}s within a short window are handed
 * to one call of their batch function, so concurrent captions of one model and one set of
 * settings share one vision forward pass and one batched decode.
 *
 * <p>A worker takes the oldest waiting request, waits until {@code maxBatch} requests with its
 * key are waiting or until that request has waited {@code maxWait}, then runs all of them (at
 * most {@code maxBatch}) in one call. The queue is bounded: {@link #submit} refuses with a 503
 * {@link ApiException} instead of letting it grow. When a batch call fails and it held more than
 * one request, each request is retried alone, so one bad request never fails the others.
 *
 * <p>Thread-safe. {@link #close()} lets the workers finish every request already queued, then
 * stops them.
 */
public final class Batcher implements AutoCloseable {
    /**
     * What requests must share to be batched together.
     *
     * @param model    the served model's name
     * @param task     the task (caption, vqa, ...), also the batch-size metric's label
     * @param settings everything else that must be equal (prompt, generation settings, texts); null for none
     * @param alone    never batched with another request (sampling, whose random stream a batch would share)
     */
    public record Key(String model, String task, Object settings, boolean alone) {
        public Key {
            Objects.requireNonNull(model, "model");
            Objects.requireNonNull(task, "task");
        }
    }

    /** One waiting request. */
    private static final class Job {
        final Key key;
        final Object input;
        final Function<List<Object>, List<Object>> function;
        final CompletableFuture<Object> result = new CompletableFuture<>();
        final long enqueuedNanos = System.nanoTime();

        Job(Key key, Object input, Function<List<Object>, List<Object>> function) {
            this.key = key;
            this.input = input;
            this.function = function;
        }

        boolean batchesWith(Job other) {
            return !key.alone() && !other.key.alone() && key.equals(other.key);
        }
    }

    /** A submitted request: its result, and the way to give it up. */
    public final class Ticket<O> {
        private final Job job;

        private Ticket(Job job) {
            this.job = job;
        }

        /** Completes with the request's output, or with the batch function's exception. */
        @SuppressWarnings("unchecked")
        public CompletableFuture<O> result() {
            return (CompletableFuture<O>) (CompletableFuture<?>) job.result;
        }

        /** Gives the request up (timed out): removed from the queue if it is still waiting. */
        public void abandon() {
            job.result.cancel(false);
            lock.lock();
            try {
                queue.remove(job);
            } finally {
                lock.unlock();
            }
        }
    }

    private final int maxBatch;
    private final long maxWaitNanos;
    private final int capacity;
    private final Metrics metrics;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<Job> queue = new ArrayDeque<>();
    private final List<Thread> workers = new ArrayList<>();
    private boolean closed;

    /**
     * @param maxBatch most requests per call
     * @param maxWait  how long the oldest request may wait for others to join its batch
     * @param capacity most requests waiting at once; more are refused with 503
     * @param workers  batches run at the same time (each model call uses all its compute threads)
     * @param metrics  told the size of each batch; null for none
     */
    public Batcher(int maxBatch, Duration maxWait, int capacity, int workers, Metrics metrics) {
        if (maxBatch < 1 || capacity < 1 || workers < 1 || maxWait.isNegative()) {
            throw new IllegalArgumentException("batcher needs maxBatch, capacity and workers >= 1 and maxWait >= 0, got "
                    + maxBatch + ", " + capacity + ", " + workers + ", " + maxWait);
        }
        this.maxBatch = maxBatch;
        this.maxWaitNanos = maxWait.toNanos();
        this.capacity = capacity;
        this.metrics = metrics;
        for (int i = 0; i < workers; i++) {
            Thread t = Thread.ofPlatform().name("blip-serve-batch-" + i).daemon(true).unstarted(this::work);
            this.workers.add(t);
            t.start();
        }
    }

    /**
     * Queues one request.
     *
     * @param function runs a batch: one output per input, in order; every request with an equal
     *                 key must pass an equivalent function
     * @throws ApiException 503 with {@code Retry-After} when the queue is full or the batcher is closing
     */
    @SuppressWarnings("unchecked")
    public <I, O> Ticket<O> submit(Key key, I input, Function<List<I>, List<O>> function) {
        Job job = new Job(key, input, (Function<List<Object>, List<Object>>) (Function<?, ?>) function);
        lock.lock();
        try {
            if (closed) {
                if (metrics != null) {
                    metrics.rejected("stopping");
                }
                throw new ApiException(503, "shutting_down", "the server is shutting down", 5);
            }
            if (queue.size() >= capacity) {
                if (metrics != null) {
                    metrics.rejected("queue_full");
                }
                throw new ApiException(503, "overloaded", "the server is busy: " + queue.size()
                        + " requests are waiting (limit " + capacity + "); retry shortly", 1);
            }
            queue.addLast(job);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        return new Ticket<>(job);
    }

    /** Requests waiting for a batch. */
    public int depth() {
        lock.lock();
        try {
            return queue.size();
        } finally {
            lock.unlock();
        }
    }

    private void work() {
        while (true) {
            List<Job> batch;
            try {
                batch = nextBatch();
            } catch (InterruptedException e) {
                return;
            }
            if (batch == null) {
                return;
            }
            run(batch);
        }
    }

    /** Waits for the next batch; null once closed and drained. */
    private List<Job> nextBatch() throws InterruptedException {
        lock.lock();
        try {
            while (true) {
                while (queue.isEmpty()) {
                    if (closed) {
                        return null;
                    }
                    changed.await();
                }
                Job head = queue.peekFirst();
                long wait = head.enqueuedNanos + maxWaitNanos - System.nanoTime();
                // Once closing, nothing new arrives: waiting would only delay the drain.
                if (!closed && wait > 0 && sameKey(head) < maxBatch && !head.key.alone()) {
                    changed.awaitNanos(wait);
                    continue; // the head may have been taken or abandoned meanwhile
                }
                List<Job> batch = new ArrayList<>();
                for (Iterator<Job> it = queue.iterator(); it.hasNext() && batch.size() < maxBatch; ) {
                    Job j = it.next();
                    if (j == head || j.batchesWith(head)) {
                        it.remove();
                        if (!j.result.isDone()) {
                            batch.add(j);
                        }
                    }
                    if (head.key.alone()) {
                        break;
                    }
                }
                if (!batch.isEmpty()) {
                    return batch;
                }
            }
        } finally {
            lock.unlock();
        }
    }

    private int sameKey(Job head) {
        int n = 0;
        for (Job j : queue) {
            if (j == head || j.batchesWith(head)) {
                n++;
            }
        }
        return n;
    }

    private void run(List<Job> batch) {
        Job first = batch.get(0);
        List<Object> inputs = batch.stream().map(j -> j.input).toList();
        try {
            List<Object> out = first.function.apply(inputs);
            if (out.size() != batch.size()) {
                throw new IllegalStateException("a batch of " + batch.size() + " gave " + out.size() + " results");
            }
            if (metrics != null) {
                metrics.batch(first.key.model(), first.key.task(), batch.size());
            }
            for (int i = 0; i < batch.size(); i++) {
                batch.get(i).result.complete(out.get(i));
            }
        } catch (RuntimeException | Error e) {
            if (batch.size() == 1) {
                if (metrics != null) {
                    metrics.batch(first.key.model(), first.key.task(), 1);
                }
                first.result.completeExceptionally(e);
                return;
            }
            // Which request caused it is unknown: each alone fails or succeeds on its own.
            for (Job j : batch) {
                run(List.of(j));
            }
        }
    }

    /** Lets the workers finish the queued requests (waiting at most {@code timeout}), then stops them. */
    public void close(Duration timeout) {
        lock.lock();
        try {
            closed = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Thread t : workers) {
            try {
                long left = deadline - System.nanoTime();
                if (left > 0) {
                    t.join(Duration.ofNanos(left));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            if (t.isAlive()) {
                t.interrupt();
            }
        }
        // Whatever a stuck worker left behind is answered rather than lost.
        lock.lock();
        try {
            for (Job j : queue) {
                j.result.completeExceptionally(new ApiException(503, "shutting_down", "the server stopped before this request ran", 5));
            }
            queue.clear();
        } finally {
            lock.unlock();
        }
    }

    /** {@link #close(Duration)} with a minute for the queue to drain. */
    @Override
    public void close() {
        close(Duration.ofMinutes(1));
    }

}
