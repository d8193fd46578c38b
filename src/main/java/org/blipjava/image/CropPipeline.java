package org.blipjava.image;

import java.util.List;

/**
 * The work of {@link ClipImageProcessor} and {@link FlavaImageProcessor}, which differ only in how
 * their files are read: resize the 8-bit image with Pillow's filter, centre-crop it (still 8-bit,
 * zero-padded, as the reference crops before rescaling), then rescale and normalize channel-first.
 * Immutable and thread-safe.
 */
final class CropPipeline {
    private final CropImageProcessorConfig config;
    private final PixelNormalizer normalizer;
    private final String name;

    CropPipeline(CropImageProcessorConfig config, String name) {
        this.config = config;
        this.name = name;
        this.normalizer = new PixelNormalizer(config.doRescale(), config.rescaleFactor(), config.doNormalize(),
                config.imageMean(), config.imageStd());
    }

    CropImageProcessorConfig config() {
        return config;
    }

    /** The size every output has, or an explanation of why there is none. */
    int fixedHeight() {
        if (config.doCenterCrop()) {
            return config.cropHeight();
        }
        if (config.doResize() && config.size() instanceof CropImageProcessorConfig.Exact e) {
            return e.height();
        }
        throw variableSize();
    }

    int fixedWidth() {
        if (config.doCenterCrop()) {
            return config.cropWidth();
        }
        if (config.doResize() && config.size() instanceof CropImageProcessorConfig.Exact e) {
            return e.width();
        }
        throw variableSize();
    }

    private IllegalStateException variableSize() {
        return new IllegalStateException(name + " has no fixed output size: do_center_crop is off and "
                + (config.doResize() ? "size " + config.size() + " keeps each image's aspect ratio"
                        : "do_resize is off")
                + "; ask outputHeight(image)/outputWidth(image), or turn the centre crop on");
    }

    int outputHeight(RgbImage image) {
        if (config.doCenterCrop()) {
            return config.cropHeight();
        }
        return config.doResize() ? config.size().outputHeight(image.height(), image.width()) : image.height();
    }

    int outputWidth(RgbImage image) {
        if (config.doCenterCrop()) {
            return config.cropWidth();
        }
        return config.doResize() ? config.size().outputWidth(image.height(), image.width()) : image.width();
    }

    float[] preprocess(RgbImage image) {
        RgbImage ready = prepare(image);
        float[] out = new float[Math.multiplyExact(3, ready.width() * ready.height())];
        normalizer.writeChannelFirst(ready, out, 0);
        return out;
    }

    float[] preprocessBatch(List<RgbImage> images) {
        if (images.isEmpty()) {
            throw new IllegalArgumentException("preprocessBatch needs at least one image");
        }
        int h = outputHeight(images.getFirst());
        int w = outputWidth(images.getFirst());
        int plane = Math.multiplyExact(3, h * w);
        float[] out = new float[Math.multiplyExact(plane, images.size())];
        for (int i = 0; i < images.size(); i++) {
            RgbImage img = images.get(i);
            if (outputHeight(img) != h || outputWidth(img) != w) {
                throw new IllegalArgumentException("image " + i + " (" + img.width() + "x" + img.height()
                        + ") preprocesses to " + outputWidth(img) + "x" + outputHeight(img) + " but image 0 to "
                        + w + "x" + h + "; without a centre crop a batch needs images that come out the same size");
            }
            normalizer.writeChannelFirst(prepare(img), out, i * plane);
        }
        return out;
    }

    /** The resized and cropped 8-bit image. */
    private RgbImage prepare(RgbImage image) {
        RgbImage sized = image;
        if (config.doResize()) {
            int h = config.size().outputHeight(image.height(), image.width());
            int w = config.size().outputWidth(image.height(), image.width());
            sized = BicubicResampler.resize(image, w, h, config.resample());
        }
        return config.doCenterCrop() ? CenterCrop.apply(sized, config.cropHeight(), config.cropWidth()) : sized;
    }
}
