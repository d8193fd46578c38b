package org.blipjava.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.blipjava.checkpoint.SafetensorsFile;
import org.blipjava.config.BlipConfig;
import org.blipjava.tasks.Blip;
import org.blipjava.tasks.PixelValues;

/** Readers of a fixture set's inputs (expected.json arrays, pixel values, model configs) shared by parity tests. */
public final class FixtureInputs {
    private FixtureInputs() {}

    /** The {@code config.json} of a fixture model folder. */
    public static BlipConfig config(Path modelDir) {
        try {
            return BlipConfig.read(modelDir.resolve("config.json"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The image processor's outputs for the named images at {@code size}, concatenated [n, 3, size, size]. */
    public static float[] pixels(SafetensorsFile expected, int size, List<String> images) {
        float[] out = new float[images.size() * 3 * size * size];
        for (int i = 0; i < images.size(); i++) {
            float[] one = Fixtures.floats(expected, "pixel_values/" + size + "/" + images.get(i));
            assertThat(one).as("pixel_values of %s", images.get(i)).hasSize(3 * size * size);
            System.arraycopy(one, 0, out, i * one.length, one.length);
        }
        return out;
    }

    /** The texts of a JSON array. */
    public static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    /** The first n image names of expected.json's {@code images}. */
    public static List<String> firstImages(JsonNode expected, int n) {
        List<String> all = strings(expected.get("images"));
        assertThat(all.size()).as("images listed in expected.json").isGreaterThanOrEqualTo(n);
        return all.subList(0, n);
    }

    /** A JSON array of integer arrays (token ids, masks). */
    public static int[][] ints(JsonNode array) {
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

    /** The set's decodable 8-bit images (those with pixel targets), at most {@code n}, in expected.json's order. */
    public static List<String> targetImages(Fixtures.FixtureSet set, int n) {
        List<String> out = new ArrayList<>();
        JsonNode notTarget = set.expected().path("pixel_values_not_a_target");
        for (JsonNode img : set.expected().get("images")) {
            if (out.size() < n && !notTarget.has(img.asText())) {
                out.add(img.asText());
            }
        }
        return out;
    }

    /** The texts of expected.json's {@code itm} section. */
    public static List<String> itmTexts(Fixtures.FixtureSet set) {
        return strings(set.expected().get("itm").get("texts"));
    }

    /**
     * Which images decode, through {@code blip}'s image processor, to exactly the set's pixel
     * values at the model's size: only for those are the reference's outputs the expected ones
     * (lossy sources may decode slightly differently). Images without pixel values are false.
     */
    public static boolean[] decodesExactly(Fixtures.FixtureSet set, Blip blip, List<String> images) {
        boolean[] out = new boolean[images.size()];
        try (SafetensorsFile tensors = set.openTensors()) {
            int size = blip.config().vision().imageSize();
            for (int i = 0; i < images.size(); i++) {
                String name = "pixel_values/" + size + "/" + images.get(i);
                if (!tensors.tensors().containsKey(name)) {
                    continue;
                }
                PixelValues px = blip.pixels(List.of(Blip.readImage(set.image(images.get(i)))));
                float[] want = Fixtures.floats(tensors, name);
                double max = 0;
                for (int k = 0; k < want.length; k++) {
                    max = Math.max(max, Math.abs(px.values()[k] - want[k]));
                }
                out[i] = max <= 1e-5;
            }
        }
        return out;
    }
}
