package org.blipjava.bench;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.blipjava.checkpoint.StateDict;
import org.blipjava.config.BlipConfig;
import org.blipjava.config.ClipConfig;
import org.blipjava.generation.GenerationConfig;
import org.blipjava.generation.GenerationResult;
import org.blipjava.generation.Generator;
import org.blipjava.image.BlipImageProcessor;
import org.blipjava.image.ImageDecoder;
import org.blipjava.image.ImageProcessorConfig;
import org.blipjava.image.RgbImage;
import org.blipjava.model.BlipForConditionalGeneration;
import org.blipjava.model.BlipForImageTextRetrieval;
import org.blipjava.model.ClipModel;
import org.blipjava.tensor.Kernels;
import org.blipjava.tensor.Parallel;
import org.blipjava.tensor.WeightPrecision;

/**
 * The inference benchmark: a model of the given shapes with seeded random weights, timed on the
 * work BLIP's users run, optionally next to the PyTorch baseline script measured in the same run.
 *
 * <p>Every figure is a median over {@code repeat} timed runs after one untimed warm-up run.
 */
public final class Benchmark {
    /**
     * @param shapes    model shapes and workloads
     * @param threads   threads for the Java kernels, OpenBLAS and PyTorch alike
     * @param repeat    timed runs per figure
     * @param seed      seed of the random weights and inputs
     * @param torch     also run the PyTorch baseline
     * @param python    the Python interpreter with torch (Debian's {@code /usr/bin/python3})
     * @param torchScript the baseline script, or null for the copy of {@code bench/torch_baseline.py}
     *                    built into the jar (found from any working directory)
     * @param sections    which parts to run
     * @param precision   how the models store their weights (the matrix-product figures stay float32)
     */
    public record Options(BenchShapes shapes, int threads, int repeat, long seed, boolean torch, String python,
                          Path torchScript, java.util.Set<Section> sections, WeightPrecision precision) {
        public Options {
            if (threads < 1 || repeat < 1) {
                throw new IllegalArgumentException("threads and repeat must be at least 1, got " + threads + " and "
                        + repeat);
            }
        }
    }

    /** Parts of the benchmark that can be run alone. */
    public enum Section { MATMUL, CAPTION, RETRIEVAL, CLIP }

    /**
     * One reported figure.
     *
     * @param key            stable name (JSON key; the baseline script uses the same)
     * @param label          what was measured, for the table
     * @param unit           unit of the values
     * @param higherIsBetter true for rates, false for times and memory
     * @param java           this project's measurements
     * @param reference      the yardstick's (OpenBLAS or PyTorch), or null when not measured
     * @param referenceName  what the yardstick is
     */
    public record Metric(String key, String label, String unit, boolean higherIsBetter, Stats java, Stats reference,
                         String referenceName) {
        /** How many times better Java is than the yardstick (above 1: Java wins); NaN without one. */
        public double ratio() {
            if (reference == null) {
                return Double.NaN;
            }
            return higherIsBetter ? java.median() / reference.median() : reference.median() / java.median();
        }
    }

    /** Everything a run measured, with the machine it ran on. */
    public record Report(String date, String cpu, int cores, int threads, String jvm, int vectorBits, String shapes,
                         List<Metric> metrics, List<String> notes) {}

    private final Options options;
    private final PrintWriter progress;
    private final List<Metric> metrics = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();

    private Benchmark(Options options, PrintWriter progress) {
        this.options = options;
        this.progress = progress;
    }

    /** Runs the benchmark, printing one progress line per stage to {@code progress}. */
    public static Report run(Options options, PrintWriter progress) {
        return new Benchmark(options, progress).run();
    }

