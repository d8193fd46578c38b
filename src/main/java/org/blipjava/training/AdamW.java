package org.blipjava.training;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * AdamW as {@code torch.optim.AdamW}: decoupled weight decay ({@code p -= lr * wd * p}), then
 * the bias-corrected Adam step {@code p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)}.
 *
 * <p>Holds the first and second moments of each distinct parameter. Not thread-safe; one
 * optimizer per training run.
 */
public final class AdamW {
    /**
     * @param beta1       decay of the first moment (0.9)
     * @param beta2       decay of the second moment (0.999)
     * @param eps         added to the denominator (1e-8)
     * @param weightDecay decoupled weight decay (BLIP fine-tuning: 0.05)
     */
    public record Settings(double beta1, double beta2, double eps, double weightDecay) {
        public Settings {
            if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
                throw new IllegalArgumentException("betas must be in [0, 1), got " + beta1 + ", " + beta2);
            }
            if (!(eps > 0) || !(weightDecay >= 0)) {
                throw new IllegalArgumentException("eps must be > 0 and weight decay >= 0, got " + eps + ", "
                        + weightDecay);
            }
        }

        /** PyTorch's defaults with the given weight decay. */
        public static Settings withWeightDecay(double weightDecay) {
            return new Settings(0.9, 0.999, 1e-8, weightDecay);
        }
    }

    private final Settings settings;
    private final List<Parameter> params;
    private final Map<Parameter, Boolean> decayed = new IdentityHashMap<>();
    private final Map<Parameter, float[][]> moments = new IdentityHashMap<>();
    private long step;

    /**
     * @param params  the parameters to update (tied names are updated once)
     * @param decay   which parameters receive weight decay (for example every one, as BLIP does,
     *                or all but biases and layer norms)
     */
    public AdamW(Parameters params, Settings settings, Predicate<Parameter> decay) {
        this.settings = settings;
        this.params = new ArrayList<>(params.unique());
        for (Parameter p : this.params) {
            decayed.put(p, decay.test(p));
            moments.put(p, new float[][] {new float[p.size()], new float[p.size()]});
        }
    }

    /** Updates every parameter from its gradient with learning rate {@code lr}. Gradients are left as they are. */
    public void step(double lr) {
        if (!(lr >= 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException("learning rate must be finite and >= 0, got " + lr);
        }
        step++;
        double b1 = settings.beta1();
        double b2 = settings.beta2();
        double stepSize = lr / (1 - Math.pow(b1, step));
        double correction2 = Math.sqrt(1 - Math.pow(b2, step));
        double shrink = 1 - lr * settings.weightDecay();
        for (Parameter p : params) {
            float[] w = p.value();
            float[] g = p.grad();
            float[] m = moments.get(p)[0];
            float[] v = moments.get(p)[1];
            boolean decay = decayed.get(p);
            for (int i = 0; i < w.length; i++) {
                if (decay) {
                    w[i] = (float) (w[i] * shrink);
                }
                m[i] = (float) (b1 * m[i] + (1 - b1) * g[i]);
                v[i] = (float) (b2 * v[i] + (1 - b2) * (double) g[i] * g[i]);
                double denom = Math.sqrt(v[i]) / correction2 + settings.eps();
                w[i] = (float) (w[i] - stepSize * m[i] / denom);
            }
        }
    }

    /**
     * The live first and second moment arrays of {@code p} ({@code exp_avg}, {@code exp_avg_sq}),
     * for saving and restoring optimizer state; writes change the optimizer.
     *
     * @throws IllegalArgumentException when this optimizer does not update {@code p}
     */
    public float[][] moments(Parameter p) {
        float[][] m = moments.get(p);
        if (m == null) {
            throw new IllegalArgumentException("parameter '" + p.name() + "' is not updated by this optimizer");
        }
        return m;
    }

    /** Sets the number of steps taken, for bias correction, when restoring a saved optimizer. */
    public void restoreSteps(long steps) {
        if (steps < 0) {
            throw new IllegalArgumentException("steps must be >= 0, got " + steps);
        }
        this.step = steps;
    }

    /** Steps taken so far. */
    public long steps() {
        return step;
    }

    public Settings settings() {
        return settings;
    }
}
