package org.blipjava.tasks;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.blipjava.checkpoint.SafetensorsFile;
import org.blipjava.generation.EarlyStopping;
import org.blipjava.generation.GenerationConfig;
import org.blipjava.testing.FixtureInputs;
import org.blipjava.testing.Fixtures;

/** Reads the fixture's generation cases: their settings, images and expected ids. */
final class FixtureGeneration {
    private FixtureGeneration() {}

    /** A fixture's {@code kwargs} applied to the model's defaults; unknown settings fail the test. */
    static GenerationConfig config(GenerationConfig base, JsonNode kwargs) {
        GenerationConfig.Builder b = base.toBuilder();
        for (Iterator<Map.Entry<String, JsonNode>> it = kwargs.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode v = e.getValue();
            switch (e.getKey()) {
                case "max_length" -> b.maxLength(v.asInt());
                case "max_new_tokens" -> b.maxNewTokens(v.asInt());
                case "min_length" -> b.minLength(v.asInt());
                case "min_new_tokens" -> b.minNewTokens(v.asInt());
                case "num_beams" -> b.numBeams(v.asInt());
                case "num_return_sequences" -> b.numReturnSequences(v.asInt());
                case "repetition_penalty" -> b.repetitionPenalty(v.asDouble());
                case "length_penalty" -> b.lengthPenalty(v.asDouble());
                case "no_repeat_ngram_size" -> b.noRepeatNgramSize(v.asInt());
                case "early_stopping" -> b.earlyStopping(v.isTextual() && v.asText().equals("never") ? EarlyStopping.NEVER
                        : v.asBoolean() ? EarlyStopping.EARLY : EarlyStopping.HEURISTIC);
                case "do_sample" -> b.doSample(v.asBoolean());
                default -> throw new AssertionError("fixture generation setting '" + e.getKey()
                        + "' is not mapped by this test; add it");
            }
        }
        return b.build();
    }

    /** The generation cases of a section ({@code caption} or {@code vqa}): entries with kwargs and ids. */
    static List<String> cases(JsonNode section) {
        List<String> out = new ArrayList<>();
        section.fieldNames().forEachRemaining(name -> {
            JsonNode c = section.get(name);
            if (c.isObject() && c.has("kwargs") && c.has("ids")) {
                out.add(name);
            }
        });
        return out;
    }

    /**
     * The images a section's results were computed on: its own {@code images} (every set lists
     * them per section), one per result row. Not the first N of the set's {@code images}: in
     * another set a 16-bit image, which has no pixel values, may come earlier.
     */
    static List<String> images(JsonNode expected, JsonNode section, int n) {
        List<String> out = FixtureInputs.strings(section.get("images"));
        assertThat(out).as("section images (one per result row)").hasSize(n);
        return out;
    }

    /** The fixture's pixel values of these images at the given size, as one batch. */
    static PixelValues pixels(SafetensorsFile tensors, List<String> images, int size) {
        int per = 3 * size * size;
        float[] all = new float[images.size() * per];
        for (int i = 0; i < images.size(); i++) {
            float[] one = Fixtures.floats(tensors, "pixel_values/" + size + "/" + images.get(i));
            System.arraycopy(one, 0, all, i * per, per);
        }
        return new PixelValues(all, images.size(), size, size);
    }

    /** A row of the fixture's ids without its trailing padding. */
    static int[] stripped(JsonNode row, int pad) {
        int[] ids = new int[row.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = row.get(i).asInt();
        }
        int end = ids.length;
        while (end > 1 && ids[end - 1] == pad) {
            end--;
        }
        return Arrays.copyOf(ids, end);
    }
}
