package org.blipjava.training;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.blipjava.checkpoint.SafetensorsFile;
import org.blipjava.testing.Fixtures;

/** Shared helpers of the gradient parity tests: inputs from expected.json and the comparisons. */
final class GradientFixtures {
    /** The fixtures README's tolerance for losses. */
    static final double LOSS_TOL = 1e-4;
    /** The fixtures README's tolerance for gradients, relative to the largest entry of the tensor. */
    static final double GRAD_TOL = 1e-3;

    /** Rounding noise allowed on attention key-bias gradients, relative to the loss's largest gradient entry. */
    static final double KEY_BIAS_NOISE = 1e-6;

    private GradientFixtures() {}

    /** Attention key biases ({@code ...self.key.bias}): mathematically without gradient. */
    static boolean isKeyBias(String name) {
        return name.endsWith("self.key.bias");
    }

    static Parameters params(Path modelDir) {
        try {
            return Parameters.load(modelDir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void assertLoss(String what, double actual, float[] expected) {
        assertThat(expected).as("%s is a scalar", what).hasSize(1);
        double err = Math.abs(actual - expected[0]) / Math.max(1.0, Math.abs(expected[0]));
        assertThat(err).as("%s: %s vs expected %s", what, actual, expected[0]).isLessThanOrEqualTo(LOSS_TOL);
    }

    /**
     * Compares every {@code prefix + name} tensor of the expected file with the gradient of the
     * parameter of that name, and requires every parameter the reference has no gradient for to
     * have a zero gradient here (the reference leaves unused weights without one).
     *
     * @return the names of the parameters the reference has no gradient for
     */
    static Set<String> assertGradients(String what, SafetensorsFile f, String prefix, Parameters params) {
        Set<String> compared = new TreeSet<>();
        List<String> failures = new ArrayList<>();
        double largest = 0;
        for (String key : f.tensors().keySet()) {
            if (key.startsWith(prefix)) {
                for (float v : Fixtures.floats(f, key)) {
                    largest = Math.max(largest, Math.abs(v));
                }
            }
        }
        for (String key : f.tensors().keySet()) {
            if (!key.startsWith(prefix)) {
                continue;
            }
            String name = key.substring(prefix.length());
            assertThat(params.contains(name)).as("%s: the reference has a gradient for %s, which the checkpoint lacks",
                    what, name).isTrue();
            float[] expected = Fixtures.floats(f, key);
            float[] actual = params.get(name).grad();
            assertThat(actual).as("%s gradient of %s", what, name).hasSize(expected.length);
            double scale = 0;
            for (float v : expected) {
                scale = Math.max(scale, Math.abs(v));
            }
            double worst = 0;
            int at = -1;
            for (int i = 0; i < expected.length; i++) {
                double err = Math.abs(actual[i] - expected[i]);
                if (!(err <= worst)) {
                    worst = err;
                    at = i;
                }
            }
            double tol = GRAD_TOL * scale;
            if (isKeyBias(name)) {
                // softmax(q.k + q.b) does not depend on the key bias b, so its exact gradient is zero and
                // both sides hold only rounding noise; require that noise to be negligible against the loss's
                // largest gradient instead of relative to itself.
                tol = Math.max(tol, KEY_BIAS_NOISE * largest);
                scale = Math.max(scale, KEY_BIAS_NOISE * largest);
            }
            if (!(worst <= tol) || (scale == 0 && worst > 0)) {
                failures.add(String.format("%s: %s at %d: %s vs %s (error %.3g, allowed %.3g)", what, name, at,
                        actual[at], expected[at], worst, tol));
            }
            compared.add(name);
        }
        assertThat(failures).as("gradient mismatches").isEmpty();
        assertThat(compared).as("%s: gradients in the expected file under %s", what, prefix).isNotEmpty();
        Set<String> without = new TreeSet<>(params.names());
        without.removeAll(compared);
        // A tied alias (cls.predictions.decoder.bias, present when the weights come from
        // pytorch_model.bin rather than the deduplicated safetensors) is the same parameter as a
        // compared name: its gradient was checked under that name and is not an unused weight.
        Set<Parameter> checked = Collections.newSetFromMap(new IdentityHashMap<>());
        compared.forEach(name -> checked.add(params.get(name)));
        without.removeIf(name -> checked.contains(params.get(name)));
        for (String name : without) {
            float[] g = params.get(name).grad();
            double max = 0;
            for (float v : g) {
                max = Math.max(max, Math.abs(v));
            }
            assertThat(max).as("%s: %s has no reference gradient (unused), so its gradient must be zero", what, name)
                    .isEqualTo(0.0);
        }
        return without;
    }
}
