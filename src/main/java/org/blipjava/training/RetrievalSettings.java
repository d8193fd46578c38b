package org.blipjava.training;

/**
 * BLIP's retrieval fine-tuning settings beyond the common ones.
 *
 * @param temperature ITC softmax temperature (BLIP's learnable temp starts at 0.07; the Hugging
 *                    Face checkpoints have none, so it is fixed here)
 * @param momentum    EMA factor of the momentum encoders (0.995)
 * @param alpha       weight of the momentum encoders' soft targets in the ITC targets (0.4)
 * @param queueSize   momentum features kept from earlier batches as extra ITC negatives (57600)
 */
public record RetrievalSettings(double temperature, double momentum, double alpha, int queueSize) {
    public RetrievalSettings {
        if (!(temperature > 0) || !(momentum >= 0 && momentum <= 1) || !(alpha >= 0 && alpha <= 1) || queueSize < 0) {
            throw new IllegalArgumentException("need temperature > 0, momentum and alpha in [0, 1], queue size >= 0; got "
                    + temperature + ", " + momentum + ", " + alpha + ", " + queueSize);
        }
    }

    /** BLIP's values. */
    public static RetrievalSettings blip() {
        return new RetrievalSettings(0.07, 0.995, 0.4, 57600);
    }
}
