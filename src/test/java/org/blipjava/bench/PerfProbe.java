package org.blipjava.bench;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.blipjava.checkpoint.StateDict;
import org.blipjava.config.BlipConfig;
import org.blipjava.model.BlipForImageTextRetrieval;
import org.blipjava.tensor.Parallel;

/**
 * A timing probe for performance work (not a test): vision at batch 1 and the larger batch,
 * interleaved in one process so their ratio is not skewed by load from other jobs, and ITC
 * text embedding. Usage: {@code PerfProbe [threads] [rounds] [parts: vision,itc,gemm,caption]}.
 */
public final class PerfProbe {
    private PerfProbe() {}

    public static void main(String[] args) {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        String parts = args.length > 2 ? args[2] : "vision,itc";
        BenchShapes s = BenchShapes.base();
        BlipConfig config = s.config();
        try (Parallel parallel = new Parallel(threads)) {
            BlipForImageTextRetrieval model;
            try (Arena arena = Arena.ofShared()) {
                StateDict sd = RandomWeights.retrieval(config, arena, 1);
                model = BlipForImageTextRetrieval.load(sd, config, parallel);
            }
            SplittableRandom rnd = new SplittableRandom(2);
            int size = config.vision().imageSize();
            if (parts.contains("caption")) {
                captionBreakdown(parallel, rounds);
            }
            if (parts.contains("vision")) {
                int big = s.visionBatch();
                float[] pixels = new float[big * 3 * size * size];
                for (int i = 0; i < pixels.length; i++) {
                    pixels[i] = (float) (2 * rnd.nextDouble() - 1);
                }
                float[] one = Arrays.copyOf(pixels, 3 * size * size);
                model.vision(one, 1, size, size); // warm-up
                model.vision(pixels, big, size, size);
                double[] r1 = new double[rounds];
                double[] r8 = new double[rounds];
                for (int r = 0; r < rounds; r++) {
                    long t0 = System.nanoTime();
                    model.vision(one, 1, size, size);
                    long t1 = System.nanoTime();
                    model.vision(pixels, big, size, size);
                    long t2 = System.nanoTime();
                    r1[r] = (t1 - t0) / 1e9;
                    r8[r] = (t2 - t1) / 1e9 / big;
                    System.out.printf("round %d: vision b1 %.3f s/img, b%d %.3f s/img, ratio b%d/b1 %.2f%n", r, r1[r],
                            big, r8[r], big, r8[r] / r1[r]);
                }
                System.out.printf("vision median: b1 %.3f, b%d %.3f s/image%n", median(r1), big, median(r8));
            }
            if (parts.contains("gemm")) {
                int[][] shapes = {{577, 768, 768}, {577, 768, 3072}, {577, 3072, 768}, {4616, 768, 768},
                    {4616, 768, 3072}, {4616, 3072, 768}, {1600, 768, 768}, {1600, 768, 3072}, {1600, 3072, 768}};
                for (int[] sh : shapes) {
                    float[] w = new float[sh[1] * sh[2]];
                    float[] x = new float[sh[0] * sh[1]];
                    for (int i = 0; i < w.length; i++) {
                        w[i] = (float) rnd.nextDouble();
                    }
                    for (int i = 0; i < x.length; i++) {
                        x[i] = (float) rnd.nextDouble();
                    }
                    org.blipjava.tensor.PackedMatrix pm = org.blipjava.tensor.PackedMatrix.ofLinearWeight(w, sh[2], sh[1]);
                    float[] y = new float[sh[0] * sh[2]];
                    float[] bias = new float[sh[2]];
                    org.blipjava.tensor.Kernels.linear(parallel, x, sh[0], pm, bias, y);
                    double[] g = new double[rounds];
                    for (int r = 0; r < rounds; r++) {
                        long t0 = System.nanoTime();
                        org.blipjava.tensor.Kernels.linear(parallel, x, sh[0], pm, bias, y);
                        g[r] = 2.0 * sh[0] * sh[1] * sh[2] / (System.nanoTime() - t0);
                    }
                    System.out.printf("gemm %dx%dx%d: %.1f GFLOP/s%n", sh[0], sh[1], sh[2], median(g));
                }
            }
            if (parts.contains("itc")) {
                int[][] ids = Benchmark.texts(rnd, s.itcTexts(), s.textLen(), config.text().vocabSize());
                for (int i = 0; i < 3; i++) {
                    model.textFeatures(ids, null);
                }
                double[] tr = new double[rounds];
                for (int r = 0; r < rounds; r++) {
                    long t0 = System.nanoTime();
                    model.textFeatures(ids, null);
                    tr[r] = s.itcTexts() / ((System.nanoTime() - t0) / 1e9);
                    System.out.printf("round %d: itc %.1f texts/s%n", r, tr[r]);
                }
                System.out.printf("itc median: %.1f texts/s%n", median(tr));
            }
        }
    }

