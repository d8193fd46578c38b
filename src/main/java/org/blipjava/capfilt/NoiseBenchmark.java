package org.blipjava.capfilt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.blipjava.tensor.Parallel;
import org.blipjava.training.CaptionData;
import org.blipjava.training.RetrievalSettings;
import org.blipjava.training.ShapesData;
import org.blipjava.training.Trainer;
import org.blipjava.training.TrainingResult;
import org.blipjava.training.TrainingSettings;

/**
 * Measures the filter where the truth is known: images of coloured shapes rendered with
 * {@link ShapesData} get their correct caption, except a chosen fraction that get the caption of
 * another kind of image (the injected noise). After CapFilt ran, the web captions it removed are
 * compared with the injected ones: precision (removed captions that were wrong), recall (wrong
 * captions that were removed), and the ROC AUC of the ITM score, which does not depend on the
 * threshold.
 */
public final class NoiseBenchmark {
    /** The ground truth written next to the dataset: {@code {"image", "caption", "noisy"}} per line. */
    public static final String TRUTH = "truth.jsonl";
    private static final ObjectMapper JSON = new ObjectMapper();

    private NoiseBenchmark() {}

    /**
     * What to generate.
     *
     * @param images number of images
     * @param imageSize their width and height in pixels
     * @param noise fraction of images whose caption is replaced by a wrong one, in [0, 1]
     * @param seed rendering and noise selection seed
     */
    public record Config(int images, int imageSize, double noise, long seed) {
        public Config {
            if (images < 2) {
                throw new IllegalArgumentException("the benchmark needs at least 2 images, got " + images);
            }
            if (!(noise >= 0 && noise <= 1)) {
                throw new IllegalArgumentException("noise must be in [0, 1], got " + noise);
            }
        }
    }

    /**
     * The filter's quality on the web captions.
     *
     * @param images images scored
     * @param noisy injected wrong captions
     * @param removed web captions the filter removed
     * @param removedNoisy removed captions that were wrong
     * @param precision {@code removedNoisy / removed} (NaN when nothing was removed)
     * @param recall {@code removedNoisy / noisy} (NaN without noise)
     * @param auc probability that a correct caption has a higher ITM than a wrong one (ties half)
     * @param meanItmClean mean ITM of the correct captions
     * @param meanItmNoisy mean ITM of the wrong captions
     */
    public record Result(int images, int noisy, int removed, int removedNoisy, double precision, double recall,
            double auc, double meanItmClean, double meanItmNoisy) {
        /** The result as a markdown table row block (header, separator, values). */
        public String toMarkdown() {
            return "| images | injected noise | removed | removed & noisy | precision | recall | ITM AUC "
                    + "| mean ITM clean | mean ITM noisy |\n|---|---|---|---|---|---|---|---|---|\n"
                    + String.format(Locale.ROOT, "| %d | %d | %d | %d | %.3f | %.3f | %.3f | %.3f | %.3f |%n",
                            images, noisy, removed, removedNoisy, precision, recall, auc, meanItmClean, meanItmNoisy);
        }
    }