    private Report run() {
        BenchShapes s = options.shapes();
        boolean wantsTorch = options.torch() && (options.sections().contains(Section.CAPTION)
                || options.sections().contains(Section.RETRIEVAL) || options.sections().contains(Section.CLIP));
        if (wantsTorch) {
            TorchBaseline.checkScript(options); // before minutes of matrix products, not after
        }
        try (Parallel parallel = new Parallel(options.threads())) {
            if (options.sections().contains(Section.MATMUL)) {
                matmuls(parallel);
            }
            if (wantsTorch) {
                stage("starting the PyTorch baseline (" + TorchBaseline.describe(options) + ")");
                try (TorchBaseline torch = TorchBaseline.start(options, progress)) {
                    notes.addAll(torch.notes());
                    modelSections(parallel, torch);
                }
            } else {
                modelSections(parallel, null);
            }
        }
        return new Report(LocalDate.now().toString(), Machine.cpuModel(), Runtime.getRuntime().availableProcessors(),
                options.threads(), "Java " + Runtime.version(), Machine.vectorBits(),
                s.name() + ", weights " + options.precision().name().toLowerCase(java.util.Locale.ROOT),
                List.copyOf(metrics), notes);
    }

    private void modelSections(Parallel parallel, TorchBaseline torch) {
        if (options.sections().contains(Section.CAPTION)) {
            captioning(parallel, torch);
        }
        if (options.sections().contains(Section.RETRIEVAL)) {
            retrieval(parallel, torch);
        }
        if (options.sections().contains(Section.CLIP)) {
            clip(parallel, torch);
        }
        peakMemory("peak_rss_mb", "peak resident memory, whole benchmark", torch);
    }

    private void stage(String what) {
        progress.println("bench: " + what);
        progress.flush();
    }

    // ---- matrix products ----

    private void matmuls(Parallel parallel) {
        Optional<OpenBlas> blas = OpenBlas.load(options.threads());
        if (blas.isEmpty()) {
            notes.add("OpenBLAS not found (install libopenblas0-pthread or set BLIP_OPENBLAS): no sgemm comparison");
        }
        SplittableRandom rnd = new SplittableRandom(options.seed());
        try (Arena arena = Arena.ofConfined()) {
            for (int[] shape : options.shapes().matmuls()) {
                int m = shape[0];
                int k = shape[1];
                int n = shape[2];
                String name = m + "x" + k + " * " + k + "x" + n;
                stage("matmul " + name);
                float[] a = random(rnd, m * k);
                float[] w = random(rnd, n * k);
                float[] c = new float[m * n];
                org.blipjava.tensor.PackedMatrix packed = org.blipjava.tensor.PackedMatrix.ofLinearWeight(w, n, k);
                double flop = 2.0 * m * k * n;
                int inner = innerRepeats(flop);
                Probe java = Probe.java(() -> {
                    for (int i = 0; i < inner; i++) {
                        Kernels.linear(parallel, a, m, packed, null, c);
                    }
                });
                Stats[] t;
                if (blas.isPresent()) {
                    MemorySegment na = arena.allocateFrom(ValueLayout.JAVA_FLOAT, a);
                    MemorySegment nw = arena.allocateFrom(ValueLayout.JAVA_FLOAT, w);
                    MemorySegment nc = arena.allocate(ValueLayout.JAVA_FLOAT, (long) m * n);
                    OpenBlas b = blas.get();
                    t = rounds(java, Probe.foreign(() -> {
                        for (int i = 0; i < inner; i++) {
                            b.linear(na, nw, nc, m, k, n);
                        }
                    }));
                } else {
                    t = rounds(java);
                }
                java.util.function.DoubleUnaryOperator gflops = sec -> flop * inner / sec / 1e9;
                metrics.add(new Metric("matmul_" + m + "x" + k + "x" + n, "matmul " + name, "GFLOP/s", true,
                        t[0].map(gflops), t.length > 1 ? t[1].map(gflops) : null, "OpenBLAS sgemm"));
            }
        } finally {
            blas.ifPresent(OpenBlas::close);
        }
    }

    /** Enough back-to-back products that one timed run lasts about 50 ms or more. */
    private static int innerRepeats(double flop) {
        return (int) Math.max(1, Math.min(1000, 50e-3 * 50e9 / flop));
    }

    // ---- captioning and the vision tower ----

