package org.blipjava.training;

/**
 * The training run's random numbers (data order and augmentation): SplitMix64, whose whole state
 * is one {@code long}, so a checkpoint can save it and a resumed run continues the same stream.
 *
 * <p>Not thread-safe; owned by one training run.
 */
public final class TrainingRandom {
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;
    private long state;

    /** A stream starting from {@code seed}. */
    public TrainingRandom(long seed) {
        this.state = seed;
    }

    /** The state to save; {@link #restore} continues from it. */
    public long state() {
        return state;
    }

    /** Continues the stream from a saved {@link #state()}. */
    public void restore(long savedState) {
        this.state = savedState;
    }

    /** The next 64 random bits. */
    public long nextLong() {
        long z = (state += GOLDEN);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Uniform in [0, 1) with 53 random bits. */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** Uniform in [lo, hi). */
    public double uniform(double lo, double hi) {
        return lo + (hi - lo) * nextDouble();
    }

    /** Uniform in [0, bound), without modulo bias. */
    public int nextInt(int bound) {
        if (bound <= 0) {
            throw new IllegalArgumentException("bound must be positive, got " + bound);
        }
        long limit = Long.remainderUnsigned(-1L, bound);
        while (true) {
            long r = nextLong();
            // Reject the top sliver of values that would make some remainders more likely.
            if (Long.compareUnsigned(r, -1L - limit) < 0) {
                return (int) Long.remainderUnsigned(r, bound);
            }
        }
    }

    /** A random permutation of 0..n-1 (Fisher-Yates). */
    public int[] permutation(int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
