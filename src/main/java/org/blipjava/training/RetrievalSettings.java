package org.blipjava.training;

/**
 * BLIP's retrieval fine-tuning settings beyond the common ones.
 *
 * <p>The ITC temperature is learned by default, as BLIP's {@code blip_retrieval.py} does
 * ({@code self.temp = nn.Parameter(0.07 * torch.ones([]))}): the retrieval task owns it as a
 * scalar {@code temp} that the ITC loss divides the similarities by, AdamW updates it with the
 * model's settings (weight decay included, as BLIP's optimizer takes every parameter), and after
 * each optimizer step it is clamped to [{@value #MIN_TEMPERATURE}, {@value #MAX_TEMPERATURE}].
 * The Hugging Face {@code BlipForImageTextRetrieval} has no such weight, so it is not written to
 * the model's {@code model.safetensors}; it travels in the training checkpoints and beside the
 * final model ({@code itc_temperature.json}).
 *
 * @param temperature          the ITC softmax temperature, the initial value when learned (BLIP: 0.07)
 * @param learnableTemperature whether the temperature is trained (BLIP) or stays fixed
 * @param momentum             EMA factor of the momentum encoders (0.995)
 * @param alpha                weight of the momentum encoders' soft targets in the ITC targets (0.4)
 * @param queueSize            momentum features kept from earlier batches as extra ITC negatives (57600)
 */
public record RetrievalSettings(double temperature, boolean learnableTemperature, double momentum, double alpha,
                                int queueSize) {
    /** The lower end of BLIP's clamp of the learned temperature. */
    public static final double MIN_TEMPERATURE = 0.001;
    /** The upper end of BLIP's clamp of the learned temperature. */
    public static final double MAX_TEMPERATURE = 0.5;

    public RetrievalSettings {
        if (!(temperature > 0) || !(momentum >= 0 && momentum <= 1) || !(alpha >= 0 && alpha <= 1) || queueSize < 0) {
            throw new IllegalArgumentException("need temperature > 0, momentum and alpha in [0, 1], queue size >= 0; got "
                    + temperature + ", " + momentum + ", " + alpha + ", " + queueSize);
        }
        if (learnableTemperature && !(temperature >= MIN_TEMPERATURE && temperature <= MAX_TEMPERATURE)) {
            throw new IllegalArgumentException("a learned temperature starts within its clamp [" + MIN_TEMPERATURE
                    + ", " + MAX_TEMPERATURE + "], got " + temperature + "; choose another or fix it");
        }
    }

    /** BLIP's values: a learned temperature starting at 0.07. */
    public static RetrievalSettings blip() {
        return new RetrievalSettings(0.07, true, 0.995, 0.4, 57600);
    }

    /** These settings with the temperature starting at (or fixed to) {@code t}, learned or not. */
    public RetrievalSettings withTemperature(double t, boolean learnable) {
        return new RetrievalSettings(t, learnable, momentum, alpha, queueSize);
    }
}
