package org.blipjava.model;

/**
 * Bicubic resizing with the semantics of {@code torch.nn.functional.interpolate(mode="bicubic",
 * align_corners=False)}: source coordinate {@code (dst + 0.5) * in/out - 0.5} without clamping,
 * the cubic convolution kernel with {@code A = -0.75}, and border samples repeated.
 */
final class Interpolation {
    private static final double A = -0.75;

    private Interpolation() {}

    /**
     * Resizes a channel-last grid.
     *
     * @param src    values at {@code src[offset + (y*inW + x)*channels + c]}
     * @param offset where the grid starts in {@code src}
     * @return [outH * outW * channels]
     */
    static float[] bicubic(float[] src, int offset, int inH, int inW, int channels, int outH, int outW) {
        float[] out = new float[outH * outW * channels];
        double sy = (double) inH / outH;
        double sx = (double) inW / outW;
        double[] wy = new double[4];
        double[] wx = new double[4];
        for (int oy = 0; oy < outH; oy++) {
            double ry = (oy + 0.5) * sy - 0.5;
            int iy = (int) Math.floor(ry);
            weights(ry - iy, wy);
            for (int ox = 0; ox < outW; ox++) {
                double rx = (ox + 0.5) * sx - 0.5;
                int ix = (int) Math.floor(rx);
                weights(rx - ix, wx);
                for (int c = 0; c < channels; c++) {
                    double acc = 0;
                    for (int a = 0; a < 4; a++) {
                        int yy = clamp(iy - 1 + a, inH);
                        double row = 0;
                        for (int b = 0; b < 4; b++) {
                            int xx = clamp(ix - 1 + b, inW);
                            row += wx[b] * src[offset + (yy * inW + xx) * channels + c];
                        }
                        acc += wy[a] * row;
                    }
                    out[(oy * outW + ox) * channels + c] = (float) acc;
                }
            }
        }
        return out;
    }

    private static int clamp(int i, int n) {
        return Math.max(0, Math.min(n - 1, i));
    }

    /** Cubic convolution weights for the four samples around a fractional position t in [0, 1). */
    private static void weights(double t, double[] w) {
        w[0] = far(t + 1);
        w[1] = near(t);
        w[2] = near(1 - t);
        w[3] = far(2 - t);
    }

    private static double near(double x) {
        return ((A + 2) * x - (A + 3)) * x * x + 1;
    }

    private static double far(double x) {
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
    }
}
