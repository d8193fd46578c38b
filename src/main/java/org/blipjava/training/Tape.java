package org.blipjava.training;

import java.util.ArrayList;
import java.util.List;
import org.blipjava.tensor.Parallel;

/**
 * Records the backward step of every op of one forward pass, so that {@link #backward} can run
 * them in reverse. One tape per training step; not thread-safe (the ops themselves use the
 * {@link Parallel} pool internally).
 */
public final class Tape {
    private final Parallel parallel;
    private final List<Runnable> steps = new ArrayList<>();
    private boolean done;

    /** @param parallel the threads ops run on; owned by the caller */
    public Tape(Parallel parallel) {
        this.parallel = parallel;
    }

    public Parallel parallel() {
        return parallel;
    }

    void record(Runnable backwardStep) {
        if (done) {
            throw new IllegalStateException("this tape was already run backward; use a new tape per step");
        }
        steps.add(backwardStep);
    }

    /**
     * Back-propagates from a scalar: its gradient is seeded with 1 and every recorded step runs
     * in reverse order, accumulating into the parameters' gradients. A tape runs backward once.
     */
    public void backward(Tensor scalar) {
        if (scalar.size() != 1) {
            throw new IllegalArgumentException("backward needs a scalar loss, got " + scalar.size() + " elements");
        }
        if (done) {
            throw new IllegalStateException("this tape was already run backward; use a new tape per step");
        }
        done = true;
        scalar.grad()[0] += 1f;
        for (int i = steps.size() - 1; i >= 0; i--) {
            steps.get(i).run();
        }
        steps.clear();
    }
}
