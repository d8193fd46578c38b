package org.blipjava.model;

import org.blipjava.tensor.Kernels;
import org.blipjava.tensor.Parallel;

/**
 * Grad-CAM of the image-text matching head over the image, as BLIP's demo computes it: the
 * cross-attention probabilities {@code A} of one text-encoder layer times the positive part of
 * the gradient of the ITM match logit with respect to them, averaged over heads.
 *
 * <p>The model has no autograd, so this class runs the text encoder from that layer on with its
 * own forward pass that keeps what the backward pass needs, and differentiates by hand: linear,
 * layer norm, exact GELU, softmax attention and residual connections. Gradients flow into the
 * text states only (the image keys and values are constants here, as they do not depend on
 * {@code A}). One image and one unpadded text at a time; an instance is used by one thread.
 */
final class ItmGradCam {
    private final BlipTextModel text;
    private final Linear itmHead;
    private final Parallel parallel;
    private final int d;
    private final int heads;
    private final int hd;
    private final float scale;

    ItmGradCam(BlipTextModel text, Linear itmHead) {
        this.text = text;
        this.itmHead = itmHead;
        this.parallel = text.parallel();
        this.d = text.config().hiddenSize();
        this.heads = text.config().numAttentionHeads();
        this.hd = text.config().headDim();
        this.scale = (float) (1.0 / Math.sqrt(hd));
    }

    /** What {@link #run} produced: the probabilities, their gradient and the logit. */
    record Result(float[] probs, float[] grad, float logit, int len, int positions) {}

    /** What a layer's forward pass keeps for its backward pass (null fields for the parts not run). */
    private static final class Saved {
        float[] x;
        float[] q;
        float[] k;
        float[] v;
        float[] p;
        float[] y1;
        float[] h;
        float[] cq;
        float[] a;
        float[] y2;
        float[] h2;
        float[] u;
        float[] o;
    }

    /**
     * Runs the text encoder over {@code ids} with the image, keeps layer {@code layer}'s
     * cross-attention probabilities and returns them with the gradient of the match logit.
     *
     * @param crossProbs replacement probabilities for that layer ([heads, len, positions]), or null
     *     for the model's own; lets tests check the gradient by finite differences
     */
    Result run(int[] ids, Conditioning image, int layer, float[] crossProbs) {
        int n = ids.length;
        BlipTextModel.CrossKV[] cross = text.crossKV(image);
        int[] entry = new int[1];
        float[] x = text.embed(ids.clone(), 1, n, 0);
        for (int l = 0; l < layer; l++) {
            x = text.layer(l, x, 1, n, null, n, false, null, cross[l], entry);
        }
        int layers = text.numLayers();
        Saved[] saved = new Saved[layers];
        for (int l = layer; l < layers; l++) {
            saved[l] = new Saved();
            x = forward(l, x, n, cross[l], saved[l], l == layer ? crossProbs : null);
        }
        float[] logits = itmHead.forward(parallel, java.util.Arrays.copyOf(x, d), 1);
        // d(match logit)/d(CLS state) is row 1 of the ITM head's weight.
        float[] dx = new float[n * d];
        System.arraycopy(itmHead.weight(), d, dx, 0, d);
        for (int l = layers - 1; l > layer; l--) {
            dx = backward(l, dx, n, cross[l], saved[l]);
        }
        float[] dA = crossProbGrad(layer, dx, n, cross[layer], saved[layer]);
        return new Result(saved[layer].a, dA, logits[1], n, cross[layer].len());
    }

    private float[] forward(int l, float[] x, int n, BlipTextModel.CrossKV kv, Saved s, float[] override) {
        BlipTextModel.Layer w = text.layerAt(l);
        s.x = x;
        s.q = w.attention().query().forward(parallel, x, n);
        s.k = w.attention().key().forward(parallel, x, n);
        s.v = w.attention().value().forward(parallel, x, n);
        s.p = scores(s.q, s.k, n, n, null);
        float[] ctx = mix(s.p, s.v, n, n);
        s.y1 = add(w.attention().dense().forward(parallel, ctx, n), x);
        s.h = w.attention().layerNorm().forward(parallel, s.y1, n);
        s.cq = w.crossattention().query().forward(parallel, s.h, n);
        int m = kv.len();
        s.a = override != null ? override.clone() : scores(s.cq, kv.k(), n, m, kv.additiveMask());
        float[] cctx = mix(s.a, kv.v(), n, m);
        s.y2 = add(w.crossattention().dense().forward(parallel, cctx, n), s.h);
        s.h2 = w.crossattention().layerNorm().forward(parallel, s.y2, n);
        s.u = w.intermediate().forward(parallel, s.h2, n);
        float[] g = s.u.clone();
        Kernels.gelu(parallel, g, g.length);
        s.o = add(w.output().forward(parallel, g, n), s.h2);
        return w.outputLayerNorm().forward(parallel, s.o, n);
    }

