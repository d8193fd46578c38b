package org.blipjava.generation;

/** Divides scores by a temperature before sampling (transformers' {@code TemperatureLogitsWarper}). */
public final class TemperatureLogitsWarper implements LogitsProcessor {
    private final float temperature;

    /** @param temperature strictly positive; below 1 sharpens the distribution, above 1 flattens it */
    public TemperatureLogitsWarper(double temperature) {
        if (!(temperature > 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a positive number, got " + temperature);
        }
        this.temperature = (float) temperature;
    }

    @Override
    public void process(int[][] inputIds, int length, float[] scores, int vocabSize) {
        int n = inputIds.length * vocabSize;
        for (int i = 0; i < n; i++) {
            scores[i] /= temperature;
        }
    }
}
