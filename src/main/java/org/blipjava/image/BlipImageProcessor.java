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
public final class BlipImageProcessor {
    private final ImageProcessorConfig config;
    private final float[] mean;
    private final float[] std;

    /** A processor with the given settings. */
    public BlipImageProcessor(ImageProcessorConfig config) {
        this.config = config;
        double[] m = config.imageMean();
        double[] s = config.imageStd();
        // transformers casts mean and std to the image's dtype (float32) before normalizing.
        this.mean = new float[] {(float) m[0], (float) m[1], (float) m[2]};
        this.std = new float[] {(float) s[0], (float) s[1], (float) s[2]};
    }

    /** A processor reading {@code preprocessor_config.json} from a model directory (or that file). */
    public static BlipImageProcessor fromPretrained(Path modelDirOrFile) {
        return new BlipImageProcessor(ImageProcessorConfig.read(modelDirOrFile));
    }

    /** The settings. */
    public ImageProcessorConfig config() {
        return config;
    }

    /** Height of the output planes: the configured size, or the input's when resizing is off. */
    public int outputHeight(RgbImage image) {
        return config.doResize() ? config.height() : image.height();
    }

    /** Width of the output planes: the configured size, or the input's when resizing is off. */
    public int outputWidth(RgbImage image) {
        return config.doResize() ? config.width() : image.width();
    }

    /** Preprocesses one image to a {@code [3, H, W]} float32 array (R plane, G plane, B plane). */
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
        byte[] rgb = sized.data();
        int n = sized.width() * sized.height();
        double factor = config.rescaleFactor();
        boolean rescale = config.doRescale();
        boolean normalize = config.doNormalize();
        for (int c = 0; c < 3; c++) {
            int base = offset + c * n;
            float m = mean[c];
            float s = std[c];
            for (int i = 0; i < n; i++) {
                int v = rgb[i * 3 + c] & 0xff;
                float x = rescale ? (float) (v * factor) : v;
                out[base + i] = normalize ? (x - m) / s : x;
            }
        }
    }
}
