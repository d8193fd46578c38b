package org.blipjava.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.blipjava.checkpoint.SafetensorsFile;
import org.blipjava.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link FlavaImageProcessor} against the reference's {@code flava/pixel_values/{size}/{image}} for
 * every size and RGB image that expected.json lists, from every FLAVA model's preprocessor config,
 * at size {S, S} and crop {S, S}; images the reference cannot process (listed under
 * {@code flava_pixel_values_not_a_target}) must still come out as three channels.
 */
class FlavaImageProcessorTest {

    @TempDir
    Path tmp;

    @Test
    void matchesReferencePixelValuesForEveryListedSizeImageAndFlavaModel() throws IOException {
        int compared = 0;
        for (Fixtures.FixtureSet set : Fixtures.sets(Fixtures.Kind.FLAVA)) {
            JsonNode expected = set.expected();
            JsonNode skip = expected.path("flava_pixel_values_not_a_target");
            List<Path> models = ClipImageProcessorTest.modelsOf(set, p -> p instanceof FlavaImageProcessor);
            assertThat(models).as("models with a FLAVA preprocessor config in " + set.name()).isNotEmpty();
            assertThat(expected.path("flava_pixel_sizes")).as("flava_pixel_sizes in " + set.name()).isNotEmpty();
            List<String> failures = new ArrayList<>();
            try (SafetensorsFile tensors = set.openTensors()) {
                for (Path model : models) {
                    FlavaImageProcessor base = FlavaImageProcessor.read(model.resolve("preprocessor_config.json"));
                    for (JsonNode sizeNode : expected.path("flava_pixel_sizes")) {
                        int s = sizeNode.asInt();
                        // The reference output is S x S; the generator set size and crop_size both to S
                        // (with size S the crop must be S too for an S x S result to be a crop at all).
                        FlavaImageProcessor p = base.withSizes(s, s, s, s);
                        for (JsonNode imageNode : expected.path("images")) {
                            String image = imageNode.asText();
                            if (skip.has(image)) {
                                continue;
                            }
                            compared += ClipImageProcessorTest.compare(set, tensors,
                                    "flava/pixel_values/" + s + "/" + image, image, p, failures,
                                    model.getFileName() + " ");
                        }
                    }
                }
            }
            assertThat(failures).as("FLAVA pixel_values mismatches in " + set.name()).isEmpty();
        }
        assertThat(compared).as("FLAVA pixel_values compared").isPositive();
    }

    @Test
    void imagesTheReferenceCannotProcessComeOutAsThreeChannels() throws IOException {
        // A set may list no such image; then there is nothing to check here.
        for (Fixtures.FixtureSet set : Fixtures.sets(Fixtures.Kind.FLAVA)) {
            JsonNode expected = set.expected();
            for (Path model : ClipImageProcessorTest.modelsOf(set, p -> p instanceof FlavaImageProcessor)) {
                FlavaImageProcessor base = FlavaImageProcessor.read(model);
                for (JsonNode sizeNode : expected.path("flava_pixel_sizes")) {
                    int s = sizeNode.asInt();
                    FlavaImageProcessor p = base.withSizes(s, s, s, s);
                    for (var it = expected.path("flava_pixel_values_not_a_target").fieldNames(); it.hasNext(); ) {
                        String image = it.next();
                        RgbImage rgb = Images.read(set.image(image));
                        float[] out = p.preprocess(rgb);
                        assertThat(out).as(image).hasSize(3 * s * s);
                        for (float v : out) {
                            assertThat(Float.isFinite(v)).as(image).isTrue();
                        }
                        assertThat(p.preprocessBatch(List.of(rgb, rgb))).hasSize(2 * 3 * s * s);
                    }
                }
            }
        }
    }

    @Test
    void legacyIntegerAndDictSizesAreSquaresOrExact() throws IOException {
        CropImageProcessorConfig legacy = FlavaImageProcessor.read(write("legacy.json",
                "{\"size\": 40, \"crop_size\": 36}")).config();
        assertThat(legacy.size()).isEqualTo(new CropImageProcessorConfig.Exact(40, 40));
        assertThat(legacy.cropHeight()).isEqualTo(36);
        assertThat(legacy.cropWidth()).isEqualTo(36);
        CropImageProcessorConfig dict = FlavaImageProcessor.read(write("dict.json",
                "{\"size\": {\"height\": 40, \"width\": 40}, \"crop_size\": {\"height\": 36, \"width\": 36},"
                        + " \"codebook_size\": {\"height\": 112, \"width\": 112}, \"codebook_resample\": 1,"
                        + " \"return_image_mask\": false}")).config();
        assertThat(dict).isEqualTo(legacy);
        assertThat(FlavaImageProcessor.read(write("empty.json", "{}")).config())
                .isEqualTo(CropImageProcessorConfig.flavaDefaults());
        FlavaImageProcessor p = new FlavaImageProcessor(legacy);
        assertThat(p.height()).isEqualTo(36);
        assertThat(p.width()).isEqualTo(36);
    }

    @Test
    void shortestEdgeIsRefusedBecauseFlavaResizesExactly() throws IOException {
        Path f = write("se.json", "{\"size\": {\"shortest_edge\": 224}}");
        assertThatThrownBy(() -> FlavaImageProcessor.read(f)).isInstanceOf(ImageException.class)
                .hasMessageContaining(f.toString()).hasMessageContaining("'size'")
                .hasMessageContaining("height");
    }

    @Test
    void resizesExactlyThenCropsWithPadding() {
        // Resize 9x4 to 6 wide x 3 high, then crop 5 high x 4 wide: one zero row above, one below,
        // one column cut on each side.
        RgbImage img = ClipImageProcessorTest.gradient(9, 4);
        FlavaImageProcessor p = FlavaImageProcessor.defaults().withSizes(3, 6, 5, 4);
        RgbImage want = CenterCrop.apply(BicubicResampler.resize(img, 6, 3), 5, 4);
        for (int x = 0; x < 4; x++) {
            assertThat(want.sample(x, 0, 0)).isZero();
            assertThat(want.sample(x, 4, 0)).isZero();
        }
        CropImageProcessorConfig c = p.config();
        FlavaImageProcessor identity = new FlavaImageProcessor(new CropImageProcessorConfig(false, c.size(),
                c.resample(), false, 5, 4, true, c.rescaleFactor(), true, c.imageMean(), c.imageStd(), true));
        assertThat(p.preprocess(img)).containsExactly(identity.preprocess(want));
    }

    private Path write(String name, String json) throws IOException {
        return Files.writeString(tmp.resolve(name), json);
    }
}