    /**
     * Renders the images into {@code dir} and writes {@code captions.jsonl} (one web caption per
     * image, the wrong ones included) and {@value #TRUTH}.
     *
     * @return the dataset folder ({@code dir})
     */
    public static Path generate(Path dir, Config c) throws IOException {
        Path ann = ShapesData.write(dir, "shape", c.images(), c.imageSize(), c.seed());
        JsonNode list = JSON.readTree(ann.toFile());
        Files.delete(ann);
        List<String> images = new ArrayList<>();
        List<String> truth = new ArrayList<>();
        for (JsonNode e : list) {
            images.add(e.get("image").asText());
            truth.add(e.get("caption").get(0).asText());
        }
        int n = images.size();
        // Which images get a wrong caption: the first round(noise * n) of a seeded shuffle.
        SplittableRandom rng = new SplittableRandom(c.seed() ^ 0x6e6f697365L);
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        boolean[] noisy = new boolean[n];
        for (int k = 0; k < Math.round(c.noise() * n); k++) {
            noisy[order[k]] = true;
        }
        try (BufferedWriter captions = Files.newBufferedWriter(dir.resolve("captions.jsonl"), StandardCharsets.UTF_8);
                BufferedWriter truthOut = Files.newBufferedWriter(dir.resolve(TRUTH), StandardCharsets.UTF_8)) {
            for (int i = 0; i < n; i++) {
                String caption = truth.get(i);
                if (noisy[i]) {
                    // Another image's correct caption that differs from this one's.
                    String wrong;
                    do {
                        wrong = truth.get(rng.nextInt(n));
                    } while (wrong.equals(caption) && distinct(truth));
                    caption = wrong;
                }
                ObjectNode row = JSON.createObjectNode().put("image", images.get(i)).put("caption", caption);
                captions.write(JSON.writeValueAsString(row));
                captions.write('\n');
                truthOut.write(JSON.writeValueAsString(row.deepCopy().put("noisy", noisy[i])
                        .put("correct", truth.get(i))));
                truthOut.write('\n');
            }
        }
        return dir;
    }

    private static boolean distinct(List<String> captions) {
        return captions.stream().distinct().count() > 1;
    }

    /**
     * Scores a finished CapFilt output against the truth of a generated dataset.
     *
     * @param dataset the folder {@link #generate} wrote
     * @param capfiltOutput the output folder of a complete CapFilt run on it
     */
    public static Result evaluate(Path dataset, Path capfiltOutput) throws IOException {
        Map<String, Boolean> noisyByImage = new HashMap<>();
        for (String line : Files.readAllLines(dataset.resolve(TRUTH))) {
            JsonNode n = JSON.readTree(line);
            noisyByImage.put(dataset.resolve(n.get("image").asText()).toAbsolutePath().normalize().toString(),
                    n.get("noisy").asBoolean());
        }
        List<Double> clean = new ArrayList<>();
        List<Double> wrong = new ArrayList<>();
        int removed = 0;
        int removedNoisy = 0;
        try (BufferedReader in = Files.newBufferedReader(capfiltOutput.resolve(CapfiltRun.DECISIONS))) {
            String line;
            while ((line = in.readLine()) != null) {
                JsonNode d = JSON.readTree(line);
                if (!d.path("source").asText().equals(Decision.Source.WEB.label())) { // also skips skipped-input lines
                    continue;
                }
                String image = capfiltOutput.resolve(d.get("image").asText()).toAbsolutePath().normalize().toString();
                Boolean noisy = noisyByImage.get(image);
                if (noisy == null) {
                    throw new IllegalArgumentException(capfiltOutput.resolve(CapfiltRun.DECISIONS) + ": image " + image
                            + " is not in " + dataset.resolve(TRUTH) + "; was CapFilt run on this dataset?");
                }
                double itm = d.get("itm").asDouble();
                (noisy ? wrong : clean).add(itm);
                if (!d.get("kept").asBoolean()) {
                    removed++;
                    removedNoisy += noisy ? 1 : 0;
                }
            }
        }
        return new Result(clean.size() + wrong.size(), wrong.size(), removed, removedNoisy,
                removed == 0 ? Double.NaN : removedNoisy / (double) removed,
                wrong.isEmpty() ? Double.NaN : removedNoisy / (double) wrong.size(), auc(clean, wrong),
                mean(clean), mean(wrong));
    }

    /** Generates the dataset under {@code work/data}, runs CapFilt into {@code work/capfilt} and scores it. */
    public static Result run(CapFilter filter, Path work, Config c, CapfiltRun.Options options) throws IOException {
        Path data = generate(work.resolve("data"), c);
        new CapfiltRun(filter, data, work.resolve("capfilt"), options).run(new CapfiltRun.Listener() {});
        return evaluate(data, work.resolve("capfilt"));
    }