    /** Backward from the layer output to the cross-attention output {@code dy2} (shared by both backward kinds). */
    private float[] toCrossOutput(BlipTextModel.Layer w, float[] dOut, int n, Saved s) {
        float[] dO = layerNormBackward(w.outputLayerNorm(), s.o, dOut, n);
        float[] dH2 = dO.clone();
        float[] dG = linearBackward(w.output(), dO, n);
        for (int i = 0; i < dG.length; i++) {
            dG[i] *= (float) geluGrad(s.u[i]);
        }
        addInPlace(dH2, linearBackward(w.intermediate(), dG, n));
        return layerNormBackward(w.crossattention().layerNorm(), s.y2, dH2, n);
    }

    private float[] crossProbGrad(int l, float[] dOut, int n, BlipTextModel.CrossKV kv, Saved s) {
        BlipTextModel.Layer w = text.layerAt(l);
        float[] dY2 = toCrossOutput(w, dOut, n, s);
        float[] dCctx = linearBackward(w.crossattention().dense(), dY2, n);
        return probGrad(dCctx, kv.v(), n, kv.len());
    }

    private float[] backward(int l, float[] dOut, int n, BlipTextModel.CrossKV kv, Saved s) {
        BlipTextModel.Layer w = text.layerAt(l);
        float[] dY2 = toCrossOutput(w, dOut, n, s);
        float[] dH = dY2.clone();
        int m = kv.len();
        float[] dCctx = linearBackward(w.crossattention().dense(), dY2, n);
        float[] dS = softmaxBackward(s.a, probGrad(dCctx, kv.v(), n, m), n, m);
        addInPlace(dH, linearBackward(w.crossattention().query(), queryGrad(dS, kv.k(), n, m), n));
        float[] dY1 = layerNormBackward(w.attention().layerNorm(), s.y1, dH, n);
        float[] dX = dY1.clone();
        float[] dCtx = linearBackward(w.attention().dense(), dY1, n);
        float[] dP = probGrad(dCtx, s.v, n, n);
        float[] dV = valueGrad(s.p, dCtx, n, n);
        float[] dSs = softmaxBackward(s.p, dP, n, n);
        float[] dQ = queryGrad(dSs, s.k, n, n);
        float[] dK = keyGrad(dSs, s.q, n, n);
        addInPlace(dX, linearBackward(w.attention().query(), dQ, n));
        addInPlace(dX, linearBackward(w.attention().key(), dK, n));
        addInPlace(dX, linearBackward(w.attention().value(), dV, n));
        return dX;
    }

    // ------------------------------------------------------------ attention pieces, per head

    /** softmax(q k^T * scale + mask) per head: [heads, n, m]. */
    private float[] scores(float[] q, float[] k, int n, int m, float[] mask) {
        float[] p = new float[heads * n * m];
        for (int h = 0; h < heads; h++) {
            for (int t = 0; t < n; t++) {
                int o = (h * n + t) * m;
                for (int j = 0; j < m; j++) {
                    float sc = Kernels.dot(q, t * d + h * hd, k, j * d + h * hd, hd) * scale;
                    p[o + j] = mask == null ? sc : sc + mask[j];
                }
                Kernels.softmaxRow(p, o, m);
            }
        }
        return p;
    }

    /** Context {@code P V} per head, [n, d]. */
    private float[] mix(float[] p, float[] v, int n, int m) {
        float[] out = new float[n * d];
        for (int h = 0; h < heads; h++) {
            for (int t = 0; t < n; t++) {
                int o = (h * n + t) * m;
                for (int j = 0; j < m; j++) {
                    float a = p[o + j];
                    for (int c = 0; c < hd; c++) {
                        out[t * d + h * hd + c] += a * v[j * d + h * hd + c];
                    }
                }
            }
        }
        return out;
    }

    /** dP = dCtx V^T per head, [heads, n, m]. */
    private float[] probGrad(float[] dCtx, float[] v, int n, int m) {
        float[] out = new float[heads * n * m];
        for (int h = 0; h < heads; h++) {
            for (int t = 0; t < n; t++) {
                for (int j = 0; j < m; j++) {
                    out[(h * n + t) * m + j] = Kernels.dot(dCtx, t * d + h * hd, v, j * d + h * hd, hd);
                }
            }
        }
        return out;
    }

