package org.blipjava.image;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * The settings of a resize-then-centre-crop image processor, as {@code preprocessor_config.json}
 * gives them to transformers' {@code CLIPImageProcessor} and {@code FlavaImageProcessor}: resize
 * (shortest edge or exact size), Pillow filter, centre crop, rescale, normalize.
 *
 * @param doResize      resize first, by {@code size}
 * @param size          how the image is resized: {@link ShortestEdge} (CLIP) or {@link Exact}
 * @param resample      the Pillow filter ({@code resample}: 3 bicubic, 2 bilinear, 4 box)
 * @param doCenterCrop  crop the centre {@code cropHeight x cropWidth} (zero-padded where smaller)
 * @param cropHeight    crop height in pixels
 * @param cropWidth     crop width in pixels
 * @param doRescale     multiply the 8-bit samples by {@code rescaleFactor}
 * @param rescaleFactor usually 1/255
 * @param doNormalize   subtract {@code imageMean} and divide by {@code imageStd}, per channel
 * @param imageMean     per-channel mean (R, G, B)
 * @param imageStd      per-channel standard deviation (R, G, B)
 * @param doConvertRgb  convert to RGB first; decoded {@link RgbImage}s always are RGB, so this is
 *                      kept for round-tripping only (the processors always work on RGB)
 */
