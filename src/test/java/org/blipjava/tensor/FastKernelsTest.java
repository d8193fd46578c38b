package org.blipjava.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The packed matrix product, blocked attention, softmax and GELU against plain double-precision loops. */
class FastKernelsTest {
    private static float[] random(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
        return a;
    }

    @Test
    void packedMatrixRoundTripsAndSlicesColumns() {
        Random rnd = new Random(2);
        int out = 2 * PackedMatrix.panelWidth() + 5;
        int in = 7;
        float[] w = random(rnd, out * in);
        PackedMatrix m = PackedMatrix.ofLinearWeight(w, out, in);
        assertThat(m.toLinearWeight()).containsExactly(w);
        float[] slice = m.sliceColumns(3, out - 4).toLinearWeight();
        for (int i = 0; i < slice.length; i++) {
            assertThat(slice[i]).isEqualTo(w[3 * in + i]);
        }
        float[] col = new float[in];
        m.copyColumn(out - 1, col, 0);
        for (int i = 0; i < in; i++) {
            assertThat(col[i]).isEqualTo(w[(out - 1) * in + i]);
        }
    }

    @Test
    void packedLinearMatchesNaiveOnRaggedShapesForAnyThreadCount() {
        Random rnd = new Random(3);
        // Rows not a multiple of the 6-row tile, columns not a multiple of the panel, long k.
        int[][] shapes = {{1, 5, 3}, {7, 33, 65}, {13, 300, 2 * PackedMatrix.panelWidth() + 1}, {37, 64, 31}};
        for (int[] s : shapes) {
            int rows = s[0];
            int in = s[1];
            int out = s[2];
            float[] x = random(rnd, rows * in);
            float[] w = random(rnd, out * in);
            float[] b = random(rnd, out);
            PackedMatrix pm = PackedMatrix.ofLinearWeight(w, out, in);
            float[] y1 = new float[rows * out];
            float[] y3 = new float[rows * out];
            try (Parallel one = new Parallel(1); Parallel three = new Parallel(3)) {
                Kernels.linear(one, x, rows, pm, b, y1);
                Kernels.linear(three, x, rows, pm, b, y3);
            }
            assertThat(y3).containsExactly(y1);
            for (int r = 0; r < rows; r++) {
                for (int o = 0; o < out; o++) {
                    double acc = b[o];
                    for (int i = 0; i < in; i++) {
                        acc += (double) x[r * in + i] * w[o * in + i];
                    }
                    assertThat((double) y1[r * out + o]).as("shape %dx%dx%d at %d,%d", rows, in, out, r, o)
                            .isCloseTo(acc, within(1e-4 * Math.max(1, Math.abs(acc)) + 1e-4 * Math.sqrt(in)));
                }
            }
        }
    }

    @Test
    void aRowGetsTheSameBitsWhateverItsPositionInTheBatch() {
        Random rnd = new Random(4);
        int in = 50;
        // Panel pairs (the few-row kernel), one lone full panel and a partial one.
        int out = 3 * PackedMatrix.panelWidth() + 5;
        float[] x = random(rnd, 9 * in);
        float[] b = random(rnd, out);
        PackedMatrix pm = PackedMatrix.ofLinearWeight(random(rnd, out * in), out, in);
        float[] all = new float[9 * out];
        float[] three = new float[3 * out];
        try (Parallel p = new Parallel(2)) {
            // Rows 0-5 go through the 6-row tile, 6-8 through the few-row path, as do the 3-row
            // batch (beam search) and every single row (greedy decoding).
            Kernels.linear(p, x, 9, pm, b, all);
            Kernels.linear(p, java.util.Arrays.copyOfRange(x, 0, 3 * in), 3, pm, b, three);
            for (int r = 0; r < 9; r++) {
                float[] alone = new float[out];
                Kernels.linear(p, java.util.Arrays.copyOfRange(x, r * in, (r + 1) * in), 1, pm, b, alone);
                assertThat(java.util.Arrays.copyOfRange(all, r * out, (r + 1) * out)).as("row %d", r)
                        .containsExactly(alone);
                if (r < 3) {
                    assertThat(java.util.Arrays.copyOfRange(three, r * out, (r + 1) * out)).as("row %d of 3", r)
                            .containsExactly(alone);
                }
            }
        }
    }