    /** dV = P^T dCtx per head, [m, d]. */
    private float[] valueGrad(float[] p, float[] dCtx, int n, int m) {
        float[] out = new float[m * d];
        for (int h = 0; h < heads; h++) {
            for (int t = 0; t < n; t++) {
                for (int j = 0; j < m; j++) {
                    float a = p[(h * n + t) * m + j];
                    for (int c = 0; c < hd; c++) {
                        out[j * d + h * hd + c] += a * dCtx[t * d + h * hd + c];
                    }
                }
            }
        }
        return out;
    }

    /** Through the row softmax: dS = P * (dP - sum_j P dP). */
    private float[] softmaxBackward(float[] p, float[] dP, int n, int m) {
        float[] out = new float[p.length];
        for (int r = 0; r < heads * n; r++) {
            double dot = 0;
            for (int j = 0; j < m; j++) {
                dot += (double) p[r * m + j] * dP[r * m + j];
            }
            for (int j = 0; j < m; j++) {
                out[r * m + j] = (float) (p[r * m + j] * (dP[r * m + j] - dot));
            }
        }
        return out;
    }

    /** dQ = dS K * scale per head, [n, d]. */
    private float[] queryGrad(float[] dS, float[] k, int n, int m) {
        float[] out = new float[n * d];
        for (int h = 0; h < heads; h++) {
            for (int t = 0; t < n; t++) {
                for (int j = 0; j < m; j++) {
                    float g = dS[(h * n + t) * m + j] * scale;
                    for (int c = 0; c < hd; c++) {
                        out[t * d + h * hd + c] += g * k[j * d + h * hd + c];
                    }
                }
            }
        }
        return out;
    }

    /** dK = dS^T Q * scale per head, [m, d]. */
    private float[] keyGrad(float[] dS, float[] q, int n, int m) {
        float[] out = new float[m * d];
        for (int h = 0; h < heads; h++) {
            for (int t = 0; t < n; t++) {
                for (int j = 0; j < m; j++) {
                    float g = dS[(h * n + t) * m + j] * scale;
                    for (int c = 0; c < hd; c++) {
                        out[j * d + h * hd + c] += g * q[t * d + h * hd + c];
                    }
                }
            }
        }
        return out;
    }

    // ------------------------------------------------------------ dense pieces

    /** dx = dy W for y = x W^T + b, [rows, in]. */
    private static float[] linearBackward(Linear lin, float[] dy, int rows) {
        int in = lin.in();
        int out = lin.out();
        float[] w = lin.weight();
        float[] dx = new float[rows * in];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                float g = dy[r * out + o];
                if (g == 0) {
                    continue;
                }
                int wo = o * in;
                int xo = r * in;
                for (int i = 0; i < in; i++) {
                    dx[xo + i] += g * w[wo + i];
                }
            }
        }
        return dx;
    }

    /** Gradient through layer norm with respect to its input {@code x}. */
    private static float[] layerNormBackward(LayerNorm ln, float[] x, float[] dy, int rows) {
        int dim = ln.dim();
        float[] dx = new float[rows * dim];
        for (int r = 0; r < rows; r++) {
            int o = r * dim;
            double mean = 0;
            for (int i = 0; i < dim; i++) {
                mean += x[o + i];
            }
            mean /= dim;
            double var = 0;
            for (int i = 0; i < dim; i++) {
                double t = x[o + i] - mean;
                var += t * t;
            }
            double inv = 1.0 / Math.sqrt(var / dim + ln.eps());
            double sumG = 0;
            double sumGx = 0;
            for (int i = 0; i < dim; i++) {
                double g = dy[o + i] * ln.weight()[i];
                double xhat = (x[o + i] - mean) * inv;
                sumG += g;
                sumGx += g * xhat;
            }
            for (int i = 0; i < dim; i++) {
                double g = dy[o + i] * ln.weight()[i];
                double xhat = (x[o + i] - mean) * inv;
                dx[o + i] = (float) (inv * (g - sumG / dim - xhat * sumGx / dim));
            }
        }
        return dx;
    }

    /** Derivative of the exact GELU {@code x Phi(x)}: {@code Phi(x) + x phi(x)}. */
    static double geluGrad(double x) {
        double cdf = 0.5 * (1 + Kernels.erf(x / Math.sqrt(2)));
        double pdf = Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
        return cdf + x * pdf;
    }

    private static float[] add(float[] a, float[] b) {
        Kernels.addInPlace(a, b, a.length);
        return a;
    }

    private static void addInPlace(float[] a, float[] b) {
        for (int i = 0; i < a.length; i++) {
            a[i] += b[i];
        }
    }
}
