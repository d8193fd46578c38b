package org.blipjava.image;

/**
 * Resizes 8-bit RGB images exactly as Pillow's {@code Image.resize(size, resample)} does for an
 * RGB image with the default box and {@code reducing_gap=None} (libImaging/Resample.c): a
 * separable convolution whose kernel is widened by the downscale factor (antialiasing), with
 * weights normalised to sum 1 and rounded to 22-bit fixed point, a horizontal pass into an 8-bit
 * intermediate image followed by a vertical pass, each rounding and clipping to 0..255.
 *
 * <p>The same integer arithmetic as Pillow gives bit-identical output, which is what lets the
 * BLIP preprocessing match the reference to float precision. Stateless and thread-safe.
 */
public final class BicubicResampler {
    /** Fixed-point fraction bits of the weights: 32 bits minus 8 for the sample, minus 2 of headroom. */
    private static final int PRECISION_BITS = 32 - 8 - 2;

    private BicubicResampler() {}

    /** Resizes with Pillow's bicubic filter (PIL code 3). */
    public static RgbImage resize(RgbImage src, int width, int height) {
        return resize(src, width, height, ResampleFilter.BICUBIC);
    }

    /**
     * Resizes to exactly {@code width x height} with the given Pillow filter.
     *
     * @throws IllegalArgumentException when a target dimension is not positive
     */
    public static RgbImage resize(RgbImage src, int width, int height, ResampleFilter filter) {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("target size must be positive, got " + width + "x" + height);
        }
        int inW = src.width();
        int inH = src.height();
        if (inW == width && inH == height) {
            return src; // Pillow returns a copy; an immutable image needs none.
        }
        Coefficients horiz = Coefficients.compute(inW, width, filter);
        Coefficients vert = Coefficients.compute(inH, height, filter);
        byte[] in = src.data();
        byte[] out;
        if (inW != width) {
            // Only the source rows the vertical pass will read need the horizontal pass.
            int firstRow = vert.bounds[0];
            int lastRow = vert.bounds[(height - 1) * 2] + vert.bounds[(height - 1) * 2 + 1];
            byte[] tmp = horizontal(in, inW, firstRow, lastRow - firstRow, horiz, width);
            if (inH != height) {
                out = vertical(tmp, width, vert, height, firstRow);
            } else {
                out = tmp;
            }
        } else {
            out = vertical(in, inW, vert, height, 0);
        }
        return new RgbImage(width, height, out, true);
    }

    private static byte[] horizontal(byte[] in, int inW, int firstRow, int rows, Coefficients c, int outW) {
        byte[] out = new byte[outW * rows * 3];
        int ksize = c.ksize;
        int[] kk = c.kk;
        int[] bounds = c.bounds;
        for (int y = 0; y < rows; y++) {
            int inRow = (firstRow + y) * inW * 3;
            int outRow = y * outW * 3;
            for (int xx = 0; xx < outW; xx++) {
                int xmin = bounds[xx * 2];
                int xmax = bounds[xx * 2 + 1];
                int k0 = xx * ksize;
                int s0 = 1 << (PRECISION_BITS - 1);
                int s1 = s0;
                int s2 = s0;
                int p = inRow + xmin * 3;
                for (int x = 0; x < xmax; x++, p += 3) {
                    int w = kk[k0 + x];
                    s0 += (in[p] & 0xff) * w;
                    s1 += (in[p + 1] & 0xff) * w;
                    s2 += (in[p + 2] & 0xff) * w;
                }
                int o = outRow + xx * 3;
                out[o] = clip8(s0);
                out[o + 1] = clip8(s1);
                out[o + 2] = clip8(s2);
            }
        }
        return out;
    }

    /** {@code rowOffset}: the source row that row 0 of {@code in} holds (bounds are absolute). */
    private static byte[] vertical(byte[] in, int w, Coefficients c, int outH, int rowOffset) {
        byte[] out = new byte[w * outH * 3];
        int ksize = c.ksize;
        int[] kk = c.kk;
        int[] bounds = c.bounds;
        int stride = w * 3;
        for (int yy = 0; yy < outH; yy++) {
            int ymin = bounds[yy * 2] - rowOffset;
            int ymax = bounds[yy * 2 + 1];
            int k0 = yy * ksize;
            int outRow = yy * stride;
            for (int i = 0; i < stride; i++) {
                int s = 1 << (PRECISION_BITS - 1);
                int p = ymin * stride + i;
                for (int y = 0; y < ymax; y++, p += stride) {
                    s += (in[p] & 0xff) * kk[k0 + y];
                }
                out[outRow + i] = clip8(s);
            }
        }
        return out;
    }

    private static byte clip8(int s) {
        int v = s >> PRECISION_BITS;
        return (byte) (v < 0 ? 0 : Math.min(v, 255));
    }

    /**
     * Per output pixel: the first source index, the number of taps, and {@code ksize}
     * fixed-point weights (zero past the taps).
     */
    record Coefficients(int ksize, int[] bounds, int[] kk) {

        static Coefficients compute(int inSize, int outSize, ResampleFilter filter) {
            // The box is the whole image: in0 = 0, in1 = inSize.
            double scale = (double) inSize / outSize;
            double filterScale = Math.max(scale, 1.0);
            double support = filter.support() * filterScale;
            int ksize = (int) Math.ceil(support) * 2 + 1;
            int[] bounds = new int[outSize * 2];
            int[] kk = new int[outSize * ksize];
            double[] k = new double[ksize];
            double ss = 1.0 / filterScale;
            for (int xx = 0; xx < outSize; xx++) {
                double center = (xx + 0.5) * scale;
                // Pillow rounds the window ends by truncating value + 0.5.
                int xmin = (int) (center - support + 0.5);
                if (xmin < 0) {
                    xmin = 0;
                }
                int xmax = (int) (center + support + 0.5);
                if (xmax > inSize) {
                    xmax = inSize;
                }
                xmax -= xmin;
                double ww = 0.0;
                for (int x = 0; x < xmax; x++) {
                    double w = filter.weight((x + xmin - center + 0.5) * ss);
                    k[x] = w;
                    ww += w;
                }
                for (int x = 0; x < xmax; x++) {
                    double v = ww != 0.0 ? k[x] / ww : k[x];
                    // Round half away from zero to fixed point, as normalize_coeffs_8bpc does.
                    kk[xx * ksize + x] = v < 0 ? (int) (-0.5 + v * (1 << PRECISION_BITS))
                            : (int) (0.5 + v * (1 << PRECISION_BITS));
                }
                bounds[xx * 2] = xmin;
                bounds[xx * 2 + 1] = xmax;
            }
            return new Coefficients(ksize, bounds, kk);
        }
    }
}
