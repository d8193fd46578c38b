package org.blipjava.capfilt;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.DoubleConsumer;
import org.blipjava.config.BlipConfig;
import org.blipjava.image.BlipImageProcessor;
import org.blipjava.image.Images;
import org.blipjava.image.RgbImage;
import org.blipjava.tensor.Parallel;
import org.blipjava.tokenizer.Batch;
import org.blipjava.tokenizer.BertTokenizer;
import org.blipjava.tokenizer.Padding;
import org.blipjava.training.AdamW;
import org.blipjava.training.Checkpointing;
import org.blipjava.training.GradientClipping;
import org.blipjava.training.Parameters;
import org.blipjava.training.RetrievalObjective;
import org.blipjava.training.Tape;
import org.blipjava.training.WarmupCosineSchedule;

/**
 * A small ITC + ITM fine-tuning loop for the filter of the noise benchmark, on clean pairs, using
 * {@link RetrievalObjective}. It is benchmark-scale: the training images are decoded and
 * preprocessed once and held in memory. Batches never hold two pairs with the same caption,
 * because the objective takes the other pairs' texts as negatives.
 */
public final class FilterTraining {
    private FilterTraining() {}

    /**
     * @param steps optimizer steps
     * @param batchSize pairs per step (at least 2)
     * @param lr peak learning rate (linear warm-up over a tenth of the steps, then cosine to 0)
     * @param seed batch sampling seed
     * @param threads compute threads
     */
    public record Settings(int steps, int batchSize, double lr, long seed, int threads) {
        public Settings {
            if (steps < 1 || batchSize < 2 || !(lr > 0) || threads < 1) {
                throw new IllegalArgumentException("filter training needs steps >= 1, batch size >= 2, lr > 0 and "
                        + "threads >= 1, got " + steps + ", " + batchSize + ", " + lr + ", " + threads);
            }
        }
    }

    /** One clean training pair. */
    public record Pair(Path image, String caption) {
        public Pair {
            Objects.requireNonNull(image, "image");
            Objects.requireNonNull(caption, "caption");
        }
    }

    /**
     * Fine-tunes a {@code BlipForImageTextRetrieval} checkpoint and saves it.
     *
     * @param modelDir the model to start from
     * @param pairs clean training pairs with at least two distinct captions
     * @param outDir where the fine-tuned model is written (Hugging Face layout)
     * @param onLoss receives each step's total loss
     * @return {@code outDir}
     */
    public static Path train(Path modelDir, List<Pair> pairs, Settings s, Path outDir, DoubleConsumer onLoss)
            throws IOException {
        BlipConfig config = BlipConfig.read(modelDir.resolve("config.json"));
        BertTokenizer tokenizer = BertTokenizer.load(modelDir);
        BlipImageProcessor processor = BlipImageProcessor.fromPretrained(modelDir);
        if (pairs.stream().map(Pair::caption).distinct().count() < 2) {
            throw new IllegalArgumentException("filter training needs pairs with at least two distinct captions");
        }
        List<float[]> pixels = new ArrayList<>(pairs.size());
        for (Pair p : pairs) {
            RgbImage img = Images.read(p.image());
            pixels.add(processor.preprocess(img));
        }
        int h = processor.config().height();
        int w = processor.config().width();
        int perImage = 3 * h * w;
        Parameters params = Parameters.load(modelDir);
        AdamW optimizer = new AdamW(params, AdamW.Settings.withWeightDecay(0.05), FilterTraining::decays);
        RetrievalObjective objective = new RetrievalObjective(params, config);
        WarmupCosineSchedule schedule = new WarmupCosineSchedule(s.lr(), 0, Math.max(1, s.steps() / 10), s.steps());
        SplittableRandom rng = new SplittableRandom(s.seed());
        try (Parallel parallel = new Parallel(s.threads())) {
            for (int step = 0; step < s.steps(); step++) {
                List<Integer> batch = distinctBatch(pairs, s.batchSize(), rng);
                float[] px = new float[batch.size() * perImage];
                List<String> texts = new ArrayList<>();
                for (int i = 0; i < batch.size(); i++) {
                    System.arraycopy(pixels.get(batch.get(i)), 0, px, i * perImage, perImage);
                    texts.add(pairs.get(batch.get(i)).caption());
                }
                Batch t = tokenizer.encodeBatch(texts, null, Padding.LONGEST);
                params.zeroGrad();
                Tape tape = new Tape(parallel);
                RetrievalObjective.Losses losses = objective.loss(tape, px, batch.size(), t.inputIds(),
                        t.attentionMask(), 0.07);
                tape.backward(losses.total());
                GradientClipping.clipByGlobalNorm(params, 1.0);
                optimizer.step(schedule.lr(step));
                if (onLoss != null) {
                    onLoss.accept(losses.total().item());
                }
            }
        }
        Checkpointing.savePretrained(params, modelDir, outDir);
        return outDir;
    }

    /** Up to {@code size} random pairs, no two with the same caption. */
    private static List<Integer> distinctBatch(List<Pair> pairs, int size, SplittableRandom rng) {
        List<Integer> out = new ArrayList<>(size);
        Set<String> seen = new HashSet<>();
        int n = pairs.size();
        // Random probing: enough tries to fill the batch whenever enough distinct captions exist.
        for (int tries = 0; tries < 50 * size && out.size() < size; tries++) {
            int i = rng.nextInt(n);
            if (seen.add(pairs.get(i).caption())) {
                out.add(i);
            }
        }
        return out;
    }

    private static boolean decays(org.blipjava.training.Parameter p) {
        String n = p.name().toLowerCase(Locale.ROOT);
        return p.shape().length > 1 && !n.endsWith(".bias") && !n.contains("layernorm") && !n.contains("layer_norm");
    }
}