    private void captioning(Parallel parallel, TorchBaseline torch) {
        BenchShapes s = options.shapes();
        BlipConfig config = s.config();
        stage("building captioning model with random weights (" + s.name() + ")");
        BlipForConditionalGeneration model;
        try (Arena arena = Arena.ofShared()) {
            StateDict sd = RandomWeights.captioning(config, arena, options.seed());
            model = BlipForConditionalGeneration.load(sd, config, parallel, options.precision());
        }
        System.gc();
        Memory.trimNative();
        Memory.resetPeak();
        Path image = writeImage(options.seed());
        try {
            int size = config.vision().imageSize();
            BlipImageProcessor processor = new BlipImageProcessor(ImageProcessorConfig.defaults().withSize(size, size));
            int bos = config.text().bosTokenId();
            GenerationConfig base = GenerationConfig.forBlip(config.text()).toBuilder()
                    .maxNewTokens(s.captionTokens()).minNewTokens(s.captionTokens()).build();
            GenerationConfig greedy = base.toBuilder().numBeams(1).build();
            GenerationConfig beam = base.toBuilder().numBeams(s.beams()).build();
            stage("greedy caption, " + s.captionTokens() + " tokens");
            compared("caption_greedy_s", "caption, greedy " + s.captionTokens()
                    + " tokens, batch 1 (image file to tokens)", "s", false,
                    () -> caption(model, processor, image, bos, greedy, s.captionTokens()), torch, "caption_greedy");
            stage("beam caption, " + s.beams() + " beams");
            compared("caption_beam_s", "caption, beam " + s.beams() + " x " + s.captionTokens() + " tokens, batch 1",
                    "s", false, () -> caption(model, processor, image, bos, beam, s.captionTokens()), torch,
                    "caption_beam");
            peakMemory("peak_rss_caption_mb", "peak resident memory while captioning", torch);

            float[] one = processor.preprocess(ImageDecoder.defaults().read(image));
            int big = s.visionBatch();
            float[] pixels = new float[big * one.length];
            for (int i = 0; i < big; i++) {
                System.arraycopy(one, 0, pixels, i * one.length, one.length);
            }
            stage("vision encoder, batch 1 and " + big + " (alternating)");
            // All four in one rotation, so both batch sizes and both implementations see the same
            // load on a shared machine and their ratios mean something even when absolute figures drift.
            List<Probe> probes = new ArrayList<>(List.of(Probe.java(() -> model.vision(one, 1, size, size)),
                    Probe.java(() -> model.vision(pixels, big, size, size))));
            if (torch != null) {
                probes.add(Probe.torch(torch, "vision_b1"));
                probes.add(Probe.torch(torch, "vision_b" + big));
            }
            Stats[] v = rounds(probes.toArray(Probe[]::new));
            int[] batches = {1, big};
            for (int i = 0; i < 2; i++) {
                int batch = batches[i];
                java.util.function.DoubleUnaryOperator perImage = t -> t / batch;
                metrics.add(new Metric("vision_b" + batch + "_s_per_image", "vision encoder, batch " + batch,
                        "s/image", false, v[i].map(perImage), torch == null ? null : v[i + 2].map(perImage),
                        "PyTorch"));
            }
        } finally {
            deleteQuietly(image);
        }
    }

    private static void caption(BlipForConditionalGeneration model, BlipImageProcessor processor, Path image, int bos,
                                GenerationConfig cfg, int tokens) {
        RgbImage rgb = ImageDecoder.defaults().read(image);
        float[] pixels = processor.preprocess(rgb);
        int size = processor.config().height();
        var out = model.vision(pixels, 1, size, size);
        GenerationResult r = Generator.generate(model.decoderFactory(out.lastHiddenState(), 1, 1 + tokens), 1,
                new int[] {bos}, cfg);
        if (r.generatedTokens(0).length != tokens) {
            throw new IllegalStateException("generated " + r.generatedTokens(0).length + " tokens, forced " + tokens);
        }
    }

    // ---- retrieval ----

