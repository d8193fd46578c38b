package org.blipjava.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.blipjava.checkpoint.SafetensorsFile;
import org.blipjava.checkpoint.TensorData;
import org.blipjava.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ClipImageProcessor} against the reference's {@code clip/pixel_values/{shortest}x{crop}/{image}}
 * for every size and image that expected.json lists, from every CLIP model's preprocessor config;
 * plus config parsing (legacy and dict forms), the centre crop's padding and
 * {@link ImageProcessor#fromPretrained} dispatch.
 */
class ClipImageProcessorTest {

    /** Lossless sources give bit-identical 8-bit pixels, so only float rounding remains. */
    static final double LOSSLESS_MAX_ABS = 1e-5;
    /** Lossy decoders differ slightly between libjpeg builds. */
    static final double LOSSY_MEAN_ABS = 0.01;

    @TempDir
    Path tmp;

    // ---- parity with the reference fixtures ----

    @Test
    void matchesReferencePixelValuesForEveryListedSizeImageAndClipModel() throws IOException {
        int compared = 0;
        for (Fixtures.FixtureSet set : Fixtures.sets(Fixtures.Kind.CLIP)) {
            JsonNode expected = set.expected();
            JsonNode skip = expected.path("clip_pixel_values_not_a_target");
            List<Path> models = modelsOf(set, p -> p instanceof ClipImageProcessor);
            assertThat(models).as("models with a CLIP preprocessor config in " + set.name()).isNotEmpty();
            assertThat(expected.path("clip_pixel_sizes")).as("clip_pixel_sizes in " + set.name()).isNotEmpty();
            List<String> failures = new ArrayList<>();
            try (SafetensorsFile tensors = set.openTensors()) {
                for (Path model : models) {
                    ClipImageProcessor base = ClipImageProcessor.read(model.resolve("preprocessor_config.json"));
                    for (JsonNode size : expected.path("clip_pixel_sizes")) {
                        int edge = size.path("shortest_edge").asInt();
                        int crop = squareCrop(size.path("crop"));
                        ClipImageProcessor p = base.withSizes(edge, crop, crop);
                        for (JsonNode imageNode : expected.path("images")) {
                            String image = imageNode.asText();
                            if (skip.has(image)) {
                                continue;
                            }
                            String name = "clip/pixel_values/" + edge + "x" + crop + "/" + image;
                            compared += compare(set, tensors, name, image, p, failures,
                                    model.getFileName() + " ");
                        }
                    }
                }
            }
            assertThat(failures).as("CLIP pixel_values mismatches in " + set.name()).isEmpty();
        }
        assertThat(compared).as("CLIP pixel_values compared").isPositive();
    }

    /** {@code crop} of a clip_pixel_sizes entry: an integer, or a square {height, width}. */
    private static int squareCrop(JsonNode crop) {
        if (crop.isIntegralNumber()) {
            return crop.asInt();
        }
        assertThat(crop.path("height").asInt()).as("crop " + crop + " must be square").isEqualTo(crop.path("width").asInt());
        return crop.path("height").asInt();
    }

    /** Models of a set whose preprocessor config {@link ImageProcessor#fromPretrained} reads as {@code kind}. */
    static List<Path> modelsOf(Fixtures.FixtureSet set, Predicate<ImageProcessor> kind) throws IOException {
        try (Stream<Path> s = Files.list(set.dir().resolve("models"))) {
            return s.sorted().filter(m -> Files.isRegularFile(m.resolve("preprocessor_config.json")))
                    .filter(m -> kind.test(ImageProcessor.fromPretrained(m))).toList();
        }
    }

    /** Compares one image with its reference tensor; returns 1, adding a line to failures on mismatch. */
    static int compare(Fixtures.FixtureSet set, SafetensorsFile tensors, String tensor, String image,
                       ImageProcessor p, List<String> failures, String label) throws IOException {
        Path file = set.image(image);
        TensorData want = tensors.get(tensor);
        float[] got = p.preprocess(Images.read(file));
        assertThat(want.intShape()).as(tensor).containsExactly(3, p.height(), p.width());
        float[] ref = want.toFloatArray();
        assertThat(got).as(tensor).hasSameSizeAs(ref);
        boolean lossy = BlipImageProcessorParityTest.isLossy(Files.readAllBytes(file));
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
            failures.add(label + tensor + (lossy ? " (lossy)" : "") + ": max abs " + max + ", mean abs " + mean);
        }
        return 1;
    }

    // ---- config parsing ----

    @Test
    void legacyAndDictConfigsMeanTheSame() throws IOException {
        Path legacy = write("legacy.json", """
                {"feature_extractor_type": "CLIPFeatureExtractor", "size": 40, "crop_size": 36,
                 "do_resize": true, "do_center_crop": true, "do_normalize": true, "resample": 3,
                 "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_std": [0.26862954, 0.26130258, 0.27577711]}
                """);
        Path dict = write("dict.json", """
                {"image_processor_type": "CLIPImageProcessor", "size": {"shortest_edge": 40},
                 "crop_size": {"height": 36, "width": 36}, "do_rescale": true, "rescale_factor": 0.00392156862745098,
                 "do_convert_rgb": true}
                """);
        CropImageProcessorConfig a = ClipImageProcessor.read(legacy).config();
        CropImageProcessorConfig b = ClipImageProcessor.read(dict).config();
        assertThat(a.size()).isEqualTo(new CropImageProcessorConfig.ShortestEdge(40));
        assertThat(a.cropHeight()).isEqualTo(36);
        assertThat(a.cropWidth()).isEqualTo(36);
        assertThat(a.rescaleFactor()).isEqualTo(1.0 / 255);
        assertThat(a).isEqualTo(b);
        assertThat(ClipImageProcessor.read(legacy).height()).isEqualTo(36);
    }

    @Test
    void readsFlagsExactSizesAndDefaults() throws IOException {
        CropImageProcessorConfig c = ClipImageProcessor.read(write("p.json", """
                {"size": {"height": 20, "width": 30}, "crop_size": [10, 12], "do_center_crop": false,
                 "do_rescale": false, "do_normalize": false, "resample": 2, "image_mean": 0.5, "image_std": 0.25}
                """)).config();
        assertThat(c.size()).isEqualTo(new CropImageProcessorConfig.Exact(20, 30));
        assertThat(c.cropHeight()).isEqualTo(10);
        assertThat(c.cropWidth()).isEqualTo(12);
        assertThat(c.doCenterCrop()).isFalse();
        assertThat(c.doRescale()).isFalse();
        assertThat(c.doNormalize()).isFalse();
        assertThat(c.resample()).isEqualTo(ResampleFilter.BILINEAR);
        assertThat(c.imageMean()).containsExactly(0.5, 0.5, 0.5);
        assertThat(c.imageStd()).containsExactly(0.25, 0.25, 0.25);
        assertThat(ClipImageProcessor.read(write("empty.json", "{}")).config())
                .isEqualTo(CropImageProcessorConfig.clipDefaults());
    }

    @Test
    void malformedSettingsNameTheFileAndKey() throws IOException {
        Path bad = write("bad.json", "{\"size\": {\"longest_edge\": 40}}");
        assertThatThrownBy(() -> ClipImageProcessor.read(bad)).isInstanceOf(ImageException.class)
                .hasMessageContaining(bad.toString()).hasMessageContaining("'size'");
        Path crop = write("crop.json", "{\"crop_size\": {\"shortest_edge\": 40}}");
        assertThatThrownBy(() -> ClipImageProcessor.read(crop)).isInstanceOf(ImageException.class)
                .hasMessageContaining("'crop_size'");
        Path resample = write("resample.json", "{\"resample\": 1}");
        assertThatThrownBy(() -> ClipImageProcessor.read(resample)).isInstanceOf(ImageException.class)
                .hasMessageContaining("'resample'").hasMessageContaining("lanczos");
        Path std = write("std.json", "{\"image_std\": [1, 0, 1]}");
        assertThatThrownBy(() -> ClipImageProcessor.read(std)).isInstanceOf(ImageException.class)
                .hasMessageContaining("'image_std'");
        assertThatThrownBy(() -> ClipImageProcessor.read(tmp.resolve("absent.json")))
                .isInstanceOf(ImageException.class).hasMessageContaining("absent.json");
    }

    // ---- geometry ----

    @Test
    void shortestEdgeTruncatesTheLongEdge() {
        CropImageProcessorConfig.ShortestEdge e = new CropImageProcessorConfig.ShortestEdge(224);
        // landscape 640x480: 224 * 640 / 480 = 298.67 -> 298
        assertThat(e.outputHeight(480, 640)).isEqualTo(224);
        assertThat(e.outputWidth(480, 640)).isEqualTo(298);
        // portrait 300 wide, 500 high: 224 * 500 / 300 = 373.33 -> 373
        assertThat(e.outputHeight(500, 300)).isEqualTo(373);
        assertThat(e.outputWidth(500, 300)).isEqualTo(224);
        assertThat(e.outputHeight(7, 7)).isEqualTo(224);
        assertThat(e.outputWidth(7, 7)).isEqualTo(224);
        // 3 * 5 / 3 = 5 exactly: no off-by-one from float division
        assertThat(new CropImageProcessorConfig.ShortestEdge(3).outputWidth(3, 5)).isEqualTo(5);
    }

    @Test
    void centerCropOfASmallerImagePadsWithZerosThatAreThenNormalized() {
        // 2 wide, 3 high; crop 6 high, 5 wide: pads 3 columns (2 left, 1 right: ceil(3 / 2) before the
        // image) and 3 rows (2 top, 1 bottom), as transformers' center_crop places the image.
        RgbImage img = gradient(2, 3);
        CropImageProcessorConfig c = CropImageProcessorConfig.clipDefaults();
        CropImageProcessorConfig noResize = new CropImageProcessorConfig(false, c.size(), c.resample(), true, 6, 5,
                true, c.rescaleFactor(), true, c.imageMean(), c.imageStd(), true);
        ClipImageProcessor p = new ClipImageProcessor(noResize);
        float[] out = p.preprocess(img);
        assertThat(out).hasSize(3 * 6 * 5);
        assertThat(p.height()).isEqualTo(6);
        assertThat(p.width()).isEqualTo(5);
        double[] mean = c.imageMean();
        double[] std = c.imageStd();
        for (int ch = 0; ch < 3; ch++) {
            float zero = (0f - (float) mean[ch]) / (float) std[ch];
            for (int y = 0; y < 6; y++) {
                for (int x = 0; x < 5; x++) {
                    int sy = y - 2;
                    int sx = x - 2;
                    boolean inside = sy >= 0 && sy < 3 && sx >= 0 && sx < 2;
                    float want = inside
                            ? ((float) (img.sample(sx, sy, ch) * (1.0 / 255)) - (float) mean[ch]) / (float) std[ch]
                            : zero;
                    assertThat(out[ch * 30 + y * 5 + x]).as("c%d y%d x%d", ch, y, x).isEqualTo(want);
                }
            }
        }
    }

    @Test
    void centerCropTakesTheFloorOffsetAndPadsOneAxisOnly() {
        // 5 wide, 2 high, crop 3 high and 2 wide: left = (5 - 2) // 2 = 1; one zero row on top
        // (top = (2 - 3) // 2 = -1).
        RgbImage img = gradient(5, 2);
        RgbImage crop = CenterCrop.apply(img, 3, 2);
        for (int x = 0; x < 2; x++) {
            for (int ch = 0; ch < 3; ch++) {
                assertThat(crop.sample(x, 0, ch)).isZero();
                assertThat(crop.sample(x, 1, ch)).isEqualTo(img.sample(x + 1, 0, ch));
                assertThat(crop.sample(x, 2, ch)).isEqualTo(img.sample(x + 1, 1, ch));
            }
        }
        assertThat(CenterCrop.apply(img, 2, 5)).isSameAs(img);
    }

    @Test
    void resizesTheShortEdgeThenCropsAsTwoSeparateSteps() {
        RgbImage img = gradient(13, 7);
        ClipImageProcessor p = ClipImageProcessor.defaults().withSizes(5, 4, 3);
        RgbImage resized = BicubicResampler.resize(img, 9, 5); // int(5 * 13 / 7) = 9
        RgbImage cropped = CenterCrop.apply(resized, 4, 3);
        ClipImageProcessor noResize = new ClipImageProcessor(new CropImageProcessorConfig(false,
                p.config().size(), p.config().resample(), false, 4, 3, true, 1.0 / 255, true,
                p.config().imageMean(), p.config().imageStd(), true));
        assertThat(p.preprocess(img)).containsExactly(noResize.preprocess(cropped));
    }

    @Test
    void withoutCropTheSizeFollowsTheImageAndBatchesMustAgree() {
        CropImageProcessorConfig c = CropImageProcessorConfig.clipDefaults();
        ClipImageProcessor p = new ClipImageProcessor(new CropImageProcessorConfig(true,
                new CropImageProcessorConfig.ShortestEdge(4), c.resample(), false, 4, 4, true, c.rescaleFactor(),
                true, c.imageMean(), c.imageStd(), true));
        assertThatThrownBy(p::height).isInstanceOf(IllegalStateException.class).hasMessageContaining("outputHeight");
        assertThat(p.outputWidth(gradient(10, 5))).isEqualTo(8);
        assertThat(p.preprocess(gradient(10, 5))).hasSize(3 * 4 * 8);
        assertThatThrownBy(() -> p.preprocessBatch(List.of(gradient(10, 5), gradient(5, 5))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("image 1");
        assertThatThrownBy(() -> p.preprocessBatch(List.of())).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void batchIsTheConcatenationOfSingleImages() {
        ClipImageProcessor p = ClipImageProcessor.defaults().withSizes(6, 5, 5);
        RgbImage a = gradient(9, 4);
        RgbImage b = gradient(3, 11);
        float[] batch = p.preprocessBatch(List.of(a, b));
        float[] one = p.preprocess(a);
        assertThat(Arrays.copyOfRange(batch, 0, one.length)).containsExactly(one);
        assertThat(Arrays.copyOfRange(batch, one.length, batch.length)).containsExactly(p.preprocess(b));
    }

    // ---- fromPretrained ----

    @Test
    void fromPretrainedPicksTheProcessorTheFileNames() throws IOException {
        assertThat(ImageProcessor.fromPretrained(model("clip", "{\"image_processor_type\": \"CLIPImageProcessor\"}")))
                .isInstanceOf(ClipImageProcessor.class);
        assertThat(ImageProcessor.fromPretrained(model("legacy",
                "{\"feature_extractor_type\": \"CLIPFeatureExtractor\", \"size\": 32, \"crop_size\": 32}")))
                .isInstanceOf(ClipImageProcessor.class);
        assertThat(ImageProcessor.fromPretrained(model("flava", "{\"image_processor_type\": \"FlavaImageProcessor\"}")))
                .isInstanceOf(FlavaImageProcessor.class);
        ImageProcessor blip = ImageProcessor.fromPretrained(model("blip",
                "{\"image_processor_type\": \"BlipImageProcessor\", \"size\": {\"height\": 48, \"width\": 40}}"));
        assertThat(blip).isInstanceOf(BlipImageProcessor.class);
        assertThat(blip.height()).isEqualTo(48);
        assertThat(blip.width()).isEqualTo(40);
        // No type: config.json's model_type decides, as AutoImageProcessor falls back to it.
        Path untyped = model("untyped", "{\"size\": 32}");
        Files.writeString(untyped.resolve("config.json"), "{\"model_type\": \"clip\"}");
        assertThat(ImageProcessor.fromPretrained(untyped)).isInstanceOf(ClipImageProcessor.class);
    }

    @Test
    void unknownOrMissingProcessorTypeIsAClearError() throws IOException {
        Path vit = model("vit", "{\"image_processor_type\": \"ViTImageProcessor\"}");
        assertThatThrownBy(() -> ImageProcessor.fromPretrained(vit)).isInstanceOf(ImageException.class)
                .hasMessageContaining(vit.resolve("preprocessor_config.json").toString())
                .hasMessageContaining("'image_processor_type'").hasMessageContaining("ViTImageProcessor")
                .hasMessageContaining("CLIPImageProcessor");
        Path none = model("none", "{\"size\": 32}");
        assertThatThrownBy(() -> ImageProcessor.fromPretrained(none)).isInstanceOf(ImageException.class)
                .hasMessageContaining("image_processor_type");
        Path notString = model("num", "{\"image_processor_type\": 3}");
        assertThatThrownBy(() -> ImageProcessor.fromPretrained(notString)).isInstanceOf(ImageException.class)
                .hasMessageContaining("'image_processor_type'");
        assertThatThrownBy(() -> ImageProcessor.fromPretrained(tmp.resolve("nowhere")))
                .isInstanceOf(ImageException.class).hasMessageContaining("preprocessor_config.json");
        Path badBlip = model("badblip", "{\"image_processor_type\": \"BlipImageProcessor\", \"size\": \"big\"}");
        assertThatThrownBy(() -> ImageProcessor.fromPretrained(badBlip)).isInstanceOf(ImageException.class)
                .hasMessageContaining("'size'");
    }

    // ---- helpers ----

    private Path write(String name, String json) throws IOException {
        return Files.writeString(tmp.resolve(name), json);
    }

    private Path model(String name, String preprocessorJson) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(name));
        Files.writeString(dir.resolve("preprocessor_config.json"), preprocessorJson);
        return dir;
    }

    /** A deterministic image whose every sample differs from its neighbours. */
    static RgbImage gradient(int w, int h) {
        byte[] rgb = new byte[w * h * 3];
        for (int i = 0; i < rgb.length; i++) {
            rgb[i] = (byte) (i * 37 + 11);
        }
        return new RgbImage(w, h, rgb);
    }
}
