package org.blipjava.training;

/**
 * Settings of a captioning fine-tuning run. {@link #defaults()} follows BLIP's COCO captioning
 * recipe where it applies (AdamW with weight decay 0.05, label smoothing 0.1, random resized
 * crops with scale (0.5, 1) and flips followed by RandAugment(2, 5), captions of at most 40 tokens).
 *
 * @param epochs              passes over the training captions
 * @param batchSize           examples per forward/backward pass
 * @param gradAccum           passes whose gradients are summed (and averaged) per optimizer step
 * @param lr                  peak learning rate
 * @param minLr               learning rate at the end of the cosine decay
 * @param weightDecay         AdamW's decoupled weight decay (not applied to biases and norms)
 * @param warmupSteps         optimizer steps of linear warm-up
 * @param maxGradNorm         clip the global gradient norm to this; 0 for no clipping
 * @param seed                seeds data order and augmentation
 * @param labelSmoothing      label smoothing of the LM loss
 * @param prompt              text every caption is prefixed with during training and generation
 *                            (BLIP: "a picture of "), whose tokens are not trained on; null or
 *                            empty for none
 * @param maxTextLength       captions are truncated to this many tokens, [DEC] and [SEP] included
 * @param augment             whether to apply {@link ImageAugmentation} (and {@code randAugment}) to
 *                            training images
 * @param randAugment         applied after the crop and flip when {@code augment} is on; null for
 *                            crops and flips only
 * @param validateEvery       validate before training and every this many optimizer steps (0:
 *                            only at the end)
 * @param checkpointEvery     write a resumable checkpoint every this many steps (0: only at the end)
 * @param keepCheckpoints     how many of the newest checkpoints to keep (at least 1)
 * @param maxGenerationLength the longest generated caption in validation, [DEC] and prompt included
 * @param validationImages    caption at most this many validation images (0: all)
 * @param stopAfterSteps      stop (as if interrupted) after this many steps of the schedule; 0 to
 *                            run it to the end
 */
