package org.blipjava.training;

import org.blipjava.image.BicubicResampler;
import org.blipjava.image.RgbImage;

/**
 * BLIP's training-time crop and flip ({@code transform_train} up to {@link RandAugment}, which the
 * trainer applies next): a random resized crop as torchvision's {@code RandomResizedCrop(size,
 * scale=(minScale, maxScale))} with aspect ratios in [3/4, 4/3], resized with Pillow's bicubic
 * filter, then a horizontal flip with probability 1/2.
 *
 * @param width    output width
 * @param height   output height
 * @param minScale smallest crop area as a fraction of the image (BLIP: 0.5)
 * @param maxScale largest crop area fraction (1.0)
 * @param flip     whether to flip horizontally half of the time
 */
public record ImageAugmentation(int width, int height, double minScale, double maxScale, boolean flip) {
    private static final double MIN_RATIO = 3.0 / 4.0;
    private static final double MAX_RATIO = 4.0 / 3.0;

    public ImageAugmentation {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("output size must be positive, got " + width + "x" + height);
        }
        if (!(minScale > 0) || !(minScale <= maxScale) || !(maxScale <= 1)) {
            throw new IllegalArgumentException("need 0 < minScale <= maxScale <= 1, got " + minScale + ", " + maxScale);
        }
    }

    /** BLIP's settings: crop scale (0.5, 1) and flips, to {@code size x size}. */
    public static ImageAugmentation blip(int width, int height) {
        return new ImageAugmentation(width, height, 0.5, 1.0, true);
    }

    /** Applies the transform, drawing from {@code rng}. */
    public RgbImage apply(RgbImage image, TrainingRandom rng) {
        int[] box = cropBox(image.width(), image.height(), rng);
        RgbImage cropped = crop(image, box[0], box[1], box[2], box[3]);
        RgbImage resized = BicubicResampler.resize(cropped, width, height);
        return flip && rng.nextDouble() < 0.5 ? mirror(resized) : resized;
    }

    /**
     * The crop {x, y, w, h}: up to ten tries of a random area and log-uniform aspect ratio that
     * fit the image, else the centre crop of the largest allowed ratio, as torchvision does.
     */
    int[] cropBox(int imgW, int imgH, TrainingRandom rng) {
        double area = (double) imgW * imgH;
        double logLo = Math.log(MIN_RATIO);
        double logHi = Math.log(MAX_RATIO);
        for (int attempt = 0; attempt < 10; attempt++) {
            double target = area * rng.uniform(minScale, maxScale);
            double ratio = Math.exp(rng.uniform(logLo, logHi));
            int w = (int) Math.round(Math.sqrt(target * ratio));
            int h = (int) Math.round(Math.sqrt(target / ratio));
            if (w > 0 && h > 0 && w <= imgW && h <= imgH) {
                int y = rng.nextInt(imgH - h + 1);
                int x = rng.nextInt(imgW - w + 1);
                return new int[] {x, y, w, h};
            }
        }
        double inRatio = (double) imgW / imgH;
        int w;
        int h;
        if (inRatio < MIN_RATIO) {
            w = imgW;
            h = Math.max(1, (int) Math.round(w / MIN_RATIO));
        } else if (inRatio > MAX_RATIO) {
            h = imgH;
            w = Math.max(1, (int) Math.round(h * MAX_RATIO));
        } else {
            w = imgW;
            h = imgH;
        }
        return new int[] {(imgW - w) / 2, (imgH - h) / 2, w, h};
    }

    static RgbImage crop(RgbImage img, int x, int y, int w, int h) {
        if (x == 0 && y == 0 && w == img.width() && h == img.height()) {
            return img;
        }
        byte[] src = img.rgb();
        byte[] out = new byte[w * h * 3];
        for (int row = 0; row < h; row++) {
            System.arraycopy(src, ((y + row) * img.width() + x) * 3, out, row * w * 3, w * 3);
        }
        return new RgbImage(w, h, out);
    }

    static RgbImage mirror(RgbImage img) {
        byte[] src = img.rgb();
        int w = img.width();
        byte[] out = new byte[src.length];
        for (int y = 0; y < img.height(); y++) {
            for (int x = 0; x < w; x++) {
                int s = (y * w + x) * 3;
                int d = (y * w + (w - 1 - x)) * 3;
                out[d] = src[s];
                out[d + 1] = src[s + 1];
                out[d + 2] = src[s + 2];
            }
        }
        return new RgbImage(w, img.height(), out);
    }
}
