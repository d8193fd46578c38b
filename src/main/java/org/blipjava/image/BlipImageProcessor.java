package org.blipjava.image;

import java.nio.file.Path;
import java.util.List;

/**
 * BLIP's image preprocessing, as transformers' {@code BlipImageProcessor}: resize the 8-bit RGB
 * image to exactly {@code height x width} with Pillow's filter, then per sample
 * {@code float32(v * rescale_factor)} (the product in double, as numpy's float64 rescale), then
 * {@code (x - mean) / std} in float32, laid out channel-first.
 *
 * <p>Immutable and thread-safe.
 */
public final class BlipImageProcessor implements ImageProcessor {
    private final ImageProcessorConfig config;
    private final PixelNormalizer normalizer;

    /** A processor with the given settings. */
    public BlipImageProcessor(ImageProcessorConfig config) {
        this.config = config;
        this.normalizer = new PixelNormalizer(config.doRescale(), config.rescaleFactor(), config.doNormalize(),
                config.imageMean(), config.imageStd());
    }

    /** A processor reading {@code preprocessor_config.json} from a model directory (or that file). */
    public static BlipImageProcessor fromPretrained(Path modelDirOrFile) {
        return new BlipImageProcessor(ImageProcessorConfig.read(modelDirOrFile));
    }

    /** The settings. */
    public ImageProcessorConfig config() {
        return config;
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalStateException when {@code do_resize} is off (each output keeps its image's size)
     */
    @Override
    public int height() {
        requireResize();
        return config.height();
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalStateException when {@code do_resize} is off (each output keeps its image's size)
     */
    @Override
    public int width() {
        requireResize();
        return config.width();
    }

    private void requireResize() {
        if (!config.doResize()) {
            throw new IllegalStateException("BlipImageProcessor has no fixed output size: do_resize is off, so each"
                    + " output keeps its image's size; ask outputHeight(image)/outputWidth(image)");
        }
    }

    /** Height of the output planes: the configured size, or the input's when resizing is off. */
    @Override
    public int outputHeight(RgbImage image) {
        return config.doResize() ? config.height() : image.height();
    }

    /** Width of the output planes: the configured size, or the input's when resizing is off. */
    @Override
    public int outputWidth(RgbImage image) {
        return config.doResize() ? config.width() : image.width();
    }

    /** Preprocesses one image to a {@code [3, H, W]} float32 array (R plane, G plane, B plane). */
    @Override
    public float[] preprocess(RgbImage image) {
        int h = outputHeight(image);
        int w = outputWidth(image);
        float[] out = new float[3 * h * w];
        preprocessInto(image, out, 0);
        return out;
    }

    /**
     * Preprocesses images of any sizes to one {@code [N, 3, H, W]} array.
     *
     * @throws IllegalArgumentException when the list is empty, or resizing is off and the
     *                                  images differ in size
     */
    @Override
    public float[] preprocessBatch(List<RgbImage> images) {
        if (images.isEmpty()) {
            throw new IllegalArgumentException("preprocessBatch needs at least one image");
        }
        int h = outputHeight(images.getFirst());
        int w = outputWidth(images.getFirst());
        int plane = 3 * h * w;
        float[] out = new float[Math.multiplyExact(plane, images.size())];
        for (int i = 0; i < images.size(); i++) {
            RgbImage img = images.get(i);
            if (outputHeight(img) != h || outputWidth(img) != w) {
                throw new IllegalArgumentException("image " + i + " is " + img.width() + "x" + img.height()
                        + " but image 0 is " + images.getFirst().width() + "x" + images.getFirst().height()
                        + "; with do_resize off a batch needs images of one size");
            }
            preprocessInto(img, out, i * plane);
        }
        return out;
    }

    private void preprocessInto(RgbImage image, float[] out, int offset) {
        RgbImage sized = config.doResize()
                ? BicubicResampler.resize(image, config.width(), config.height(), config.resample())
                : image;
        normalizer.writeChannelFirst(sized, out, offset);
    }
}