    private void retrieval(Parallel parallel, TorchBaseline torch) {
        BenchShapes s = options.shapes();
        BlipConfig config = s.config();
        stage("building retrieval model with random weights");
        BlipForImageTextRetrieval model;
        try (Arena arena = Arena.ofShared()) {
            StateDict sd = RandomWeights.retrieval(config, arena, options.seed() + 1);
            model = BlipForImageTextRetrieval.load(sd, config, parallel, options.precision());
        }
        System.gc();
        int size = config.vision().imageSize();
        SplittableRandom rnd = new SplittableRandom(options.seed() + 2);
        float[] pixels = random(rnd, 3 * size * size);
        int[][] itmIds = texts(rnd, s.itmTexts(), s.textLen(), config.text().vocabSize());
        stage("ITM, 1 image x " + s.itmTexts() + " texts");
        compared("itm_s", "ITM, 1 image x " + s.itmTexts() + " texts (vision included)", "s", false, () -> {
            var v = model.vision(pixels, 1, size, size);
            model.itmLogits(v.lastHiddenState(), 1, itmIds, null);
        }, torch, "itm");
        int[][] itcIds = texts(rnd, s.itcTexts(), s.textLen(), config.text().vocabSize());
        stage("ITC text embeddings, " + s.itcTexts() + " texts");
        compared("itc_texts_per_s", "ITC text embeddings (" + s.textLen() + " tokens each)", "texts/s", true,
                t -> s.itcTexts() / t, () -> model.textFeatures(itcIds, null), torch, "itc");
    }

    // ---- CLIP ----

    /**
     * CLIP image embeddings: pixels (already preprocessed) to L2-normalized {@code visual_projection}
     * outputs, a batch per run, as images per second. The whole {@code CLIPModel} is loaded (it
     * needs both towers) but only the image path is timed; the BLIP models are gone by now.
     */
    private void clip(Parallel parallel, TorchBaseline torch) {
        BenchShapes.ClipShapes c = options.shapes().clip();
        ClipConfig config = c.config();
        stage("building CLIP " + c.name() + " with random weights");
        ClipModel model;
        try (Arena arena = Arena.ofShared()) {
            StateDict sd = RandomWeights.clip(config, arena, options.seed() + 3);
            model = ClipModel.load(sd, config, parallel, options.precision());
        }
        System.gc();
        int size = config.vision().imageSize();
        int batch = c.batch();
        float[] pixels = random(new SplittableRandom(options.seed() + 4), batch * 3 * size * size);
        stage("CLIP image embeddings, batch " + batch);
        compared("clip_images_per_s", "CLIP " + c.name() + " image embeddings, batch " + batch + " (" + size + "x"
                + size + ")", "images/s", true, t -> batch / t,
                () -> model.imageEmbeds(model.vision(pixels, batch, size, size)), torch, clipOp(c));
    }

    /** The baseline's name for the CLIP workload. */
    static String clipOp(BenchShapes.ClipShapes c) {
        return "clip_image_b" + c.batch();
    }

    /** Times {@code work} against the baseline's {@code torchOp} (when there is a baseline) and records the metric. */
    private void compared(String key, String label, String unit, boolean higherIsBetter, Runnable work,
                          TorchBaseline torch, String torchOp) {
        compared(key, label, unit, higherIsBetter, t -> t, work, torch, torchOp);
    }

    /** As above, each run's seconds turned into the reported value by {@code value} (e.g. a rate). */
    private void compared(String key, String label, String unit, boolean higherIsBetter,
                          java.util.function.DoubleUnaryOperator value, Runnable work, TorchBaseline torch,
                          String torchOp) {
        Probe java = Probe.java(work);
        Stats[] t = torch == null ? rounds(java) : rounds(java, Probe.torch(torch, torchOp));
        metrics.add(new Metric(key, label, unit, higherIsBetter, t[0].map(value),
                torch == null ? null : t[1].map(value), "PyTorch"));
    }