    /**
     * How the benchmark fine-tunes its filter: {@code blip train --task retrieval}'s settings
     * ({@link Trainer#trainRetrieval}), with the number of compute threads.
     *
     * @param training   the common training settings (epochs, batch, optimizer, seed, augmentation)
     * @param retrieval  ITC temperature, momentum encoders, soft-target weight and feature queue
     * @param threads    compute threads
     */
    public record FilterTuning(TrainingSettings training, RetrievalSettings retrieval, int threads) {
        public FilterTuning {
            java.util.Objects.requireNonNull(training, "training");
            java.util.Objects.requireNonNull(retrieval, "retrieval");
            if (threads < 1) {
                throw new IllegalArgumentException("filter tuning needs at least 1 thread, got " + threads);
            }
        }

        /**
         * The benchmark's defaults: 24 epochs of batch 12 at peak lr 1e-3 (60 warm-up steps, cosine
         * decay), weight decay 0.05, clipping at 1, no crops or flips; BLIP's temperature 0.07,
         * momentum 0.995, alpha 0.4 and queue of 57600 features.
         */
        public static FilterTuning benchmark(long seed, int threads) {
            // A tiny model from random weights needs a far larger step than BLIP's 1e-5 fine-tuning,
            // and many passes: with hard negatives ITM must tell "a red circle" from "a red square".
            // Random crops can cut the shape out of the picture, so the images are used as rendered.
            TrainingSettings t = TrainingSettings.defaults().withEpochs(24).withBatch(12, 1)
                    .withOptimizer(1e-3, 0, 0.05, 60, 1.0).withAugment(false).withSeed(seed)
                    .withIntervals(0, 0, 1);
            return new FilterTuning(t, RetrievalSettings.blip(), threads);
        }
    }

    /**
     * The whole benchmark: renders a clean training split of {@code trainImages} images (both
     * caption templates of each, as a BLIP annotation list), fine-tunes the filter on it with
     * {@link Trainer#trainRetrieval} (as {@code blip train --task retrieval} does), then generates
     * the noisy benchmark with another seed and runs CapFilt with the fine-tuned filter.
     *
     * <p>An interrupted fine-tuning resumes from its checkpoint in {@code work/filter} when run again
     * with the same settings.
     *
     * @param captioner the captioning model (used as is)
     * @param filterDir the retrieval model the filter is fine-tuned from
     * @param work folder for the training split ({@code train}), the fine-tuning run
     *     ({@code filter}, the model in {@code filter/final}), the benchmark data ({@code data}) and
     *     the CapFilt output ({@code capfilt})
     */
    public static Result trainAndRun(org.blipjava.tasks.Blip captioner, Path filterDir, Path work, Config c,
            int trainImages, FilterTuning tuning, CapfiltSettings settings, CapfiltRun.Options options)
            throws IOException {
        Path train = work.resolve("train");
        Path ann = ShapesData.write(train, "train", trainImages, c.imageSize(), c.seed() + 1);
        CaptionData rendered = CaptionData.read(ann, null, null);
        // Renderings of one kind of shape show the same thing: one image id per caption set, so that
        // the trainer never takes another red circle as a negative for "a red circle".
        Map<Path, String> kind = new HashMap<>();
        for (int i = 0; i < rendered.images().size(); i++) {
            kind.put(rendered.images().get(i), String.join("\n", rendered.references(i)));
        }
        CaptionData data = rendered.withImageIds(kind);
        TrainingResult result;
        try (Parallel parallel = new Parallel(tuning.threads())) {
            result = new Trainer(filterDir, tuning.training(), parallel).trainRetrieval(data, null, tuning.retrieval(),
                    work.resolve("filter"), true, null);
        }
        if (!result.completed()) {
            throw new IllegalStateException("filter fine-tuning in " + work.resolve("filter") + " stopped after "
                    + result.steps() + " of " + result.totalSteps() + " steps; run the benchmark again to resume");
        }
        try (org.blipjava.tasks.Blip filter = org.blipjava.tasks.Blip.load(result.finalModel(),
                org.blipjava.tasks.LoadOptions.defaults().withThreads(tuning.threads()))) {
            return run(new CapFilter(captioner, filter, settings), work, c, options);
        }
    }

