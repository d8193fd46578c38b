package org.blipjava.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.blipjava.config.ConfigException;

/**
 * A model's {@code preprocessor_config.json}, with the defaults of transformers'
 * {@code BlipImageProcessor}.
 *
 * @param doResize      resize to {@code height x width} first
 * @param height        target height in pixels
 * @param width         target width in pixels
 * @param resample      the Pillow filter ({@code resample}: 3 bicubic, 2 bilinear, 4 box)
 * @param doRescale     multiply the 8-bit samples by {@code rescaleFactor}
 * @param rescaleFactor usually 1/255
 * @param doNormalize   subtract {@code imageMean} and divide by {@code imageStd}, per channel
 * @param imageMean     per-channel mean (R, G, B)
 * @param imageStd      per-channel standard deviation (R, G, B)
 * @param doConvertRgb  convert to RGB first (decoded images always are RGB; kept for round-tripping)
 */
public record ImageProcessorConfig(
        boolean doResize,
        int height,
        int width,
        ResampleFilter resample,
        boolean doRescale,
        double rescaleFactor,
        boolean doNormalize,
        double[] imageMean,
        double[] imageStd,
        boolean doConvertRgb) {

    /** transformers' OPENAI_CLIP_MEAN. */
    private static final double[] CLIP_MEAN = {0.48145466, 0.4578275, 0.40821073};
    /** transformers' OPENAI_CLIP_STD. */
    private static final double[] CLIP_STD = {0.26862954, 0.26130258, 0.27577711};
    private static final int DEFAULT_SIZE = 384;

    public ImageProcessorConfig {
        if (height <= 0 || width <= 0) {
            throw new IllegalArgumentException("image size must be positive, got " + height + "x" + width);
        }
        if (resample == null) {
            throw new IllegalArgumentException("resample must not be null");
        }
        imageMean = PixelNormalizer.checkedMean(imageMean);
        imageStd = PixelNormalizer.checkedStd(imageStd);
    }

    @Override
    public double[] imageMean() {
        return imageMean.clone();
    }

    @Override
    public double[] imageStd() {
        return imageStd.clone();
    }

    /** The defaults of transformers' {@code BlipImageProcessor()}: 384x384 bicubic, CLIP mean/std. */
    public static ImageProcessorConfig defaults() {
        return new ImageProcessorConfig(true, DEFAULT_SIZE, DEFAULT_SIZE, ResampleFilter.BICUBIC,
                true, 1.0 / 255, true, CLIP_MEAN, CLIP_STD, true);
    }

    /** The same settings with another target size. */
    public ImageProcessorConfig withSize(int height, int width) {
        return new ImageProcessorConfig(doResize, height, width, resample, doRescale, rescaleFactor,
                doNormalize, imageMean, imageStd, doConvertRgb);
    }

    /**
     * Reads {@code preprocessor_config.json}; a directory is taken to hold one. Absent fields take
     * the defaults; errors name the file and the field.
     */
    public static ImageProcessorConfig read(Path file) {
        Path json = Files.isDirectory(file) ? file.resolve("preprocessor_config.json") : file;
        if (!Files.isRegularFile(json)) {
            throw new ConfigException(json + ": not found; a model directory needs preprocessor_config.json"
                    + " (or use ImageProcessorConfig.defaults())");
        }
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(json.toFile());
        } catch (IOException e) {
            throw new ConfigException(json + ": not valid JSON: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw new ConfigException(json + ": not a JSON object");
        }
        return fromJson(root, json.toString());
    }

    /** Parses a preprocessor_config.json tree; {@code source} names it in errors. */
    public static ImageProcessorConfig fromJson(JsonNode root, String source) {
        ImageProcessorConfig d = defaults();
        int height = d.height;
        int width = d.width;
        JsonNode size = root.get("size");
        if (size != null && !size.isNull()) {
            if (size.isIntegralNumber()) {
                height = positive(size.asInt(), source, "size");
                width = height;
            } else if (size.isObject() && size.has("height") && size.has("width")) {
                height = positive(intField(size, "height", source, "size.height"), source, "size.height");
                width = positive(intField(size, "width", source, "size.width"), source, "size.width");
            } else {
                throw new ConfigException(source + ": field 'size' must be an integer or {\"height\": h, \"width\": w},"
                        + " got " + size);
            }
        }
        ResampleFilter resample = d.resample;
        JsonNode rs = root.get("resample");
        if (rs != null && !rs.isNull()) {
            if (!rs.isIntegralNumber()) {
                throw new ConfigException(source + ": field 'resample' must be a PIL filter code, got " + rs);
            }
            try {
                resample = ResampleFilter.fromPilCode(rs.asInt());
            } catch (IllegalArgumentException e) {
                throw new ConfigException(source + ": field 'resample': " + e.getMessage());
            }
        }
        return new ImageProcessorConfig(
                bool(root, "do_resize", d.doResize, source),
                height, width, resample,
                bool(root, "do_rescale", d.doRescale, source),
                number(root, "rescale_factor", d.rescaleFactor, source),
                bool(root, "do_normalize", d.doNormalize, source),
                triple(root, "image_mean", d.imageMean, source),
                triple(root, "image_std", d.imageStd, source),
                bool(root, "do_convert_rgb", d.doConvertRgb, source));
    }

    private static int positive(int v, String source, String field) {
        if (v <= 0) {
            throw new ConfigException(source + ": field '" + field + "' must be positive, got " + v);
        }
        return v;
    }

    private static int intField(JsonNode node, String key, String source, String field) {
        JsonNode v = node.get(key);
        if (v == null || !v.isIntegralNumber()) {
            throw new ConfigException(source + ": field '" + field + "' must be an integer, got " + v);
        }
        return v.asInt();
    }

    private static boolean bool(JsonNode root, String key, boolean dflt, String source) {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isBoolean()) {
            throw new ConfigException(source + ": field '" + key + "' must be true or false, got " + v);
        }
        return v.asBoolean();
    }

    private static double number(JsonNode root, String key, double dflt, String source) {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isNumber()) {
            throw new ConfigException(source + ": field '" + key + "' must be a number, got " + v);
        }
        return v.asDouble();
    }

    /** A list of three numbers, or one number for all channels (transformers accepts both). */
    private static double[] triple(JsonNode root, String key, double[] dflt, String source) {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (v.isNumber()) {
            return new double[] {v.asDouble(), v.asDouble(), v.asDouble()};
        }
        if (!v.isArray() || v.size() != 3) {
            throw new ConfigException(source + ": field '" + key + "' must be 3 numbers (R, G, B), got " + v);
        }
        double[] out = new double[3];
        for (int i = 0; i < 3; i++) {
            if (!v.get(i).isNumber()) {
                throw new ConfigException(source + ": field '" + key + "' must be 3 numbers (R, G, B), got " + v);
            }
            out[i] = v.get(i).asDouble();
        }
        if (key.equals("image_std") && (out[0] == 0 || out[1] == 0 || out[2] == 0)) {
            throw new ConfigException(source + ": field 'image_std' must not contain 0, got " + v);
        }
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ImageProcessorConfig c && c.doResize == doResize && c.height == height
                && c.width == width && c.resample == resample && c.doRescale == doRescale
                && Double.compare(c.rescaleFactor, rescaleFactor) == 0 && c.doNormalize == doNormalize
                && java.util.Arrays.equals(c.imageMean, imageMean) && java.util.Arrays.equals(c.imageStd, imageStd)
                && c.doConvertRgb == doConvertRgb;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(doResize, height, width, resample, doRescale, rescaleFactor, doNormalize,
                java.util.Arrays.hashCode(imageMean), java.util.Arrays.hashCode(imageStd), doConvertRgb);
    }

    @Override
    public String toString() {
        return "ImageProcessorConfig[doResize=" + doResize + ", size=" + height + "x" + width + ", resample="
                + resample + ", doRescale=" + doRescale + ", rescaleFactor=" + rescaleFactor + ", doNormalize="
                + doNormalize + ", imageMean=" + java.util.Arrays.toString(imageMean) + ", imageStd="
                + java.util.Arrays.toString(imageStd) + ", doConvertRgb=" + doConvertRgb + "]";
    }
}
