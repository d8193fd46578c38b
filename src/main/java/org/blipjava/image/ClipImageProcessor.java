package org.blipjava.image;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;

/**
 * CLIP's image preprocessing, as transformers' {@code CLIPImageProcessor} (and the older
 * {@code CLIPFeatureExtractor}): resize so the shorter edge is {@code shortest_edge} (the longer
 * one {@code int(shortest_edge * long / short)}) with Pillow's filter on the 8-bit image, centre
 * crop to {@code crop_size} (zero-padded where the resized image is smaller), then
 * {@code float32(v * rescale_factor)} and {@code (x - mean) / std} in float32, channel-first.
 *
 * <p>Both forms of {@code preprocessor_config.json} are read: the legacy one written for OpenAI's
 * checkpoints ({@code "size": 224} meaning the shortest edge, {@code "crop_size": 224} meaning a
 * square) and the newer one ({@code {"shortest_edge": n}}, {@code {"height": h, "width": w}}).
 * A {@code size} of {@code {"height", "width"}} resizes to exactly that size, as the reference does.
 *
 * <p>Images are always RGB ({@link RgbImage}), so {@code do_convert_rgb} changes nothing. Immutable
 * and thread-safe.
 */
public final class ClipImageProcessor implements ImageProcessor {
    private final CropPipeline pipeline;

    /** A processor with the given settings. */
    public ClipImageProcessor(CropImageProcessorConfig config) {
        this.pipeline = new CropPipeline(config, "CLIPImageProcessor");
    }

    /** A processor with the defaults of transformers' {@code CLIPImageProcessor()} (224, crop 224). */
    public static ClipImageProcessor defaults() {
        return new ClipImageProcessor(CropImageProcessorConfig.clipDefaults());
    }

    /**
     * Reads a {@code preprocessor_config.json} (a directory is taken to hold one). Absent keys take
     * the reference's defaults; keys CLIP does not use are ignored.
     *
     * @throws ImageException naming the file and key when it is missing or a value is malformed
     */
    public static ClipImageProcessor read(Path preprocessorConfigJson) {
        Path json = PreprocessorJson.locate(preprocessorConfigJson);
        return fromJson(PreprocessorJson.readObject(json), json.toString());
    }

    static ClipImageProcessor fromJson(JsonNode root, String source) {
        return new ClipImageProcessor(
                CropImageProcessorConfig.fromJson(root, source, CropImageProcessorConfig.Family.CLIP));
    }

    /** The same settings, resizing the shortest edge to {@code shortestEdge} and cropping to the given size. */
    public ClipImageProcessor withSizes(int shortestEdge, int cropHeight, int cropWidth) {
        return new ClipImageProcessor(pipeline.config().withSizes(
                new CropImageProcessorConfig.ShortestEdge(shortestEdge), cropHeight, cropWidth));
    }

    /** The settings. */
    public CropImageProcessorConfig config() {
        return pipeline.config();
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalStateException when the centre crop is off and the size depends on the image
     */
    @Override
    public int height() {
        return pipeline.fixedHeight();
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalStateException when the centre crop is off and the size depends on the image
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
        return "ClipImageProcessor[" + pipeline.config() + "]";
    }
}
