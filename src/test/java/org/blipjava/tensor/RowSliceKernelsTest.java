package org.blipjava.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The row-range forms of the linear layer and GELU, which the models use to run their MLP a slice
 * of rows at a time: slices must give exactly the bits of one call over all rows.
 */
class RowSliceKernelsTest {
    private static float[] random(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
        return a;
    }

    @Test
    void linearOverRowSlicesEqualsOneCallBitForBit() {
        Random rnd = new Random(11);
        int rows = 53;
        int in = 37;
        int out = PackedMatrix.panelWidth() + 9;
        float[] x = random(rnd, rows * in);
        PackedMatrix w = PackedMatrix.ofLinearWeight(random(rnd, out * in), out, in);
        float[] b = random(rnd, out);
        try (Parallel p = new Parallel(2)) {
            float[] whole = new float[rows * out];
            Kernels.linear(p, x, rows, w, b, whole);
            for (int chunk : new int[] {1, 5, 6, 7, 20, 53}) {
                float[] sliced = new float[rows * out];
                for (int r0 = 0; r0 < rows; r0 += chunk) {
                    int n = Math.min(chunk, rows - r0);
                    Kernels.linear(p, x, r0 * in, n, w, b, sliced, r0 * out);
                }
                assertThat(sliced).as("slices of %d rows", chunk).containsExactly(whole);
            }
        }
    }

    @Test
    void geluOnARangeTouchesOnlyThatRangeAndMatchesTheWholeCall() {
        Random rnd = new Random(12);
        float[] x = random(rnd, 40_000);
        float[] whole = x.clone();
        float[] ranged = x.clone();
        try (Parallel p = new Parallel(2)) {
            Kernels.gelu(p, whole, whole.length);
            Kernels.gelu(p, ranged, 3, 20_001);
        }
        for (int i = 0; i < x.length; i++) {
            float expected = i >= 3 && i < 20_004 ? whole[i] : x[i];
            assertThat(ranged[i]).as("element %d", i).isEqualTo(expected);
        }
    }

    @Test
    void rangesOutsideTheArraysAreRejected() {
        PackedMatrix w = PackedMatrix.ofLinearWeight(new float[4 * 3], 4, 3);
        try (Parallel p = new Parallel(1)) {
            assertThatThrownBy(() -> Kernels.linear(p, new float[6], 3, 2, w, null, new float[8], 0))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("x has 6 floats");
            assertThatThrownBy(() -> Kernels.gelu(p, new float[10], 8, 5))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("outside x of 10 floats");
        }
    }
}
