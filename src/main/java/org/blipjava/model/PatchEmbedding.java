package org.blipjava.model;

import org.blipjava.tensor.Parallel;

/**
 * The input of a vision transformer: a stride-p convolution over the image (its weight
 * {@code [D, C, p, p]} viewed as a linear layer over flattened patches), a class embedding in
 * front, and position embeddings added to every position. BLIP's, CLIP's and FLAVA's towers all
 * start this way.
 *
 * @param projection the convolution as a linear layer {@code [C*p*p] -> [D]} (with or without bias)
 * @param channels   image channels (3)
 * @param patch      patch side and stride in pixels
 */
record PatchEmbedding(Linear projection, int channels, int patch) {

    /** Checks a batch of images before anything is computed from its sizes; see {@link #embed}. */
    void check(float[] pixels, int batch, int h, int w) {
        if (batch < 1 || h < patch || w < patch) {
            throw new IllegalArgumentException("images must be at least " + patch + "x" + patch
                    + " pixels and batch >= 1, got " + batch + " x " + h + "x" + w);
        }
        if (pixels.length != (long) batch * channels * h * w) {
            throw new IllegalArgumentException("pixels has " + pixels.length + " floats, expected batch*" + channels
                    + "*h*w = " + ((long) batch * channels * h * w));
        }
    }

    /**
     * Embeds a batch of images: {@code [batch, 1 + (h/p)*(w/p), D]}, the class embedding plus
     * {@code positions[0]} first, then each patch row by row plus its position. Pixels beyond the
     * last whole patch are ignored, as by the unpadded convolution.
     *
     * @param pixels    [batch, C, h, w], channel-first
     * @param cls       the class embedding [D]
     * @param positions position embeddings [1 + (h/p)*(w/p), D] for this grid
     * @throws IllegalArgumentException when the batch is empty, an image is smaller than a patch, or
     *     the pixels do not have the shape given
     */
    float[] embed(Parallel parallel, float[] pixels, int batch, int h, int w, float[] cls, float[] positions) {
        check(pixels, batch, h, w);
        int p = patch;
        int c = channels;
        int d = projection.out();
        int gh = h / p;
        int gw = w / p;
        int patches = gh * gw;
        int seq = patches + 1;
        int pp = c * p * p;
        // im2col: one row per patch in (channel, ky, kx) order, the conv weight's flattening.
        float[] cols = new float[batch * patches * pp];
        parallel.forRange(batch * patches, idx -> {
            int b = idx / patches;
            int py = (idx % patches) / gw;
            int px = idx % gw;
            int o = idx * pp;
            for (int ch = 0; ch < c; ch++) {
                for (int ky = 0; ky < p; ky++) {
                    int src = ((b * c + ch) * h + py * p + ky) * w + px * p;
                    System.arraycopy(pixels, src, cols, o + (ch * p + ky) * p, p);
                }
            }
        });
        float[] patchEmb = projection.forward(parallel, cols, batch * patches);
        float[] x = new float[batch * seq * d];
        for (int b = 0; b < batch; b++) {
            int base = b * seq * d;
            for (int i = 0; i < d; i++) {
                x[base + i] = cls[i] + positions[i];
            }
            for (int t = 0; t < patches; t++) {
                int o = base + (t + 1) * d;
                int src = (b * patches + t) * d;
                for (int i = 0; i < d; i++) {
                    x[o + i] = patchEmb[src + i] + positions[(t + 1) * d + i];
                }
            }
        }
        return x;
    }
}
