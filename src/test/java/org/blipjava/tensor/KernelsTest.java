package org.blipjava.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;

class KernelsTest {
    private static float[] random(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
        return a;
    }

    @Test
    void linearMatchesNaiveAndIsIdenticalForAnyThreadCount() {
        Random rnd = new Random(1);
        int rows = 37, in = 45, out = 71;
        float[] x = random(rnd, rows * in);
        float[] w = random(rnd, out * in);
        float[] b = random(rnd, out);
        float[] y1 = new float[rows * out];
        float[] y3 = new float[rows * out];
        try (Parallel one = new Parallel(1); Parallel three = new Parallel(3)) {
            Kernels.linear(one, x, rows, in, w, b, out, y1);
            Kernels.linear(three, x, rows, in, w, b, out, y3);
        }
        assertThat(y3).containsExactly(y1);
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double s = b[o];
                for (int i = 0; i < in; i++) {
                    s += (double) x[r * in + i] * w[o * in + i];
                }
                assertThat(y1[r * out + o]).isCloseTo((float) s, within(1e-4f));
            }
        }
    }

    @Test
    void erfMatchesKnownValues() {
        assertThat(Kernels.erf(0)).isEqualTo(0.0);
        assertThat(Kernels.erf(0.5)).isCloseTo(0.5204998778130465, within(1e-14));
        assertThat(Kernels.erf(1)).isCloseTo(0.8427007929497149, within(1e-14));
        assertThat(Kernels.erf(-2)).isCloseTo(-0.9953222650189527, within(1e-14));
        assertThat(Kernels.erf(2.4999)).isCloseTo(Kernels.erf(2.5001), within(1e-5));
        assertThat(Kernels.erf(3)).isCloseTo(0.9999779095030014, within(1e-14));
        assertThat(Kernels.erf(4.5)).isCloseTo(0.9999999998033839, within(1e-14));
    }

    @Test
    void layerNormNormalizesRows() {
        float[] x = {1, 2, 3, 4, -1, -1, -1, -1};
        float[] out = new float[8];
        try (Parallel p = new Parallel(2)) {
            Kernels.layerNorm(p, x, 2, 4, new float[] {1, 1, 1, 1}, new float[] {0, 0, 0, 0}, 1e-5, out);
        }
        assertThat(out[0]).isCloseTo(-1.3416f, within(1e-3f));
        assertThat(out[3]).isCloseTo(1.3416f, within(1e-3f));
        assertThat(out[5]).isEqualTo(0f);
    }

    @Test
    void attentionRespectsCausalAndPaddingMasks() {
        Random rnd = new Random(2);
        int len = 5, heads = 2, hd = 3, width = heads * hd;
        float[] q = random(rnd, len * width);
        float[] k = random(rnd, len * width);
        float[] v = random(rnd, len * width);
        float[] out = new float[len * width];
        try (Parallel p = new Parallel(2)) {
            Kernels.attention(p, Kernels.AttentionSpec.dense(1, len, len, heads, hd).withCausal(0, -10000f),
                    q, k, v, null, null, out);
        }
        // The first query sees only the first key, so its context is the first value.
        for (int d = 0; d < width; d++) {
            assertThat(out[d]).isCloseTo(v[d], within(1e-6f));
        }
        float[] mask = {0, -1e30f, -1e30f, -1e30f, -1e30f};
        try (Parallel p = new Parallel(1)) {
            Kernels.attention(p, Kernels.AttentionSpec.dense(1, len, len, heads, hd), q, k, v, null, mask, out);
        }
        for (int i = 0; i < len; i++) {
            for (int d = 0; d < width; d++) {
                assertThat(out[i * width + d]).isCloseTo(v[d], within(1e-6f));
            }
        }
    }

    @Test
    void parallelCoversEveryIndexOnceAndNestsInline() {
        int[] hits = new int[1000];
        try (Parallel p = new Parallel(4)) {
            p.forRange(10, i -> p.forRange(100, j -> hits[i * 100 + j]++));
        }
        assertThat(hits).containsOnly(1);
    }
}
