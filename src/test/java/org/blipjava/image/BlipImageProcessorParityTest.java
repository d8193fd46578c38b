package org.blipjava.image;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.blipjava.checkpoint.SafetensorsFile;
import org.blipjava.checkpoint.TensorData;
import org.blipjava.testing.Fixtures;
import org.junit.jupiter.api.Test;

/**
 * The processor's output against the reference's {@code pixel_values/{size}/{image}} for every
 * image and size that expected.json lists, in every fixture set.
 */
class BlipImageProcessorParityTest {

    /** Lossless sources give bit-identical 8-bit pixels, so only float rounding remains. */
    private static final double LOSSLESS_MAX_ABS = 1e-5;
    /** Lossy decoders differ slightly between libjpeg builds. */
    private static final double LOSSY_MEAN_ABS = 0.01;

    @Test
    void matchesReferencePixelValuesForEveryListedImageAndSize() throws IOException {
        int compared = 0;
        for (Fixtures.FixtureSet set : Fixtures.sets(Fixtures.Kind.BLIP)) {
            JsonNode expected = set.expected();
            ImageProcessorConfig base = ImageProcessorConfig.read(anyPreprocessorConfig(set));
            JsonNode skip = expected.path("pixel_values_not_a_target");
            List<String> failures = new ArrayList<>();
            try (SafetensorsFile tensors = set.openTensors()) {
                for (JsonNode imageNode : expected.path("images")) {
                    String image = imageNode.asText();
                    if (skip.has(image)) {
                        continue;
                    }
                    Path file = set.image(image);
                    RgbImage rgb = Images.read(file);
                    boolean lossy = isLossy(Files.readAllBytes(file));
                    for (JsonNode sizeNode : expected.path("pixel_sizes")) {
                        int size = sizeNode.asInt();
                        TensorData want = tensors.get("pixel_values/" + size + "/" + image);
                        assertThat(want.intShape()).as(image).containsExactly(3, size, size);
                        float[] ref = want.toFloatArray();
                        float[] got = new BlipImageProcessor(base.withSize(size, size)).preprocess(rgb);
                        assertThat(got).as(image).hasSameSizeAs(ref);
                        double max = 0;
                        double sum = 0;
                        for (int i = 0; i < ref.length; i++) {
                            double d = Math.abs(got[i] - ref[i]);
                            max = Math.max(max, d);
                            sum += d;
                        }
                        double mean = sum / ref.length;
                        boolean ok = lossy ? mean < LOSSY_MEAN_ABS : max <= LOSSLESS_MAX_ABS;
                        if (!ok) {
                            failures.add(set.name() + " " + image + " @" + size + (lossy ? " (lossy)" : "")
                                    + ": max abs " + max + ", mean abs " + mean);
                        }
                        compared++;
                    }
                }
            }
            assertThat(failures).as("pixel_values mismatches in " + set.name()).isEmpty();
        }
        assertThat(compared).as("pixel_values compared").isPositive();
    }

    /** The preprocessor config of any model of the set (they share it apart from the size). */
    static Path anyPreprocessorConfig(Fixtures.FixtureSet set) throws IOException {
        try (Stream<Path> models = Files.list(set.dir().resolve("models"))) {
            return models.sorted().map(p -> p.resolve("preprocessor_config.json")).filter(Files::isRegularFile)
                    .findFirst().orElseThrow(() -> new IllegalStateException(
                            "no models/*/preprocessor_config.json in " + set.dir()));
        }
    }

    /** JPEG, and WebP other than its lossless (VP8L) form, decode differently across libraries. */
    static boolean isLossy(byte[] b) {
        if (b.length > 2 && (b[0] & 0xff) == 0xFF && (b[1] & 0xff) == 0xD8) {
            return true;
        }
        if (b.length > 16 && b[0] == 'R' && b[1] == 'I' && b[2] == 'F' && b[3] == 'F'
                && b[8] == 'W' && b[9] == 'E' && b[10] == 'B' && b[11] == 'P') {
            // VP8X may precede the image chunk; look for the lossless chunk anywhere.
            for (int i = 12; i + 4 <= b.length; i++) {
                if (b[i] == 'V' && b[i + 1] == 'P' && b[i + 2] == '8' && b[i + 3] == 'L') {
                    return false;
                }
            }
            return true;
        }
        return false;
    }
}
