package org.blipjava.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link Kernels#quickGelu}: CLIP's {@code x * sigmoid(1.702 x)}. */
class QuickGeluTest {
    private static double exact(double v) {
        return v / (1 + Math.exp(-1.702 * v));
    }

    @Test
    void matchesDoublePrecisionOverTheWholeRange() {
        float[] g = new float[2001];
        for (int i = 0; i < g.length; i++) {
            g[i] = -60f + 120f * i / (g.length - 1);
        }
        float[] y = g.clone();
        try (Parallel p = new Parallel(2)) {
            Kernels.quickGelu(p, y, y.length);
        }
        for (int i = 0; i < g.length; i++) {
            double v = g[i];
            assertThat((double) y[i]).as("quickGelu(%s)", v).isCloseTo(exact(v), within(1e-6 * Math.max(1, Math.abs(v))));
        }
    }

    @Test
    void extremesStayFiniteAndNanPropagates() {
        float[] x = {0f, -0f, 1e30f, -1e30f, 100f, -100f, Float.MAX_VALUE, -Float.MAX_VALUE, Float.NaN,
                Float.MIN_VALUE, -Float.MIN_VALUE};
        // Twice: once through the vector loop (when the array is wide enough) and once through the scalar tail.
        float[] wide = new float[64 * x.length];
        for (int i = 0; i < wide.length; i++) {
            wide[i] = x[i % x.length];
        }
        try (Parallel p = new Parallel(1)) {
            Kernels.quickGelu(p, wide, wide.length);
        }
        for (int i = 0; i < wide.length; i++) {
            float v = x[i % x.length];
            float y = wide[i];
            if (Float.isNaN(v)) {
                assertThat(y).isNaN();
            } else if (v > 50) {
                assertThat(y).as("quickGelu(%s)", v).isEqualTo(v);
            } else if (v < -50) {
                assertThat(y).as("quickGelu(%s)", v).isNotNaN().isCloseTo(0f, within(1e-6f));
            } else {
                assertThat((double) y).as("quickGelu(%s)", v).isCloseTo(exact(v), within(1e-7));
            }
        }
    }

    @Test
    void vectorAndScalarPathsAgreeBitForBit() {
        Random rnd = new Random(21);
        // An odd length leaves a scalar tail after the vector loop.
        float[] x = new float[1037];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rnd.nextGaussian() * 6);
        }
        float[] y = x.clone();
        try (Parallel p = new Parallel(1)) {
            Kernels.quickGelu(p, y, y.length);
        }
        for (int i = 0; i < x.length; i++) {
            assertThat(y[i]).as("element %d (%s)", i, x[i]).isEqualTo(Kernels.quickGeluScalar(x[i]));
        }
    }

    @Test
    void rangeTouchesOnlyThatRangeAndAnyThreadCountGivesTheSameResult() {
        Random rnd = new Random(22);
        float[] x = new float[50_000];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rnd.nextGaussian() * 3);
        }
        float[] one = x.clone();
        float[] three = x.clone();
        float[] ranged = x.clone();
        try (Parallel p1 = new Parallel(1); Parallel p3 = new Parallel(3)) {
            Kernels.quickGelu(p1, one, one.length);
            Kernels.quickGelu(p3, three, three.length);
            Kernels.quickGelu(p3, ranged, 5, 30_001);
            assertThatThrownBy(() -> Kernels.quickGelu(p1, new float[10], 8, 5))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("outside x of 10 floats");
        }
        assertThat(three).containsExactly(one);
        for (int i = 0; i < x.length; i++) {
            float expected = i >= 5 && i < 30_006 ? one[i] : x[i];
            assertThat(ranged[i]).as("element %d", i).isEqualTo(expected);
        }
    }
}
