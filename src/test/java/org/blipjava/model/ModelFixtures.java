package org.blipjava.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import org.blipjava.checkpoint.SafetensorsFile;
import org.blipjava.checkpoint.StateDict;
import org.blipjava.config.BlipConfig;
import org.blipjava.testing.Fixtures;

/** Helpers shared by the model parity tests: loading fixture models, inputs and comparing floats. */
final class ModelFixtures {
    /** The fixtures README's tolerance for activations, logits, embeddings and losses. */
    static final double TOL = 1e-4;

    private ModelFixtures() {}

    static BlipConfig config(Path modelDir) {
        try {
            return BlipConfig.read(modelDir.resolve("config.json"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Opens the model's safetensors, builds the model from it and closes the file. */
    static <T> T load(Path modelDir, Function<StateDict, T> build) {
        try (SafetensorsFile f = SafetensorsFile.open(modelDir.resolve("model.safetensors"))) {
            return build.apply(new StateDict(f.path().toString(), f.tensors()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The image processor's outputs for the named images at {@code size}, concatenated [n, 3, size, size]. */
    static float[] pixels(SafetensorsFile expected, int size, List<String> images) {
        float[] out = new float[images.size() * 3 * size * size];
        for (int i = 0; i < images.size(); i++) {
            float[] one = Fixtures.floats(expected, "pixel_values/" + size + "/" + images.get(i));
            assertThat(one).as("pixel_values of %s", images.get(i)).hasSize(3 * size * size);
            System.arraycopy(one, 0, out, i * one.length, one.length);
        }
        return out;
    }

    static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    /** The first n image names of expected.json's {@code images}. */
    static List<String> firstImages(JsonNode expected, int n) {
        List<String> all = strings(expected.get("images"));
        assertThat(all.size()).as("images listed in expected.json").isGreaterThanOrEqualTo(n);
        return all.subList(0, n);
    }

    static int[][] ints(JsonNode array) {
        int[][] out = new int[array.size()][];
        for (int i = 0; i < out.length; i++) {
            JsonNode row = array.get(i);
            out[i] = new int[row.size()];
            for (int j = 0; j < out[i].length; j++) {
                out[i][j] = row.get(j).asInt();
            }
        }
        return out;
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
