package org.blipjava.training;

/**
 * Learning rate by optimizer step: linear warm-up from 0 to {@code peak} over
 * {@code warmupSteps}, then cosine decay from {@code peak} to {@code min} at {@code totalSteps},
 * held at {@code min} afterwards.
 *
 * @param peak        the learning rate at the end of warm-up
 * @param min         the final learning rate
 * @param warmupSteps steps of linear warm-up (0 for none)
 * @param totalSteps  the step at which the decay reaches {@code min}
 */
public record WarmupCosineSchedule(double peak, double min, int warmupSteps, int totalSteps) {
    public WarmupCosineSchedule {
        if (!(peak >= 0) || !(min >= 0) || min > peak) {
            throw new IllegalArgumentException("need 0 <= min <= peak, got min " + min + ", peak " + peak);
        }
        if (warmupSteps < 0 || totalSteps < warmupSteps) {
            throw new IllegalArgumentException("need 0 <= warmupSteps <= totalSteps, got " + warmupSteps + ", "
                    + totalSteps);
        }
    }

    /** The learning rate of step {@code step} (0-based). */
    public double lr(long step) {
        if (step < 0) {
            throw new IllegalArgumentException("step must be >= 0, got " + step);
        }
        if (step < warmupSteps) {
            return peak * step / warmupSteps;
        }
        if (step >= totalSteps) {
            return min;
        }
        double progress = (double) (step - warmupSteps) / (totalSteps - warmupSteps);
        return min + (peak - min) * 0.5 * (1 + Math.cos(Math.PI * progress));
    }
}
