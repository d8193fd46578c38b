package org.blipjava.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.blipjava.capfilt.CapFilter;
import org.blipjava.capfilt.CapfiltReport;
import org.blipjava.capfilt.CapfiltRun;
import org.blipjava.capfilt.CapfiltSettings;
import org.blipjava.capfilt.NoiseBenchmark;
import org.blipjava.capfilt.Skipped;
import org.blipjava.report.ReportFiles;
import org.blipjava.training.RetrievalSettings;
import org.blipjava.training.TrainingSettings;
import org.blipjava.hub.ConsoleProgressListener;
import org.blipjava.hub.DownloadListener;
import org.blipjava.tasks.Blip;
import org.blipjava.tasks.LoadOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code blip capfilt}: bootstraps a cleaner dataset from noisy image-text pairs (BLIP's CapFilt). */
@Command(name = "capfilt", mixinStandardHelpOptions = true,
        description = {"CapFilt: a captioner writes synthetic captions for every image (nucleus sampling, seeded per"
                + " image), a filter scores them and the web captions with ITM and ITC, and the captions with ITM >="
                + " --threshold (or the --top-k best per image) form the new dataset, in the input's format, with"
                + " decisions.jsonl, report.html and scores.png beside it.",
            "The output is written in shards; run the same command again to resume an interrupted run. --output must"
                + " lie outside --input.",
            "Exit code 1: some images failed or some of a .tar shard could not be read (the rest is used).",
            "'blip capfilt benchmark' measures the filter on generated images with injected wrong captions."},
        subcommands = CapfiltCommand.Benchmark.class)
final class CapfiltCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @Spec
    CommandSpec spec;

    @Mixin
    CommonOptions common;

    @Option(names = "--captioner", paramLabel = "MODEL",
            description = "Captioning model (BlipForConditionalGeneration): a directory or a Hub id (required).")
    String captioner;

    @Option(names = "--filter", paramLabel = "MODEL",
            description = "Filter model (BlipForImageTextRetrieval): a directory or a Hub id (required).")
    String filter;

    @Option(names = "--input", paramLabel = "DATA",
            description = "Dataset: a folder or file with captions.jsonl/.csv, Karpathy or BLIP JSON, or .tar shards"
                    + " (WebDataset: KEY.jpg|png + KEY.txt) (required).")
    Path input;

    @Option(names = "--output", paramLabel = "OUT", description = "Output folder (required).")
    Path output;

    @Option(names = "--num-captions", defaultValue = "1", paramLabel = "N",
            description = "Synthetic captions per image (default: ${DEFAULT-VALUE}; 0 filters the web captions only).")
    int numCaptions;

    @Option(names = "--top-p", defaultValue = "0.9", paramLabel = "P",
            description = "Nucleus sampling mass (default: ${DEFAULT-VALUE}).")
    double topP;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S",
            description = "Base seed; each image's seed mixes it with the image's key (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--prompt", defaultValue = "a picture of ", paramLabel = "TEXT",
            description = "Text the captioner starts from, cut from the synthetic caption "
                    + "(default: \"${DEFAULT-VALUE}\"; \"\" for none).")
    String prompt;

    @Option(names = "--threshold", paramLabel = "T",
            description = "Keep captions whose ITM match probability is at least T (default: 0.5).")
    Double threshold;

    @Option(names = "--top-k", paramLabel = "K", description = "Keep the K captions with the highest ITM per image instead.")
    Integer topK;

    @Option(names = "--shard-size", defaultValue = "1000", paramLabel = "N",
            description = "Input images per output shard, the unit of resumption (default: ${DEFAULT-VALUE}).")
    int shardSize;

    @Option(names = "--stop-after-shards", paramLabel = "N",
            description = "Stop after writing N new shards (for time-boxed jobs); rerun to continue.")
    Integer stopAfterShards;

    @Override
    public Integer call() throws Exception {
        common.validate(spec);
        // Checked here rather than by picocli so that 'capfilt benchmark' does not need them.
        for (var required : java.util.List.of(java.util.Map.entry("--captioner", String.valueOf(captioner)),
                java.util.Map.entry("--filter", String.valueOf(filter)), java.util.Map.entry("--input", String.valueOf(input)),
                java.util.Map.entry("--output", String.valueOf(output)))) {
            if (required.getValue().equals("null")) {
                throw new ParameterException(spec.commandLine(), "missing " + required.getKey()
                        + " (capfilt needs --captioner, --filter, --input and --output)");
            }
        }
        if (threshold != null && topK != null) {
            throw new ParameterException(spec.commandLine(), "--threshold and --top-k exclude each other; give one");
        }
        CapfiltSettings settings;
        CapfiltRun.Options options;
        try {
            settings = new CapfiltSettings(numCaptions, topP, seed, prompt, threshold == null ? 0.5 : threshold, topK);
            options = new CapfiltRun.Options(shardSize, common.batchSize, stopAfterShards);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        // Before the models load (minutes for a download): a nested output would overwrite the input.
        CapfiltRun.requireSeparate(input, output);
        boolean bars = !common.noProgress && ConsoleProgressListener.stderrIsTerminal();
        LoadOptions load = LoadOptions.defaults().withRevision(common.revision)
                .withThreads(common.threads == null ? 0 : common.threads)
                .withListener(bars ? ConsoleProgressListener.forStderr(true) : DownloadListener.NONE);
        try (Blip cap = Blip.load(captioner, load); Blip fil = Blip.load(filter, load)) {
            CapfiltRun run = new CapfiltRun(new CapFilter(cap, fil, settings), input, output, options);
            CapfiltRun.Summary summary;
            try (Progress progress = new Progress(bars, spec.commandLine().getErr())) {
                summary = run.run(progress);
            }
            print(summary);
            return summary.counts() != null && summary.counts().inputFailed() ? 1 : 0;
        }
    }

    private void print(CapfiltRun.Summary s) {
        PrintWriter out = spec.commandLine().getOut();
        if (common.json) {
            ObjectNode n = JSON.createObjectNode();
            n.put("output", output.toString());
            n.put("format", s.format().name().toLowerCase(Locale.ROOT));
            n.put("complete", s.complete());
            n.put("images", s.images());
            n.put("images_this_run", s.imagesThisRun());
            n.put("seconds", s.seconds());
            n.put("images_per_second", s.imagesPerSecond());
            if (s.counts() != null) {
                n.set("counts", JSON.valueToTree(s.counts()));
            }
            out.println(n.toPrettyString());
        } else {
            out.printf(Locale.ROOT, "%s: %d images (%d this run, %.2f images/s)%n", output, s.images(),
                    s.imagesThisRun(), s.imagesPerSecond());
            CapfiltReport.Counts c = s.counts();
            if (c == null) {
                out.println("stopped after the requested shards; run the same command again to continue");
            } else {
                out.printf(Locale.ROOT, "web captions kept: %d of %d; synthetic captions kept: %d of %d; "
                        + "images with a kept caption: %d; failed images: %d%n", c.webKept(), c.web(),
                        c.syntheticKept(), c.synthetic(), c.imagesKept(), c.failed());
                if (c.skipped() > 0 || c.unreadable() > 0) {
                    out.printf(Locale.ROOT, "tar members skipped: %d; unreadable shard parts: %d (listed in %s)%n",
                            c.skipped(), c.unreadable(), CapfiltRun.DECISIONS);
                }
                out.println("report: " + output.resolve(CapfiltReport.HTML) + ", decisions: "
                        + output.resolve(CapfiltRun.DECISIONS));
            }
        }
        out.flush();
    }

    /**
     * A progress bar with images/s on a terminal (the input size is unknown while streaming), and
     * a line on stderr for each piece of input skipped.
     */
    private static final class Progress implements CapfiltRun.Listener, AutoCloseable {
        private final boolean show;
        private final PrintWriter err;
        private ProgressBar bar;
        private long last;

        Progress(boolean show, PrintWriter err) {
            this.show = show;
            this.err = err;
        }

        @Override
        public void skipped(Skipped skipped) {
            err.println("blip: " + skipped.describe());
            err.flush();
        }

        @Override
        public void started(long imagesDone) {
            if (show) {
                bar = new ProgressBarBuilder().setTaskName("capfilt").setInitialMax(-1)
                        .setStyle(ProgressBarStyle.ASCII).setConsumer(new ConsoleProgressBarConsumer(System.err))
                        .setUnit(" images", 1).showSpeed().build();
                if (imagesDone > 0) {
                    bar.setExtraMessage("resumed after " + imagesDone + " images");
                }
            }
        }

        @Override
        public void progress(long images) {
            if (bar != null) {
                bar.stepBy(images - last);
            }
            last = images;
        }

        @Override
        public void close() {
            if (bar != null) {
                bar.close();
            }
        }
    }

    /** {@code blip capfilt benchmark}: the filter's precision and recall against injected noise. */
    @Command(name = "benchmark", mixinStandardHelpOptions = true,
            description = {"Renders images of coloured shapes with their captions, replaces --noise of the captions"
                    + " with wrong ones, fine-tunes the filter on a separate clean split (as 'blip train --task"
                    + " retrieval': ITC with momentum encoders and a feature queue, ITM with hard negatives), runs"
                    + " CapFilt and reports how well the removed web captions match the injected noise (benchmark.md"
                    + " in OUT)."})
    static final class Benchmark implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--captioner", required = true, paramLabel = "MODEL", description = "Captioning model.")
        String captioner;

        @Option(names = "--filter", required = true, paramLabel = "MODEL",
                description = "Retrieval model the filter is fine-tuned from.")
        String filter;

        @Option(names = "--output", required = true, paramLabel = "OUT", description = "Work and output folder.")
        Path output;

        @Option(names = "--images", defaultValue = "120", description = "Benchmark images (default: ${DEFAULT-VALUE}).")
        int images;

        @Option(names = "--noise", defaultValue = "0.3",
                description = "Fraction of wrong captions (default: ${DEFAULT-VALUE}).")
        double noise;

        @Option(names = "--train-images", defaultValue = "960",
                description = "Clean images the filter is fine-tuned on (default: ${DEFAULT-VALUE}).")
        int trainImages;

        @Option(names = "--train-epochs", paramLabel = "N",
                description = "Filter fine-tuning epochs over the clean split (blip train --task retrieval); 0 uses "
                        + "the filter as given (default: 24).")
        Integer trainEpochs;

        @Option(names = "--batch-size", paramLabel = "N", description = "Fine-tuning captions per batch (default: 12).")
        Integer batchSize;

        @Option(names = "--lr", paramLabel = "LR", description = "Fine-tuning peak learning rate (default: 1e-3).")
        Double lr;

        @Option(names = "--warmup-steps", paramLabel = "N",
                description = "Fine-tuning steps of linear warm-up before the cosine decay (default: 60).")
        Integer warmupSteps;

        @Option(names = "--momentum", paramLabel = "M",
                description = "EMA factor of the momentum encoders (default: 0.995).")
        Double momentum;

        @Option(names = "--alpha", paramLabel = "A",
                description = "Weight of the momentum encoders' soft ITC targets (default: 0.4).")
        Double alpha;

        @Option(names = "--queue-size", paramLabel = "N",
                description = "Momentum features kept as extra ITC negatives (default: 57600).")
        Integer queueSize;

        @Option(names = "--fixed-temperature",
                description = "Keep the filter's ITC temperature fixed at 0.07 instead of learning it as BLIP does.")
        boolean fixedTemperature;

        @Option(names = "--augment",
                description = "BLIP's training augmentation of the fine-tuning images: random resized crops, flips, RandAugment.")
        boolean augment;

        @Option(names = "--threshold", defaultValue = "0.5", description = "ITM threshold (default: ${DEFAULT-VALUE}).")
        double threshold;

        @Option(names = "--seed", defaultValue = "0", description = "Seed (default: ${DEFAULT-VALUE}).")
        long seed;

        @Option(names = "--threads", paramLabel = "N", description = "Compute threads (default: all cores).")
        Integer threads;

        @Option(names = "--caption-epochs", defaultValue = "0", paramLabel = "N",
                description = "Also train a captioner on the noisy and on the bootstrapped captions for N epochs and "
                        + "compare their CIDEr-D on clean images (default: ${DEFAULT-VALUE}, skip).")
        int captionEpochs;

        @Option(names = "--caption-lr", defaultValue = "2e-3", paramLabel = "LR",
                description = "Peak learning rate of those captioners (default: ${DEFAULT-VALUE}).")
        double captionLr;

        @Override
        public Integer call() throws Exception {
            NoiseBenchmark.Config config;
            CapfiltSettings settings;
            NoiseBenchmark.FilterTuning tuning;
            int t = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
            try {
                config = new NoiseBenchmark.Config(images, 64, noise, seed);
                settings = new CapfiltSettings(1, 0.9, seed, null, threshold, null);
                if (trainEpochs != null && trainEpochs < 0) {
                    throw new IllegalArgumentException("--train-epochs must be >= 0 (0: use the filter as given), got "
                            + trainEpochs);
                }
                tuning = tuning(t);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage());
            }
            LoadOptions load = LoadOptions.defaults().withThreads(t).withListener(DownloadListener.NONE);
            CapfiltRun.Options options = new CapfiltRun.Options(1000, 8, null);
            NoiseBenchmark.Result r;
            long start = System.nanoTime();
            boolean tuned = trainEpochs == null || trainEpochs > 0;
            try (Blip cap = Blip.load(captioner, load)) {
                if (tuned) {
                    Path filterDir;
                    try (Blip fil = Blip.load(filter, load)) { // resolves a Hub id and checks the head
                        filterDir = fil.directory();
                    }
                    r = NoiseBenchmark.trainAndRun(cap, filterDir, output, config, trainImages,
                            tuning, settings, options);
                } else {
                    try (Blip fil = Blip.load(filter, load)) {
                        r = NoiseBenchmark.run(new CapFilter(cap, fil, settings), output, config, options);
                    }
                }
            }
            TrainingSettings ft = tuning.training();
            String how = tuned ? String.format(Locale.ROOT, "filter fine-tuned (retrieval task: ITC + ITM, momentum "
                    + "%.3f, queue %d) for %d epochs of batch %d at lr %.1e on %d clean images",
                    tuning.retrieval().momentum(), tuning.retrieval().queueSize(), ft.epochs(), ft.batchSize(), ft.lr(),
                    trainImages)
                    : "filter used as given";
            String md = String.format(Locale.ROOT, "CapFilt noise benchmark: %d images, %.0f%% wrong captions, %s, ITM "
                    + "threshold %.2f (%.1f s)%n%n", images, noise * 100, how, threshold, (System.nanoTime() - start) / 1e9)
                    + r.toMarkdown();
            if (captionEpochs > 0) {
                TrainingSettings ts = TrainingSettings.defaults().withEpochs(captionEpochs).withBatch(16, 1)
                        .withOptimizer(captionLr, 0, 0.05, 10, 1.0).withAugment(false).withSeed(seed)
                        .withValidation(12, 0);
                Path capDir;
                try (Blip cap = Blip.load(captioner, load)) {
                    capDir = cap.directory();
                }
                NoiseBenchmark.CaptionComparison cc = NoiseBenchmark.compareCaptioners(capDir, output, config, 48, ts, t);
                md += String.format(Locale.ROOT, "%nCaptioners trained %d epochs from %s, validated on %d clean images:%n%n",
                        captionEpochs, captioner, cc.validationImages()) + cc.toMarkdown();
            }
            ReportFiles.writeString(output.resolve("benchmark.md"), md);
            spec.commandLine().getOut().print(md);
            spec.commandLine().getOut().flush();
            return 0;
        }

        /** The benchmark's fine-tuning defaults with the options given on the command line. */
        private NoiseBenchmark.FilterTuning tuning(int t) {
            NoiseBenchmark.FilterTuning d = NoiseBenchmark.FilterTuning.benchmark(seed, t);
            TrainingSettings ts = d.training();
            // 0 epochs (no fine-tuning) is not a valid training setting; it is handled by the caller.
            ts = ts.withEpochs(trainEpochs == null || trainEpochs == 0 ? ts.epochs() : trainEpochs);
            ts = ts.withBatch(batchSize == null ? ts.batchSize() : batchSize, 1);
            ts = ts.withOptimizer(lr == null ? ts.lr() : lr, ts.minLr(), ts.weightDecay(),
                    warmupSteps == null ? ts.warmupSteps() : warmupSteps, ts.maxGradNorm());
            ts = ts.withAugment(augment);
            RetrievalSettings rs = d.retrieval();
            rs = new RetrievalSettings(rs.temperature(), rs.learnableTemperature() && !fixedTemperature,
                    momentum == null ? rs.momentum() : momentum, alpha == null ? rs.alpha() : alpha,
                    queueSize == null ? rs.queueSize() : queueSize);
            return new NoiseBenchmark.FilterTuning(ts, rs, t);
        }
    }
}