package org.blipjava.image;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.blipjava.config.ConfigException;

/**
 * Turns decoded images into a vision model's {@code pixel_values}: channel-first float32
 * {@code [3, height, width]} planes (R, G, B), rescaled and normalized as the model's
 * {@code preprocessor_config.json} says. Implementations are immutable and thread-safe.
 */
public interface ImageProcessor {

    /**
     * Height of every output: the crop size, or BLIP's size.
     *
     * @throws IllegalStateException when the settings make it depend on the image (resize or crop
     *                               turned off); then use {@link #outputHeight(RgbImage)}
     */
    int height();

    /**
     * Width of every output: the crop size, or BLIP's size.
     *
     * @throws IllegalStateException when the settings make it depend on the image (resize or crop
     *                               turned off); then use {@link #outputWidth(RgbImage)}
     */
    int width();

    /** Height of the output planes for this image (equal to {@link #height()} when that is fixed). */
    int outputHeight(RgbImage image);

    /** Width of the output planes for this image (equal to {@link #width()} when that is fixed). */
    int outputWidth(RgbImage image);

    /** Preprocesses one image to a {@code [3, H, W]} float32 array (R plane, G plane, B plane). */
    float[] preprocess(RgbImage image);

    /**
     * Preprocesses images of any sizes to one {@code [N, 3, H, W]} array, the concatenation of
     * {@link #preprocess} of each.
     *
     * @throws IllegalArgumentException when the list is empty, or the images would come out in
     *                                  different sizes (only possible with resize or crop off)
     */
    float[] preprocessBatch(List<RgbImage> images);

    /**
     * Reads a model folder's {@code preprocessor_config.json} (or that file itself) and returns the
     * processor it names, as transformers' {@code AutoImageProcessor} picks it:
     * {@code image_processor_type}, else {@code feature_extractor_type}, else the {@code model_type}
     * of the folder's {@code config.json}. Known: {@code BlipImageProcessor} ({@code blip}),
     * {@code CLIPImageProcessor} / {@code CLIPFeatureExtractor} ({@code clip}),
     * {@code FlavaImageProcessor} / {@code FlavaFeatureExtractor} ({@code flava}); a {@code Fast}
     * suffix is read as the same processor (its reference is the one reproduced here, as
     * transformers does with {@code use_fast=False}).
     *
     * @throws ImageException naming the file and key when the file is missing, the type is absent
     *                        or unknown, or a setting is malformed
     */
    static ImageProcessor fromPretrained(Path modelDir) {
        Path json = PreprocessorJson.locate(modelDir);
        JsonNode root = PreprocessorJson.readObject(json);
        String source = json.toString();
        String type = null;
        String key = null;
        for (String k : List.of("image_processor_type", "feature_extractor_type")) {
            if (PreprocessorJson.present(root, k)) {
                JsonNode v = root.get(k);
                if (!v.isTextual()) {
                    throw new ImageException(source + ": key '" + k + "' must be a class name string, got " + v);
                }
                type = v.asText();
                key = k;
                break;
            }
        }
        if (type == null) {
            return byModelType(root, json, source);
        }
        String base = type.endsWith("Fast") ? type.substring(0, type.length() - 4) : type;
        return switch (base) {
            case "BlipImageProcessor" -> blip(root, source);
            case "CLIPImageProcessor", "CLIPFeatureExtractor" -> ClipImageProcessor.fromJson(root, source);
            case "FlavaImageProcessor", "FlavaFeatureExtractor" -> FlavaImageProcessor.fromJson(root, source);
            default -> throw new ImageException(source + ": key '" + key + "' names " + type + ", which this"
                    + " library does not implement; supported: BlipImageProcessor, CLIPImageProcessor"
                    + " (CLIPFeatureExtractor), FlavaImageProcessor");
        };
    }

    /** No type in the file: the model's own config decides, as AutoImageProcessor falls back to it. */
    private static ImageProcessor byModelType(JsonNode root, Path json, String source) {
        Path dir = json.toAbsolutePath().getParent();
        Path configJson = dir == null ? null : dir.resolve("config.json");
        String modelType = null;
        if (configJson != null && Files.isRegularFile(configJson)) {
            JsonNode config = PreprocessorJson.readObject(configJson);
            if (config.path("model_type").isTextual()) {
                modelType = config.get("model_type").asText();
            }
        }
        if (modelType == null) {
            throw new ImageException(source + ": has neither 'image_processor_type' nor 'feature_extractor_type',"
                    + " and no config.json with a 'model_type' beside it; add \"image_processor_type\":"
                    + " \"BlipImageProcessor\", \"CLIPImageProcessor\" or \"FlavaImageProcessor\"");
        }
        return switch (modelType.toLowerCase(Locale.ROOT)) {
            case "blip" -> blip(root, source);
            case "clip" -> ClipImageProcessor.fromJson(root, source);
            case "flava" -> FlavaImageProcessor.fromJson(root, source);
            default -> throw new ImageException(source + ": has no 'image_processor_type', and " + configJson
                    + " key 'model_type' is " + modelType + ", whose image processor this library does not"
                    + " implement; add \"image_processor_type\" (BlipImageProcessor, CLIPImageProcessor or"
                    + " FlavaImageProcessor)");
        };
    }

    private static ImageProcessor blip(JsonNode root, String source) {
        try {
            return new BlipImageProcessor(ImageProcessorConfig.fromJson(root, source));
        } catch (ConfigException e) {
            // The message already names the file and key; one exception type for every processor.
            throw new ImageException(e.getMessage(), e);
        }
    }
}