    /** This process's peak resident memory so far, beside the baseline's when there is one. */
    private void peakMemory(String key, String label, TorchBaseline torch) {
        metrics.add(new Metric(key, label, "MB", false, new Stats(new double[] {Memory.peakMb()}),
                torch == null ? null : new Stats(new double[] {torch.run("peak_rss_mb")}), "PyTorch"));
    }

    /** Random texts: [CLS], random word ids, [SEP]. */
    static int[][] texts(SplittableRandom rnd, int count, int len, int vocab) {
        int[][] ids = new int[count][len];
        for (int[] row : ids) {
            row[0] = 101;
            for (int j = 1; j < len - 1; j++) {
                row[j] = 1000 + rnd.nextInt(Math.max(1, Math.min(vocab, 30000) - 1000));
            }
            row[len - 1] = 102;
        }
        return ids;
    }

    // ---- helpers ----

    /**
     * One workload of a comparison: runs it once and returns its seconds. Java probes are timed
     * here; the baseline's are timed by the baseline itself.
     *
     * @param run     runs the workload once and returns its seconds
     * @param foreign whether it runs on another runtime's threads (OpenBLAS, PyTorch), which may
     *                spin after a run
     */
    private record Probe(java.util.function.DoubleSupplier run, boolean foreign) {
        double seconds() {
            return run.getAsDouble();
        }

        static Probe java(Runnable r) {
            return new Probe(() -> timed(r), false);
        }

        static Probe foreign(Runnable r) {
            return new Probe(() -> timed(r), true);
        }

        static Probe torch(TorchBaseline torch, String op) {
            return new Probe(() -> torch.run(op), true);
        }

        private static double timed(Runnable r) {
            long start = System.nanoTime();
            r.run();
            return (System.nanoTime() - start) / 1e9;
        }
    }

    /**
     * Times the probes in rounds: each is warmed up (Java ones until the JIT has compiled the
     * kernels: at least two runs and a second; one run left a multi-second workload timed while
     * the compiler still worked on the other core), then every round runs each probe once,
     * starting one later each round, so no probe always follows the same one. On a shared
     * machine this puts every probe in the same stretches of load, which is what makes their
     * ratios meaningful; a pause after a foreign run lets its spinning worker threads sleep.
     *
     * @return one {@link Stats} per probe, in argument order, with {@code repeat} values each
     */
    private Stats[] rounds(Probe... probes) {
        for (Probe p : probes) {
            long warm = System.nanoTime();
            int runs = 0;
            do {
                p.seconds();
                runs++;
                settle(p);
            } while (!p.foreign() && runs < 20 && (runs < 2 || System.nanoTime() - warm < 1_000_000_000L));
        }
        double[][] t = new double[probes.length][options.repeat()];
        for (int round = 0; round < options.repeat(); round++) {
            for (int j = 0; j < probes.length; j++) {
                int i = (round + j) % probes.length;
                t[i][round] = probes[i].seconds();
                settle(probes[i]);
            }
        }
        Stats[] out = new Stats[probes.length];
        for (int i = 0; i < probes.length; i++) {
            out[i] = new Stats(t[i]);
        }
        return out;
    }

    private static void settle(Probe p) {
        if (p.foreign()) {
            sleep(200);
        }
    }

    private static float[] random(SplittableRandom rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (2 * rnd.nextDouble() - 1);
        }
        return a;
    }

    /** A 640x480 PNG of random pixels in a temporary file: the captioning request's input. */
    private static Path writeImage(long seed) {
        try {
            Path f = Files.createTempFile("blip-bench-", ".png");
            BufferedImage img = new BufferedImage(640, 480, BufferedImage.TYPE_INT_RGB);
            SplittableRandom rnd = new SplittableRandom(seed);
            for (int y = 0; y < 480; y++) {
                for (int x = 0; x < 640; x++) {
                    img.setRGB(x, y, rnd.nextInt(1 << 24));
                }
            }
            ImageIO.write(img, "png", f.toFile());
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the benchmark image to the temporary directory", e);
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // a leftover temporary file is harmless
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
