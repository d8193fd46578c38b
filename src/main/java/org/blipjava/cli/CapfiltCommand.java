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
        description = {"CapFilt: a captioner writes synthetic captions for every image (nucleus sampling, seeded",
            "per image), a filter scores them and the web captions with ITM and ITC, and the captions with",
            "ITM >= --threshold (or the --top-k best per image) form the new dataset, written in the input's",
            "format with decisions.jsonl, report.html and scores.png. The output is written in shards; run",
            "the same command again to resume an interrupted run."})
final class CapfiltCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @Spec
    CommandSpec spec;

    @Mixin
    CommonOptions common;

    @Option(names = "--captioner", required = true, paramLabel = "MODEL",
            description = "Captioning model (BlipForConditionalGeneration): a directory or a Hub id.")
    String captioner;

    @Option(names = "--filter", required = true, paramLabel = "MODEL",
            description = "Filter model (BlipForImageTextRetrieval): a directory or a Hub id.")
    String filter;

    @Option(names = "--input", required = true, paramLabel = "DATA",
            description = "Dataset: a folder or file with captions.jsonl/.csv, Karpathy or BLIP JSON, or .tar shards"
                    + " (WebDataset: KEY.jpg|png + KEY.txt).")
    Path input;

    @Option(names = "--output", required = true, paramLabel = "OUT", description = "Output folder.")
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
        boolean bars = !common.noProgress && ConsoleProgressListener.stderrIsTerminal();
        LoadOptions load = LoadOptions.defaults().withRevision(common.revision)
                .withThreads(common.threads == null ? 0 : common.threads)
                .withListener(bars ? ConsoleProgressListener.forStderr(true) : DownloadListener.NONE);
        try (Blip cap = Blip.load(captioner, load); Blip fil = Blip.load(filter, load)) {
            CapfiltRun run = new CapfiltRun(new CapFilter(cap, fil, settings), input, output, options);
            CapfiltRun.Summary summary;
            try (Progress progress = new Progress(bars)) {
                summary = run.run(progress);
            }
            print(summary);
            return 0;
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
                out.println("report: " + output.resolve(CapfiltReport.HTML) + ", decisions: "
                        + output.resolve(CapfiltRun.DECISIONS));
            }
        }
        out.flush();
    }

    /** A progress bar with images/s on a terminal (the input size is unknown while streaming). */
    private static final class Progress implements CapfiltRun.Listener, AutoCloseable {
        private final boolean show;
        private ProgressBar bar;
        private long last;

        Progress(boolean show) {
            this.show = show;
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
}
