package org.blipjava.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

/** AdamW, the warm-up/cosine schedule and global-norm clipping. */
class OptimizerTest {
    private static Parameters two(float[] a, float[] b) {
        return Parameters.of("test", List.of(new Parameter("a.weight", a, a.length), new Parameter("a.bias", b, b.length)));
    }

    @Test
    void adamWFirstStepsMoveByTheLearningRateWithDecoupledDecay() {
        Parameters ps = two(new float[] {1f, -2f}, new float[] {0.5f});
        ps.get("a.weight").grad()[0] = 0.3f;
        ps.get("a.weight").grad()[1] = -1000f;
        ps.get("a.bias").grad()[0] = 2e-3f;
        double lr = 0.01;
        double wd = 0.1;
        AdamW opt = new AdamW(ps, AdamW.Settings.withWeightDecay(wd), p -> !p.name().endsWith(".bias"));
        opt.step(lr);
        // After one step m/sqrt(v) is sign(g) (bias-corrected), whatever the gradient's magnitude.
        float[] w = ps.get("a.weight").value();
        assertThat((double) w[0]).isCloseTo(1 * (1 - lr * wd) - lr, within(1e-6));
        assertThat((double) w[1]).isCloseTo(-2 * (1 - lr * wd) + lr, within(1e-6));
        assertThat((double) ps.get("a.bias").value()[0]).as("no decay on biases").isCloseTo(0.5 - lr, within(1e-6));
        // With the same gradient again the corrected moments are unchanged: another step of lr.
        opt.step(lr);
        double expected = (1 * (1 - lr * wd) - lr) * (1 - lr * wd) - lr;
        assertThat((double) w[0]).isCloseTo(expected, within(1e-6));
        assertThat(opt.steps()).isEqualTo(2);
    }

    @Test
    void adamWMinimizesAQuadratic() {
        float[] w = {3f, -4f, 0.5f};
        float[] target = {1f, 2f, -3f};
        Parameters ps = Parameters.of("test", List.of(new Parameter("w", w, 3)));
        AdamW opt = new AdamW(ps, AdamW.Settings.withWeightDecay(0), p -> true);
        WarmupCosineSchedule schedule = new WarmupCosineSchedule(0.1, 0.0, 10, 2000);
        for (int s = 0; s < 2000; s++) {
            ps.zeroGrad();
            for (int i = 0; i < 3; i++) {
                ps.get("w").grad()[i] = 2 * (w[i] - target[i]);
            }
            opt.step(schedule.lr(s));
        }
        for (int i = 0; i < 3; i++) {
            assertThat((double) w[i]).isCloseTo(target[i], within(1e-3));
        }
    }

    @Test
    void adamWRejectsBadSettings() {
        assertThatThrownBy(() -> new AdamW.Settings(1.0, 0.999, 1e-8, 0)).hasMessageContaining("betas");
        assertThatThrownBy(() -> new AdamW.Settings(0.9, 0.999, 0, 0)).hasMessageContaining("eps");
        Parameters ps = two(new float[] {1f}, new float[] {1f});
        AdamW opt = new AdamW(ps, AdamW.Settings.withWeightDecay(0), p -> true);
        assertThatThrownBy(() -> opt.step(Double.NaN)).hasMessageContaining("learning rate");
    }

    @Test
    void warmupThenCosine() {
        WarmupCosineSchedule s = new WarmupCosineSchedule(1e-4, 1e-6, 10, 110);
        assertThat(s.lr(0)).isZero();
        assertThat(s.lr(5)).isCloseTo(5e-5, within(1e-12));
        assertThat(s.lr(10)).isCloseTo(1e-4, within(1e-12));
        assertThat(s.lr(60)).as("half way through the decay").isCloseTo((1e-4 + 1e-6) / 2, within(1e-12));
        assertThat(s.lr(110)).isEqualTo(1e-6);
        assertThat(s.lr(1000)).isEqualTo(1e-6);
        for (int i = 10; i < 110; i++) {
            assertThat(s.lr(i + 1)).isLessThanOrEqualTo(s.lr(i));
        }
        assertThat(new WarmupCosineSchedule(1, 0, 0, 4).lr(0)).isEqualTo(1.0);
        assertThatThrownBy(() -> new WarmupCosineSchedule(1, 2, 0, 4)).hasMessageContaining("min");
        assertThatThrownBy(() -> new WarmupCosineSchedule(1, 0, 5, 4)).hasMessageContaining("warmupSteps");
    }

    @Test
    void clipsByGlobalNormOnlyWhenAbove() {
        Parameters ps = two(new float[2], new float[1]);
        ps.get("a.weight").grad()[0] = 3f;
        ps.get("a.weight").grad()[1] = 0f;
        ps.get("a.bias").grad()[0] = 4f;
        assertThat(GradientClipping.clipByGlobalNorm(ps, 10)).isCloseTo(5.0, within(1e-9));
        assertThat(ps.get("a.bias").grad()[0]).isEqualTo(4f);
        assertThat(GradientClipping.clipByGlobalNorm(ps, 1)).isCloseTo(5.0, within(1e-9));
        assertThat((double) ps.get("a.weight").grad()[0]).isCloseTo(0.6, within(1e-6));
        assertThat((double) ps.get("a.bias").grad()[0]).isCloseTo(0.8, within(1e-6));
        assertThatThrownBy(() -> GradientClipping.clipByGlobalNorm(ps, 0)).hasMessageContaining("maxNorm");
    }
}
