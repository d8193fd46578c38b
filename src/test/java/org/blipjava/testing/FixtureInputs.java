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

    /**
     * The first n images of expected.json's {@code images} that have pixel-value targets (those
     * listed in {@code pixel_values_not_a_target}, such as 16-bit sources, are skipped: a set may
     * list one early). For tests that need some inputs; a test comparing with a section's
     * reference outputs takes that section's images from {@link #modelImages}.
     */
    public static List<String> firstImages(JsonNode expected, int n) {
        List<String> out = new ArrayList<>();
        JsonNode notTarget = expected.path("pixel_values_not_a_target");
        for (JsonNode img : expected.get("images")) {
            if (out.size() < n && !notTarget.has(img.asText())) {
                out.add(img.asText());
            }
        }
        assertThat(out.size()).as("images with pixel values listed in expected.json").isGreaterThanOrEqualTo(n);
        return out;
    }

    /**
     * The model images of one section of expected.json ({@code caption}, {@code vqa}, {@code itm},
     * {@code contrastive}): the images whose pixel values that section's reference outputs were
     * computed from, in row order. Read from the section, never assumed to be the first entries of
     * the top-level {@code images} (in another set a 16-bit image, which has no pixel values, may
     * come earlier).
     */
    public static List<String> modelImages(JsonNode expected, String section) {
        JsonNode images = expected.path(section).get("images");
        assertThat(images).as("expected.json %s.images", section).isNotNull();
        List<String> out = strings(images);
        assertThat(out).as("expected.json %s.images", section).isNotEmpty();
        return out;
    }

    /**
     * The prompt of {@code caption.prompted_greedy} as the decoder receives it in {@code generate}:
     * {@code prompt_input_ids} ([DEC] first) without the final [SEP].
     */
    public static int[] promptIds(JsonNode expected) {
        JsonNode ids = expected.at("/caption/prompted_greedy/prompt_input_ids");
        assertThat(ids.isArray()).as("expected.json caption.prompted_greedy.prompt_input_ids").isTrue();
        int sep = expected.at("/special_ids/sep").asInt();
        int n = ids.size();
        if (n > 0 && ids.get(n - 1).asInt() == sep) {
            n--;
        }
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = ids.get(i).asInt();
        }
        assertThat(out).as("prompt ids start with [DEC]").startsWith(expected.at("/special_ids/bos_dec").asInt());
        return out;
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
