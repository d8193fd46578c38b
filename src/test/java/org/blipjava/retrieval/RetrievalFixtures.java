package org.blipjava.retrieval;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.blipjava.checkpoint.SafetensorsFile;
import org.blipjava.tasks.Blip;
import org.blipjava.tasks.PixelValues;
import org.blipjava.testing.Fixtures;
import org.blipjava.testing.Fixtures.FixtureSet;

/** Reads the ITM section of a fixture set for the retrieval tests. */
final class RetrievalFixtures {
    private RetrievalFixtures() {}

    static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    static List<String> itmImages(FixtureSet set) {
        return strings(set.expected().get("itm").get("images"));
    }

    static List<String> itmTexts(FixtureSet set) {
        return strings(set.expected().get("itm").get("texts"));
    }

    static String key(FixtureSet set, String image) {
        return set.image(image).toAbsolutePath().normalize().toString();
    }

    /**
     * Which images decode to exactly the fixture's pixel values at the model's size: only for
     * those are the reference's scores the expected scores (lossy sources decode differently).
     */
    static boolean[] exact(FixtureSet set, Blip blip, List<String> images) {
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