public record CropImageProcessorConfig(
        boolean doResize,
        Resize size,
        ResampleFilter resample,
        boolean doCenterCrop,
        int cropHeight,
        int cropWidth,
        boolean doRescale,
        double rescaleFactor,
        boolean doNormalize,
        double[] imageMean,
        double[] imageStd,
        boolean doConvertRgb) {

    /** transformers' OPENAI_CLIP_MEAN, also FLAVA's default. */
    static final double[] CLIP_MEAN = {0.48145466, 0.4578275, 0.40821073};
    /** transformers' OPENAI_CLIP_STD, also FLAVA's default. */
    static final double[] CLIP_STD = {0.26862954, 0.26130258, 0.27577711};
    private static final int DEFAULT_SIZE = 224;

    /** How the image is resized before the crop. */
    public sealed interface Resize permits ShortestEdge, Exact {
        /** Output height for an input of {@code inHeight x inWidth} (rows x columns). */
        int outputHeight(int inHeight, int inWidth);

        /** Output width for an input of {@code inHeight x inWidth}. */
        int outputWidth(int inHeight, int inWidth);
    }

    /**
     * The shorter edge becomes {@code edge}, the longer {@code int(edge * long / short)}: truncated,
     * never rounded up, as transformers' {@code get_resize_output_image_size} with
     * {@code default_to_square=False} computes it (a square stays square).
     */
    public record ShortestEdge(int edge) implements Resize {
        public ShortestEdge {
            if (edge <= 0) {
                throw new IllegalArgumentException("shortest_edge must be positive, got " + edge);
            }
        }

        @Override
        public int outputHeight(int inHeight, int inWidth) {
            return inWidth <= inHeight ? longEdge(inHeight, inWidth) : edge;
        }

        @Override
        public int outputWidth(int inHeight, int inWidth) {
            return inWidth <= inHeight ? edge : longEdge(inHeight, inWidth);
        }

        private int longEdge(int inHeight, int inWidth) {
            int shortSide = Math.min(inHeight, inWidth);
            int longSide = Math.max(inHeight, inWidth);
            // Python's int * int / int: an exact product, one correctly rounded division, then int()
            // truncates; both operands are below 2^53 so double reproduces it.
            double v = (double) ((long) edge * longSide) / shortSide;
            return Math.toIntExact((long) v);
        }
    }

    /** Exactly {@code height x width}, the aspect ratio not kept. */
    public record Exact(int height, int width) implements Resize {
        public Exact {
            if (height <= 0 || width <= 0) {
                throw new IllegalArgumentException("size must be positive, got " + height + "x" + width);
            }
        }

        @Override
        public int outputHeight(int inHeight, int inWidth) {
            return height;
        }

        @Override
        public int outputWidth(int inHeight, int inWidth) {
            return width;
        }
    }

    public CropImageProcessorConfig {
        Objects.requireNonNull(size, "size");
        Objects.requireNonNull(resample, "resample");
        if (cropHeight <= 0 || cropWidth <= 0) {
            throw new IllegalArgumentException("crop size must be positive, got " + cropHeight + "x" + cropWidth);
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

    /** The defaults of transformers' {@code CLIPImageProcessor()}: shortest edge 224, crop 224x224. */
    public static CropImageProcessorConfig clipDefaults() {
        return new CropImageProcessorConfig(true, new ShortestEdge(DEFAULT_SIZE), ResampleFilter.BICUBIC, true,
                DEFAULT_SIZE, DEFAULT_SIZE, true, 1.0 / 255, true, CLIP_MEAN, CLIP_STD, true);
    }

    /** The defaults of transformers' {@code FlavaImageProcessor()}: 224x224, crop 224x224, CLIP mean/std. */
    public static CropImageProcessorConfig flavaDefaults() {
        return new CropImageProcessorConfig(true, new Exact(DEFAULT_SIZE, DEFAULT_SIZE), ResampleFilter.BICUBIC,
                true, DEFAULT_SIZE, DEFAULT_SIZE, true, 1.0 / 255, true, CLIP_MEAN, CLIP_STD, true);
    }

    /** The same settings with another resize rule and crop size. */
    public CropImageProcessorConfig withSizes(Resize newSize, int newCropHeight, int newCropWidth) {
        return new CropImageProcessorConfig(doResize, newSize, resample, doCenterCrop, newCropHeight, newCropWidth,
                doRescale, rescaleFactor, doNormalize, imageMean, imageStd, doConvertRgb);
    }

    /** Which reference class a file is read for: they differ in defaults and in what an integer size means. */
    enum Family {
        /** {@code "size": N} is the shortest edge; {@code {"height","width"}} is also accepted. */
        CLIP,
        /** {@code "size": N} is N x N; only exact sizes are accepted, as FlavaImageProcessor.resize requires. */
        FLAVA
    }

    /** Parses a preprocessor_config.json tree; {@code source} names it in errors. */
    static CropImageProcessorConfig fromJson(JsonNode root, String source, Family family) {
        CropImageProcessorConfig d = family == Family.CLIP ? clipDefaults() : flavaDefaults();
        Resize size = d.size;
        if (PreprocessorJson.present(root, "size")) {
            size = resize(root.get("size"), source, family);
        }
        Exact crop = new Exact(d.cropHeight, d.cropWidth);
        if (PreprocessorJson.present(root, "crop_size")) {
            crop = exact(root.get("crop_size"), source, "crop_size");
        }
        return new CropImageProcessorConfig(
                PreprocessorJson.bool(root, "do_resize", d.doResize, source),
                size,
                PreprocessorJson.resample(root, source),
                PreprocessorJson.bool(root, "do_center_crop", d.doCenterCrop, source),
                crop.height(), crop.width(),
                PreprocessorJson.bool(root, "do_rescale", d.doRescale, source),
                PreprocessorJson.number(root, "rescale_factor", d.rescaleFactor, source),
                PreprocessorJson.bool(root, "do_normalize", d.doNormalize, source),
                PreprocessorJson.triple(root, "image_mean", d.imageMean, source, false),
                PreprocessorJson.triple(root, "image_std", d.imageStd, source, true),
                PreprocessorJson.bool(root, "do_convert_rgb", d.doConvertRgb, source));
    }

    /**
     * {@code size} as transformers' {@code get_size_dict} reads it: an integer (CLIP: shortest edge,
     * FLAVA: square), {@code [height, width]}, or a dict with exactly the keys {@code height, width}
     * or {@code shortest_edge} (CLIP only; a {@code longest_edge} beside it is accepted and, as
     * CLIPImageProcessor.resize does, ignored).
     */
    private static Resize resize(JsonNode v, String source, Family family) {
        if (v.isIntegralNumber()) {
            int n = PreprocessorJson.positive(v, source, "size");
            return family == Family.CLIP ? new ShortestEdge(n) : new Exact(n, n);
        }
        if (v.isObject() && v.has("shortest_edge")) {
            Set<String> keys = keys(v);
            boolean clipForm = keys.equals(Set.of("shortest_edge")) || keys.equals(Set.of("shortest_edge", "longest_edge"));
            if (family == Family.CLIP && clipForm) {
                return new ShortestEdge(PreprocessorJson.positive(v.get("shortest_edge"), source, "size.shortest_edge"));
            }
            if (family == Family.FLAVA) {
                throw new ImageException(source + ": key 'size' is " + v + ", but FlavaImageProcessor resizes to an"
                        + " exact size; write {\"height\": h, \"width\": w} or an integer");
            }
        }
        return exact(v, source, "size");
    }

    /** An exact size: an integer N (N x N), {@code [height, width]} or {@code {"height": h, "width": w}}. */
    private static Exact exact(JsonNode v, String source, String key) {
        if (v.isIntegralNumber()) {
            int n = PreprocessorJson.positive(v, source, key);
            return new Exact(n, n);
        }
        if (v.isArray() && v.size() == 2) {
            return new Exact(PreprocessorJson.positive(v.get(0), source, key + "[0]"),
                    PreprocessorJson.positive(v.get(1), source, key + "[1]"));
        }
        if (v.isObject() && keys(v).equals(Set.of("height", "width"))) {
            return new Exact(PreprocessorJson.positive(v.get("height"), source, key + ".height"),
                    PreprocessorJson.positive(v.get("width"), source, key + ".width"));
        }
        throw new ImageException(source + ": key '" + key + "' must be an integer, [height, width] or"
                + " {\"height\": h, \"width\": w}" + (key.equals("size") ? " (CLIP also {\"shortest_edge\": n})" : "")
                + ", got " + v);
    }

    private static Set<String> keys(JsonNode object) {
        Set<String> out = new TreeSet<>();
        for (Iterator<String> it = object.fieldNames(); it.hasNext(); ) {
            out.add(it.next());
        }
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CropImageProcessorConfig c && c.doResize == doResize && c.size.equals(size)
                && c.resample == resample && c.doCenterCrop == doCenterCrop && c.cropHeight == cropHeight
                && c.cropWidth == cropWidth && c.doRescale == doRescale
                && Double.compare(c.rescaleFactor, rescaleFactor) == 0 && c.doNormalize == doNormalize
                && Arrays.equals(c.imageMean, imageMean) && Arrays.equals(c.imageStd, imageStd)
                && c.doConvertRgb == doConvertRgb;
    }

    @Override
    public int hashCode() {
        return Objects.hash(doResize, size, resample, doCenterCrop, cropHeight, cropWidth, doRescale, rescaleFactor,
                doNormalize, Arrays.hashCode(imageMean), Arrays.hashCode(imageStd), doConvertRgb);
    }

    @Override
    public String toString() {
        return "CropImageProcessorConfig[doResize=" + doResize + ", size=" + size + ", resample=" + resample
                + ", doCenterCrop=" + doCenterCrop + ", crop=" + cropHeight + "x" + cropWidth + ", doRescale="
                + doRescale + ", rescaleFactor=" + rescaleFactor + ", doNormalize=" + doNormalize + ", imageMean="
                + Arrays.toString(imageMean) + ", imageStd=" + Arrays.toString(imageStd) + ", doConvertRgb="
                + doConvertRgb + "]";
    }
}
