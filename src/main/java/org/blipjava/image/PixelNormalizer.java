package org.blipjava.image;

/**
 * The rescale and normalize steps shared by every image processor, with the reference's
 * arithmetic: {@code float32(v * rescale_factor)} with the product in double (transformers'
 * {@code rescale} upcasts to float64 and casts down at the end), then {@code (x - mean) / std}
 * in float32 (its {@code normalize} casts mean and std to the image's dtype, float32). Kept in
 * one place so BLIP, CLIP and FLAVA cannot drift apart. Immutable and thread-safe.
 */
final class PixelNormalizer {
    private final boolean rescale;
    private final double factor;
    private final boolean normalize;
    private final float[] mean;
    private final float[] std;

    PixelNormalizer(boolean rescale, double factor, boolean normalize, double[] mean, double[] std) {
        this.rescale = rescale;
        this.factor = factor;
        this.normalize = normalize;
        this.mean = new float[] {(float) mean[0], (float) mean[1], (float) mean[2]};
        this.std = new float[] {(float) std[0], (float) std[1], (float) std[2]};
    }

    /** A copy of a config's per-channel mean, checked: three values (R, G, B). */
    static double[] checkedMean(double[] v) {
        return channels(v, "imageMean");
    }

    /** A copy of a config's per-channel std, checked: three values, none 0 (they divide). */
    static double[] checkedStd(double[] v) {
        double[] out = channels(v, "imageStd");
        for (double s : out) {
            if (s == 0.0) {
                throw new IllegalArgumentException("imageStd must not contain 0");
            }
        }
        return out;
    }

    private static double[] channels(double[] v, String what) {
        if (v == null || v.length != 3) {
            throw new IllegalArgumentException(what + " must have 3 values (R, G, B), got "
                    + (v == null ? "null" : v.length));
        }
        return v.clone();
    }

    /** Writes {@code image} as R, G and B planes ({@code [3, h, w]}) into {@code out} at {@code offset}. */
    void writeChannelFirst(RgbImage image, float[] out, int offset) {
        byte[] rgb = image.data();
        int n = image.width() * image.height();
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
