package org.blipjava.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Function;
import org.blipjava.checkpoint.Checkpoints;
import org.blipjava.checkpoint.LoadedWeights;
import org.blipjava.checkpoint.SafetensorsFile;
import org.blipjava.checkpoint.StateDict;

/** Helpers shared by the model parity tests: loading fixture models, inputs and comparing floats. */
final class ModelFixtures {
    /** The fixtures README's tolerance for activations, logits, embeddings and losses. */
    static final double TOL = 1e-4;

    private ModelFixtures() {}

    /**
     * Opens the model's weights in whichever format the folder has (a fixture set may ship
     * {@code model.safetensors}, {@code pytorch_model.bin} or both), builds the model from them
     * and closes the files.
     */
    static <T> T load(Path modelDir, Function<StateDict, T> build) {
        try (LoadedWeights w = Checkpoints.open(modelDir)) {
            return build.apply(w.stateDict());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static int[] shape(SafetensorsFile f, String name) {
        return f.get(name).intShape();
    }

    /** Every element within {@link #TOL} absolute or relative. */
    static void assertClose(String what, float[] actual, float[] expected) {
        assertThat(actual.length).as("%s length", what).isEqualTo(expected.length);
        double worst = 0;
        int worstAt = -1;
        for (int i = 0; i < actual.length; i++) {
            double err = Math.abs(actual[i] - expected[i]) / Math.max(1.0, Math.abs(expected[i]));
            if (!(err <= worst)) {
                worst = err;
                worstAt = i;
            }
        }
        if (worst > TOL || Double.isNaN(worst)) {
            fail("%s differs at %d: %s vs expected %s (error %s)", what, worstAt, actual[worstAt], expected[worstAt], worst);
        }
    }

    static void assertClose(String what, double actual, float[] expectedScalar) {
        assertThat(expectedScalar).as("%s is a scalar", what).hasSize(1);
        assertClose(what, new float[] {(float) actual}, expectedScalar);
    }

    static String describe(int[] a) {
        return Arrays.toString(a);
    }
}