    /**
     * Where a greedy caption's time goes, on the benchmark's captioning model: vision, the
     * cross-attention keys/values, and each decoding step (1 row, then 3 rows as in beam search).
     */
    static void captionBreakdown(Parallel parallel, int rounds) {
        BenchShapes s = BenchShapes.base();
        BlipConfig config = s.config();
        org.blipjava.model.BlipForConditionalGeneration model;
        try (Arena arena = Arena.ofShared()) {
            model = org.blipjava.model.BlipForConditionalGeneration.load(RandomWeights.captioning(config, arena, 0),
                    config, parallel, org.blipjava.tensor.WeightPrecision.F32);
        }
        int size = config.vision().imageSize();
        float[] pixels = new float[3 * size * size];
        SplittableRandom rnd = new SplittableRandom(3);
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (float) (2 * rnd.nextDouble() - 1);
        }
        int steps = s.captionTokens();
        for (int r = 0; r < rounds + 2; r++) {
            long t0 = System.nanoTime();
            float[] img = model.vision(pixels, 1, size, size).lastHiddenState();
            long t1 = System.nanoTime();
            var factory = model.decoderFactory(img, 1, 1 + steps);
            long t2 = System.nanoTime();
            StringBuilder per = new StringBuilder();
            for (int rows : new int[] {1, 3}) {
                try (var dec = factory.open(new int[rows])) {
                    int[][] tok = new int[rows][1];
                    long ts = System.nanoTime();
                    for (int step = 0; step < steps; step++) {
                        for (int[] t : tok) {
                            t[0] = step == 0 ? config.text().bosTokenId() : 1000 + step;
                        }
                        dec.forward(tok);
                    }
                    per.append(String.format(" | %d rows: %.1f ms/step", rows, (System.nanoTime() - ts) / 1e6 / steps));
                }
            }
            System.out.printf("round %d: vision %.3f s, cross K/V %.3f s%s%n", r, (t1 - t0) / 1e9, (t2 - t1) / 1e9,
                    per);
        }
    }

    /**
     * One timed round per call on a model built once: {@code {vision b1 s/image, vision bN s/image,
     * ITC texts/s}}. Returned as a JDK type so that {@link AbProbe} can call it across class loaders.
     */
    public static java.util.function.Supplier<double[]> session(int threads) {
        BenchShapes s = BenchShapes.base();
        BlipConfig config = s.config();
        Parallel parallel = new Parallel(threads);
        BlipForImageTextRetrieval model;
        try (Arena arena = Arena.ofShared()) {
            model = BlipForImageTextRetrieval.load(RandomWeights.retrieval(config, arena, 1), config, parallel);
        }
        SplittableRandom rnd = new SplittableRandom(2);
        int size = config.vision().imageSize();
        int big = s.visionBatch();
        float[] pixels = new float[big * 3 * size * size];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (float) (2 * rnd.nextDouble() - 1);
        }
        float[] one = Arrays.copyOf(pixels, 3 * size * size);
        int[][] ids = Benchmark.texts(rnd, s.itcTexts(), s.textLen(), config.text().vocabSize());
        return () -> {
            long t0 = System.nanoTime();
            model.vision(one, 1, size, size);
            long t1 = System.nanoTime();
            model.vision(pixels, big, size, size);
            long t2 = System.nanoTime();
            model.textFeatures(ids, null);
            long t3 = System.nanoTime();
            return new double[] {(t1 - t0) / 1e9, (t2 - t1) / 1e9 / big, s.itcTexts() / ((t3 - t2) / 1e9)};
        };
    }

    private static double median(double[] a) {
        double[] c = a.clone();
        Arrays.sort(c);
        return c[c.length / 2];
    }
}
