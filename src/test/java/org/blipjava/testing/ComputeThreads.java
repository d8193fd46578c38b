package org.blipjava.testing;

import org.blipjava.tensor.Parallel;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Compute threads shared by the tests of one class: register as a static
 * {@code @RegisterExtension} field; the pool starts before the class's tests and closes after them.
 */
public final class ComputeThreads implements BeforeAllCallback, AfterAllCallback {
    private final int threads;
    private volatile Parallel parallel;

    /** @param threads worker threads of the pool */
    public ComputeThreads(int threads) {
        this.threads = threads;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        parallel = new Parallel(threads);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        parallel.close();
        parallel = null;
    }

    /** The pool; only between the class's first and last test. */
    public Parallel get() {
        if (parallel == null) {
            throw new IllegalStateException("ComputeThreads used outside its test class; register it as a static @RegisterExtension field");
        }
        return parallel;
    }
}