public record TrainingSettings(int epochs, int batchSize, int gradAccum, double lr, double minLr,
                               double weightDecay, int warmupSteps, double maxGradNorm, long seed,
                               double labelSmoothing, String prompt, int maxTextLength, boolean augment,
                               RandAugment randAugment,
                               int validateEvery, int checkpointEvery, int keepCheckpoints,
                               int maxGenerationLength, int validationImages, int stopAfterSteps) {
    public TrainingSettings {
        positive("epochs", epochs);
        positive("batch size", batchSize);
        positive("gradient accumulation", gradAccum);
        positive("checkpoints kept", keepCheckpoints);
        if (!(lr > 0) || !(minLr >= 0) || minLr > lr || Double.isInfinite(lr)) {
            throw new IllegalArgumentException("need 0 <= min lr <= lr and lr > 0, got lr " + lr + ", min lr " + minLr);
        }
        if (!(weightDecay >= 0) || !(maxGradNorm >= 0)) {
            throw new IllegalArgumentException("weight decay and max grad norm must be >= 0, got " + weightDecay
                    + ", " + maxGradNorm);
        }
        if (!(labelSmoothing >= 0 && labelSmoothing < 1)) {
            throw new IllegalArgumentException("label smoothing must be in [0, 1), got " + labelSmoothing);
        }
        if (warmupSteps < 0 || validateEvery < 0 || checkpointEvery < 0 || validationImages < 0 || stopAfterSteps < 0) {
            throw new IllegalArgumentException("warm-up steps, validation and checkpoint intervals, validation images "
                    + "and stop-after steps must be >= 0");
        }
        if (maxTextLength < 3) {
            throw new IllegalArgumentException("max text length must leave room for [DEC], a token and [SEP], got "
                    + maxTextLength);
        }
        if (maxGenerationLength < 2) {
            throw new IllegalArgumentException("max generation length must be at least 2, got " + maxGenerationLength);
        }
        prompt = prompt == null || prompt.isBlank() ? null : prompt;
    }

    private static void positive(String what, int v) {
        if (v < 1) {
            throw new IllegalArgumentException(what + " must be at least 1, got " + v);
        }
    }

    /** BLIP's captioning fine-tuning settings (lr 1e-5, 5 epochs, batch 8) with no prompt. */
    public static TrainingSettings defaults() {
        return new TrainingSettings(5, 8, 1, 1e-5, 0, 0.05, 0, 1.0, 42, 0.1, null, 40, true, RandAugment.blip(), 0, 0, 2, 20, 0, 0);
    }

    public TrainingSettings withEpochs(int v) {
        return new TrainingSettings(v, batchSize, gradAccum, lr, minLr, weightDecay, warmupSteps, maxGradNorm, seed,
                labelSmoothing, prompt, maxTextLength, augment, randAugment, validateEvery, checkpointEvery, keepCheckpoints,
                maxGenerationLength, validationImages, stopAfterSteps);
    }

    public TrainingSettings withBatch(int batch, int accum) {
        return new TrainingSettings(epochs, batch, accum, lr, minLr, weightDecay, warmupSteps, maxGradNorm, seed,
                labelSmoothing, prompt, maxTextLength, augment, randAugment, validateEvery, checkpointEvery, keepCheckpoints,
                maxGenerationLength, validationImages, stopAfterSteps);
    }

    public TrainingSettings withOptimizer(double peakLr, double finalLr, double decay, int warmup, double clip) {
        return new TrainingSettings(epochs, batchSize, gradAccum, peakLr, finalLr, decay, warmup, clip, seed,
                labelSmoothing, prompt, maxTextLength, augment, randAugment, validateEvery, checkpointEvery, keepCheckpoints,
                maxGenerationLength, validationImages, stopAfterSteps);
    }

    public TrainingSettings withSeed(long v) {
        return new TrainingSettings(epochs, batchSize, gradAccum, lr, minLr, weightDecay, warmupSteps, maxGradNorm, v,
                labelSmoothing, prompt, maxTextLength, augment, randAugment, validateEvery, checkpointEvery, keepCheckpoints,
                maxGenerationLength, validationImages, stopAfterSteps);
    }

    public TrainingSettings withText(double smoothing, String textPrompt, int maxTokens) {
        return new TrainingSettings(epochs, batchSize, gradAccum, lr, minLr, weightDecay, warmupSteps, maxGradNorm,
                seed, smoothing, textPrompt, maxTokens, augment, randAugment, validateEvery, checkpointEvery, keepCheckpoints,
                maxGenerationLength, validationImages, stopAfterSteps);
    }

    public TrainingSettings withAugment(boolean v) {
        return new TrainingSettings(epochs, batchSize, gradAccum, lr, minLr, weightDecay, warmupSteps, maxGradNorm,
                seed, labelSmoothing, prompt, maxTextLength, v, randAugment, validateEvery, checkpointEvery, keepCheckpoints,
                maxGenerationLength, validationImages, stopAfterSteps);
    }

    /** These settings with {@code v} (null: none) applied after crops and flips when augmenting. */
    public TrainingSettings withRandAugment(RandAugment v) {
        return new TrainingSettings(epochs, batchSize, gradAccum, lr, minLr, weightDecay, warmupSteps, maxGradNorm,
                seed, labelSmoothing, prompt, maxTextLength, augment, v, validateEvery, checkpointEvery, keepCheckpoints,
                maxGenerationLength, validationImages, stopAfterSteps);
    }

    public TrainingSettings withIntervals(int validate, int checkpoint, int keep) {
        return new TrainingSettings(epochs, batchSize, gradAccum, lr, minLr, weightDecay, warmupSteps, maxGradNorm,
                seed, labelSmoothing, prompt, maxTextLength, augment, randAugment, validate, checkpoint, keep,
                maxGenerationLength, validationImages, stopAfterSteps);
    }

    public TrainingSettings withValidation(int generationLength, int images) {
        return new TrainingSettings(epochs, batchSize, gradAccum, lr, minLr, weightDecay, warmupSteps, maxGradNorm,
                seed, labelSmoothing, prompt, maxTextLength, augment, randAugment, validateEvery, checkpointEvery, keepCheckpoints,
                generationLength, images, stopAfterSteps);
    }

    public TrainingSettings withStopAfterSteps(int v) {
        return new TrainingSettings(epochs, batchSize, gradAccum, lr, minLr, weightDecay, warmupSteps, maxGradNorm,
                seed, labelSmoothing, prompt, maxTextLength, augment, randAugment, validateEvery, checkpointEvery, keepCheckpoints,
                maxGenerationLength, validationImages, v);
    }

    /** The longest tokenized text a batch may hold: {@link #maxTextLength}, capped by the model's positions. */
    int textLimit(org.blipjava.config.BlipConfig config) {
        return Math.min(maxTextLength, config.text().maxPositionEmbeddings());
    }

    /** How many of {@code available} held-out images (or questions) validation generates for. */
    int validationCount(int available) {
        return validationImages == 0 ? available : Math.min(validationImages, available);
    }
}