    @Test
    void blockedAttentionMatchesNaiveWithMasksSharedEntriesAndCausality() {
        Random rnd = new Random(5);
        int heads = 3;
        int hd = 10;
        int width = heads * hd;
        int rows = 4;
        int entries = 2;
        int[] kvIndex = {1, 0, 1, 1};
        Kernels.AttentionScratch scratch = new Kernels.AttentionScratch(1, heads, 4);
        for (int qLen : new int[] {1, 3, 9, 50}) {
            for (boolean causal : new boolean[] {false, true}) {
                int kvLen = causal ? qLen + 2 : 37;
                int past = causal ? 2 : 0;
                float[] q = random(rnd, rows * qLen * width);
                float[] k = random(rnd, entries * kvLen * width);
                float[] v = random(rnd, entries * kvLen * width);
                float[] mask = new float[entries * kvLen];
                mask[kvLen - 1] = -10000f;
                mask[kvLen + 1] = -Float.MAX_VALUE;
                Kernels.AttentionSpec spec = Kernels.AttentionSpec.dense(rows, qLen, kvLen, heads, hd);
                if (causal) {
                    spec = spec.withCausal(past, -10000f);
                }
                float[] out = new float[rows * qLen * width];
                try (Parallel p = new Parallel(2)) {
                    Kernels.attention(p, spec, q, k, v, kvIndex, mask, out);
                }
                // The caller's scratch (kept from one shape to the next, grown when too small) gives
                // the same context on one thread and on several.
                for (int threads : new int[] {1, 2}) {
                    float[] again = new float[out.length];
                    try (Parallel p = new Parallel(threads)) {
                        Kernels.attention(p, spec, q, k, v, kvIndex, mask, again, scratch);
                    }
                    assertThat(again).as("scratch, %d threads, qLen %d causal %s", threads, qLen, causal)
                            .containsExactly(out);
                }
                for (int b = 0; b < rows; b++) {
                    int e = kvIndex[b];
                    for (int h = 0; h < heads; h++) {
                        for (int i = 0; i < qLen; i++) {
                            double[] sc = new double[kvLen];
                            double max = Double.NEGATIVE_INFINITY;
                            for (int j = 0; j < kvLen; j++) {
                                double d = 0;
                                for (int t = 0; t < hd; t++) {
                                    d += (double) q[(b * qLen + i) * width + h * hd + t] * k[(e * kvLen + j) * width + h * hd + t];
                                }
                                d = d / Math.sqrt(hd);
                                boolean visible = !causal || j <= past + i;
                                d += visible ? mask[e * kvLen + j] : -10000.0;
                                sc[j] = d;
                                max = Math.max(max, d);
                            }
                            double sum = 0;
                            for (int j = 0; j < kvLen; j++) {
                                sc[j] = Math.exp(sc[j] - max);
                                sum += sc[j];
                            }
                            for (int t = 0; t < hd; t++) {
                                double o = 0;
                                for (int j = 0; j < kvLen; j++) {
                                    o += sc[j] / sum * v[(e * kvLen + j) * width + h * hd + t];
                                }
                                assertThat((double) out[(b * qLen + i) * width + h * hd + t])
                                        .as("qLen %d causal %s row %d head %d", qLen, causal, b, h)
                                        .isCloseTo(o, within(2e-5));
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void softmaxAndGeluMatchDoublePrecision() {
        Random rnd = new Random(6);
        float[] x = new float[77];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rnd.nextGaussian() * 20);
        }
        x[5] = -1e30f;
        float[] s = x.clone();
        Kernels.softmaxRow(s, 0, s.length);
        double max = Double.NEGATIVE_INFINITY;
        for (float f : x) {
            max = Math.max(max, f);
        }
        double sum = 0;
        for (float f : x) {
            sum += Math.exp(f - max);
        }
        for (int i = 0; i < x.length; i++) {
            assertThat((double) s[i]).isCloseTo(Math.exp(x[i] - max) / sum, within(1e-6));
        }
        float[] g = new float[1001];
        for (int i = 0; i < g.length; i++) {
            g[i] = -12f + 24f * i / (g.length - 1);
        }
        float[] y = g.clone();
        try (Parallel p = new Parallel(2)) {
            Kernels.gelu(p, y, y.length);
        }
        for (int i = 0; i < g.length; i++) {
            double v = g[i];
            double exact = 0.5 * v * (1 + Kernels.erf(v / Math.sqrt(2)));
            assertThat((double) y[i]).as("gelu(%s)", v).isCloseTo(exact, within(1e-6 * Math.max(1, Math.abs(v))));
        }
    }

    @Test
    void forChunksVisitsEveryIndexOnceAndPropagatesFailures() {
        try (Parallel p = new Parallel(3)) {
            java.util.concurrent.atomic.AtomicIntegerArray seen = new java.util.concurrent.atomic.AtomicIntegerArray(1000);
            p.forChunks(1000, 7, (s, e) -> {
                for (int i = s; i < e; i++) {
                    seen.incrementAndGet(i);
                }
            });
            for (int i = 0; i < 1000; i++) {
                assertThat(seen.get(i)).as("index %d", i).isEqualTo(1);
            }
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> p.forChunks(100, 1, (s, e) -> {
                if (s == 42) {
                    throw new IllegalStateException("chunk 42");
                }
            })).hasMessage("chunk 42");
        }
    }

    @Test
    void vectorAndScalarExpAgreeBitForBit() {
        float[] xs = {-100f, -87.2f, -20.5f, -1f, -1e-3f, 0f, 1e-3f, 0.5f, 3f, 40f, 87f};
        for (float x : xs) {
            float v = Kernels.exp(jdk.incubator.vector.FloatVector.broadcast(Gemm.F, x)).lane(0);
            assertThat(v).isEqualTo(Kernels.expScalar(x));
            assertThat((double) v).isCloseTo(Math.exp(x), within(3e-7 * Math.exp(x) + 1e-37));
        }
    }
}