    /**
     * Captioning models trained on the noisy web captions and on the bootstrapped ones, scored on
     * a clean held-out split.
     *
     * @param noisyExamples training captions of the noisy dataset
     * @param bootstrappedExamples training captions of the bootstrapped dataset
     * @param validationImages clean images scored
     * @param ciderNoisy validation CIDEr-D of the model trained on the noisy captions
     * @param ciderBootstrapped validation CIDEr-D of the model trained on the bootstrapped captions
     * @param bleu4Noisy validation BLEU-4, noisy
     * @param bleu4Bootstrapped validation BLEU-4, bootstrapped
     */
    public record CaptionComparison(int noisyExamples, int bootstrappedExamples, int validationImages,
            double ciderNoisy, double ciderBootstrapped, double bleu4Noisy, double bleu4Bootstrapped) {
        /** The comparison as a markdown table. */
        public String toMarkdown() {
            return "| trained on | captions | val CIDEr-D | val BLEU-4 |\n|---|---|---|---|\n"
                    + String.format(Locale.ROOT, "| noisy web captions | %d | %.3f | %.3f |%n", noisyExamples,
                            ciderNoisy, bleu4Noisy)
                    + String.format(Locale.ROOT, "| CapFilt bootstrapped | %d | %.3f | %.3f |%n",
                            bootstrappedExamples, ciderBootstrapped, bleu4Bootstrapped);
        }
    }

    /**
     * Trains one captioner on the benchmark's noisy {@code data/captions.jsonl} and one on CapFilt's
     * {@code capfilt/captions.jsonl} (same settings, from the same start), and validates both on
     * {@code validationImages} clean images rendered with another seed. Run after {@link #run} or
     * {@link #trainAndRun} on the same {@code work} folder.
     *
     * @param captionerDir the captioning model both start from
     * @param settings training settings of both (the number of steps follows each data size)
     */
    public static CaptionComparison compareCaptioners(Path captionerDir, Path work, Config c, int validationImages,
            org.blipjava.training.TrainingSettings settings, int threads) throws IOException {
        Path val = ShapesData.write(work.resolve("val"), "val", validationImages, c.imageSize(), c.seed() + 2);
        org.blipjava.training.CaptionData valData = org.blipjava.training.CaptionData.read(val, null, null);
        org.blipjava.training.ValidationResult[] results = new org.blipjava.training.ValidationResult[2];
        int[] sizes = new int[2];
        Path[] train = {work.resolve("data/captions.jsonl"),
            work.resolve("capfilt").resolve(Assembler.datasetFile(InputFormat.JSONL))};
        String[] names = {"captioner-noisy", "captioner-bootstrapped"};
        try (org.blipjava.tensor.Parallel parallel = new org.blipjava.tensor.Parallel(threads)) {
            for (int i = 0; i < 2; i++) {
                org.blipjava.training.CaptionData data = org.blipjava.training.CaptionData.read(train[i], null, null);
                sizes[i] = data.size();
                // A dataset smaller than a batch (a harsh filter on a small benchmark) trains with one batch of all.
                org.blipjava.training.TrainingSettings s = data.size() < settings.batchSize()
                        ? settings.withBatch(data.size(), settings.gradAccum()) : settings;
                org.blipjava.training.TrainingResult r = new org.blipjava.training.Trainer(captionerDir, s,
                        parallel).train(data, valData, work.resolve(names[i]), false, null);
                results[i] = r.validations().get(r.validations().size() - 1);
            }
        }
        return new CaptionComparison(sizes[0], sizes[1], validationImages, results[0].ciderD(), results[1].ciderD(),
                results[0].bleu4(), results[1].bleu4());
    }

    /** Mann-Whitney estimate of P(clean score > noisy score), ties counting half. */
    static double auc(List<Double> clean, List<Double> noisy) {
        if (clean.isEmpty() || noisy.isEmpty()) {
            return Double.NaN;
        }
        double wins = 0;
        for (double a : clean) {
            for (double b : noisy) {
                wins += a > b ? 1 : a == b ? 0.5 : 0;
            }
        }
        return wins / ((double) clean.size() * noisy.size());
    }

    private static double mean(List<Double> xs) {
        return xs.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }
}
