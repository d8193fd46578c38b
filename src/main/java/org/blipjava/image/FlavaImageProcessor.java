package org.blipjava.image;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;

/**
 * FLAVA's image preprocessing, as the image branch of transformers' {@code FlavaImageProcessor}:
 * resize to exactly {@code size} ({@code {"height", "width"}}, or an integer for a square) with
 * Pillow's filter, centre crop to {@code crop_size} (zero-padded where smaller), then
 * {@code float32(v * rescale_factor)} and {@code (x - mean) / std} in float32, channel-first.
 *
 * <p>Unlike the reference, every image is converted to RGB first ({@link RgbImage} always is):
 * the reference passes grayscale and RGBA images through unconverted and so fails on the former
 * and keeps alpha as a fourth channel on the latter, which is a defect, not a behaviour to copy.
 * The masking ({@code return_image_mask}) and codebook ({@code return_codebook_pixels}) outputs
 * used only for pre-training are not produced; their keys are ignored. Immutable and thread-safe.
 */
public final class FlavaImageProcessor implements ImageProcessor {
    private final CropPipeline pipeline;

    /** A processor with the given settings. */
    public FlavaImageProcessor(CropImageProcessorConfig config) {
        this.pipeline = new CropPipeline(config, "FlavaImageProcessor");
    }

    /** A processor with the defaults of transformers' {@code FlavaImageProcessor()} (224x224, crop 224x224). */
    public static FlavaImageProcessor defaults() {
        return new FlavaImageProcessor(CropImageProcessorConfig.flavaDefaults());
    }

    /**
     * Reads a {@code preprocessor_config.json} (a directory is taken to hold one). Absent keys take
     * the reference's defaults; keys of the masking and codebook outputs are ignored.
     *
     * @throws ImageException naming the file and key when it is missing or a value is malformed
     *                        (including a {@code shortest_edge} size, which FLAVA cannot use)
     */
    public static FlavaImageProcessor read(Path preprocessorConfigJson) {
        Path json = PreprocessorJson.locate(preprocessorConfigJson);
        return fromJson(PreprocessorJson.readObject(json), json.toString());
    }

    static FlavaImageProcessor fromJson(JsonNode root, String source) {
        return new FlavaImageProcessor(
                CropImageProcessorConfig.fromJson(root, source, CropImageProcessorConfig.Family.FLAVA));
    }

    /** The same settings, resizing to exactly {@code height x width} and cropping to the given size. */
    public FlavaImageProcessor withSizes(int height, int width, int cropHeight, int cropWidth) {
        return new FlavaImageProcessor(pipeline.config().withSizes(
                new CropImageProcessorConfig.Exact(height, width), cropHeight, cropWidth));
    }

    /** The settings. */
    public CropImageProcessorConfig config() {
        return pipeline.config();
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalStateException when both resize and centre crop are off
     */
    @Override
    public int height() {
        return pipeline.fixedHeight();
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalStateException when both resize and centre crop are off
     */
    @Override
    public int width() {
        return pipeline.fixedWidth();
    }

    @Override
    public int outputHeight(RgbImage image) {
        return pipeline.outputHeight(image);
    }

    @Override
    public int outputWidth(RgbImage image) {
        return pipeline.outputWidth(image);
    }

    @Override
    public float[] preprocess(RgbImage image) {
        return pipeline.preprocess(image);
    }

    @Override
    public float[] preprocessBatch(List<RgbImage> images) {
        return pipeline.preprocessBatch(images);
    }

    @Override
    public String toString() {
        return "FlavaImageProcessor[" + pipeline.config() + "]";
    }
}
