package org.blipjava.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import org.blipjava.testing.ComputeThreads;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Every op's backward against central finite differences of {@code sum(r * op(inputs))} for a
 * random r, independently of the fixtures.
 */
class OpsGradientCheckTest {
    @RegisterExtension
    static final ComputeThreads THREADS = new ComputeThreads(2);

    @FunctionalInterface
    interface Op {
        Tensor apply(Tape t, Tensor[] in);
    }

    private static float[] random(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
        return a;
    }

    private static double objective(Tensor y, float[] r) {
        double s = 0;
        for (int i = 0; i < y.size(); i++) {
            s += (double) r[i] * y.data()[i];
        }
        return s;
    }

    /** Compares the analytic gradient of every input element with a central difference. */
    private static void check(String what, Op op, float[]... inputs) {
        Random rnd = new Random(what.hashCode());
        Tensor[] in = new Tensor[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            in[i] = new Parameter("in" + i, inputs[i].clone(), inputs[i].length);
        }
        Tape tape = new Tape(THREADS.get());
        Tensor y = op.apply(tape, in);
        float[] r = random(rnd, y.size());
        // Seed the output's gradient with r through a scalar: L = sum(r * y).
        Tensor seed = new Tensor(new float[] {(float) objective(y, r)}, true, 1);
        tape.record(() -> {
            float g = seed.grad()[0];
            float[] gy = y.grad();
            for (int i = 0; i < gy.length; i++) {
                gy[i] += g * r[i];
            }
        });
        tape.backward(seed);
        double h = 1e-2;
        for (int k = 0; k < in.length; k++) {
            float[] analytic = in[k].grad();
            double scale = 0;
            for (float v : analytic) {
                scale = Math.max(scale, Math.abs(v));
            }
            for (int i = 0; i < inputs[k].length; i++) {
                Tensor[] plus = copies(inputs);
                plus[k].data()[i] += (float) h;
                Tensor[] minus = copies(inputs);
                minus[k].data()[i] -= (float) h;
                double up = objective(op.apply(new Tape(THREADS.get()), plus), r);
                double down = objective(op.apply(new Tape(THREADS.get()), minus), r);
                double numeric = (up - down) / (2 * h);
                assertThat(Math.abs(numeric - analytic[i]))
                        .as("%s: d/d input %d [%d]: numeric %s vs analytic %s", what, k, i, numeric, analytic[i])
                        .isLessThanOrEqualTo(5e-3 * Math.max(1, scale));
            }
        }
    }

    private static Tensor[] copies(float[][] inputs) {
        Tensor[] out = new Tensor[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            out[i] = new Parameter("in" + i, inputs[i].clone(), inputs[i].length);
        }
        return out;
    }

    @Test
    void linearLayerNormGeluTanh() {
        Random rnd = new Random(1);
        check("linear", (t, in) -> Ops.linear(t, in[0], 3, 5, in[1], in[2], 4), random(rnd, 15), random(rnd, 20),
                random(rnd, 4));
        check("linear without bias", (t, in) -> Ops.linear(t, in[0], 2, 3, in[1], null, 3), random(rnd, 6),
                random(rnd, 9));
        check("layerNorm", (t, in) -> Ops.layerNorm(t, in[0], 3, 6, in[1], in[2], 1e-5), random(rnd, 18),
                random(rnd, 6), random(rnd, 6));
        check("gelu", (t, in) -> Ops.gelu(t, in[0]), random(rnd, 12));
        check("tanh", (t, in) -> Ops.tanh(t, in[0]), random(rnd, 12));
    }

    @Test
    void attentionWithCausalAndPaddingMasks() {
        Random rnd = new Random(2);
        int rows = 2;
        int len = 4;
        int heads = 2;
        int hd = 3;
        int w = heads * hd;
        float[] selfMask = new float[rows * len];
        selfMask[len + 3] = Ops.SELF_MASK_VALUE; // row 1 has one padded key
        check("causal self-attention", (t, in) -> Ops.attention(t, in[0], in[1], in[2], rows, len, len, heads, hd,
                true, selfMask), random(rnd, rows * len * w), random(rnd, rows * len * w), random(rnd, rows * len * w));
        int kv = 5;
        float[] crossMask = new float[rows * kv];
        crossMask[kv - 1] = -Float.MAX_VALUE;
        crossMask[2 * kv - 2] = -Float.MAX_VALUE;
        check("cross-attention", (t, in) -> Ops.attention(t, in[0], in[1], in[2], rows, len, kv, heads, hd, false,
                crossMask), random(rnd, rows * len * w), random(rnd, rows * kv * w), random(rnd, rows * kv * w));
    }

    @Test
    void gathersSlicesAndShapes() {
        Random rnd = new Random(3);
        check("gather with repeats", (t, in) -> Ops.gather(t, in[0], 3, new int[] {2, 0, 2, 1}), random(rnd, 9));
        check("columns", (t, in) -> Ops.columns(t, in[0], 2, 6, 2, 3), random(rnd, 12));
        check("transpose", (t, in) -> Ops.transpose(t, in[0], 2, 3), random(rnd, 6));
        check("add", (t, in) -> Ops.add(t, in[0], in[1]), random(rnd, 5), random(rnd, 5));
        check("l2Normalize", (t, in) -> Ops.l2Normalize(t, in[0], 3, 4), random(rnd, 12));
        check("divide", (t, in) -> Ops.divide(t, in[0], 0.07), random(rnd, 4));
        check("scaleByExp", (t, in) -> Ops.scaleByExp(t, in[0], in[1]), random(rnd, 4), new float[] {0.3f});
        check("divide by a scalar tensor", (t, in) -> Ops.divide(t, in[0], in[1]), random(rnd, 4), new float[] {0.8f});
        check("weightedSum", (t, in) -> Ops.weightedSum(t, new double[] {0.5, 2}, in[0], in[1]), random(rnd, 1),
                random(rnd, 1));
    }

    @Test
    void crossEntropyWithSmoothingAndIgnoredRows() {
        Random rnd = new Random(4);
        int[] labels = {2, -100, 0, 4};
        for (double ls : new double[] {0.0, 0.1}) {
            check("crossEntropy ls" + ls, (t, in) -> Ops.crossEntropy(t, in[0], 4, 5, labels, ls), random(rnd, 20));
        }
        Tape t = new Tape(THREADS.get());
        Tensor allIgnored = Ops.crossEntropy(t, new Parameter("x", new float[4], 4), 2, 2, new int[] {-100, -100}, 0);
        assertThat(Float.isNaN(allIgnored.item())).as("mean over no positions is NaN, as the reference").isTrue();
        assertThatThrownBy(() -> Ops.crossEntropy(new Tape(THREADS.get()), new Parameter("x", new float[4], 4), 2, 2,
                new int[] {5, 0}, 0)).hasMessageContaining("label 5");
    }

    @Test
    void aTapeRunsBackwardOnce() {
        Tape t = new Tape(THREADS.get());
        Tensor y = Ops.weightedSum(t, new double[] {1}, new Parameter("x", new float[] {1}, 1));
        t.backward(y);
        assertThatThrownBy(() -> t.backward(y)).hasMessageContaining("already");
    }
}
