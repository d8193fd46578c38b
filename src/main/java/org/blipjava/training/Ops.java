package org.blipjava.training;

import org.blipjava.tensor.Kernels;
import org.blipjava.tensor.Parallel;

/**
 * Differentiable ops on a {@link Tape}: each computes its output with the same numerics as the
 * inference kernels ({@link Kernels}) and records how to propagate the output's gradient to
 * its inputs. Inputs that do not require gradients (constants) are skipped on the way back.
 */
public final class Ops {
    /** Additive value of masked self-attention keys (BERT's extended attention mask). */
    public static final float SELF_MASK_VALUE = -10000f;

    private Ops() {}

    private static Tensor out(float[] data, boolean requiresGrad, int... shape) {
        return new Tensor(data, requiresGrad, shape);
    }

    /** {@code y = x W^T + b} as {@code nn.Linear}: x [rows, in], w [out, in] (any shape of that size), b [out] or null. */
    public static Tensor linear(Tape t, Tensor x, int rows, int in, Tensor w, Tensor b, int out) {
        Parallel p = t.parallel();
        float[] y = new float[rows * out];
        Kernels.linear(p, x.data(), rows, in, w.data(), b == null ? null : b.data(), out, y);
        boolean req = x.requiresGrad() || w.requiresGrad() || (b != null && b.requiresGrad());
        Tensor r = out(y, req, rows, out);
        if (req) {
            onGrad(t, r, () -> {
                float[] g = r.grad();
                if (x.requiresGrad()) {
                    // dX = dY W: a linear with the transposed weight [in, out].
                    float[] tmp = new float[rows * in];
                    Kernels.linear(p, g, rows, out, transpose(w.data(), out, in), null, in, tmp);
                    Kernels.addInPlace(x.grad(), tmp, rows * in);
                }
                if (w.requiresGrad()) {
                    // dW = dY^T X: rows of dY^T [out, rows] against rows of X^T [in, rows].
                    float[] tmp = new float[out * in];
                    Kernels.linear(p, transpose(g, rows, out), out, rows, transpose(x.data(), rows, in), null, in, tmp);
                    Kernels.addInPlace(w.grad(), tmp, out * in);
                }
                if (b != null && b.requiresGrad()) {
                    float[] gb = b.grad();
                    for (int c = 0; c < out; c++) {
                        double s = 0;
                        for (int i = 0; i < rows; i++) {
                            s += g[i * out + c];
                        }
                        gb[c] += (float) s;
                    }
                }
            });
        }
        return r;
    }

    /** Records {@code backward} to run on the way back, unless nothing reached {@code r}'s gradient. */
    private static void onGrad(Tape t, Tensor r, Runnable backward) {
        t.record(() -> {
            if (r.hasGrad()) {
                backward.run();
            }
        });
    }

    /** Accumulates an element-wise op's input gradient {@code gx} from its output gradient {@code g}. */
    @FunctionalInterface
    private interface ElementwiseBackward {
        void accumulate(float[] g, float[] gx);
    }

    /** The output {@code y} of an element-wise op of {@code x} (same shape), with its backward when x needs one. */
    private static Tensor elementwise(Tape t, Tensor x, float[] y, ElementwiseBackward backward) {
        Tensor r = out(y, x.requiresGrad(), x.shape());
        if (x.requiresGrad()) {
            onGrad(t, r, () -> backward.accumulate(r.grad(), x.grad()));
        }
        return r;
    }

    static float[] transpose(float[] a, int rows, int cols) {
        float[] o = new float[rows * cols];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                o[j * rows + i] = a[i * cols + j];
            }
        }
        return o;
    }

    /** Layer normalization over the last dimension d, as {@code nn.LayerNorm} (biased variance). */
    public static Tensor layerNorm(Tape t, Tensor x, int rows, int d, Tensor gamma, Tensor beta, double eps) {
        Parallel p = t.parallel();
        float[] xs = x.data();
        float[] y = new float[rows * d];
        float[] xhat = new float[rows * d];
        double[] rstd = new double[rows];
        float[] ga = gamma.data();
        Kernels.layerNorm(p, xs, rows, d, ga, beta.data(), eps, y, xhat, rstd);
        Tensor r = out(y, true, rows, d);
        onGrad(t, r, () -> {
            float[] g = r.grad();
            if (gamma.requiresGrad() || beta.requiresGrad()) {
                float[] gg = gamma.grad();
                float[] gb = beta.grad();
                for (int i = 0; i < d; i++) {
                    double sg = 0;
                    double sb = 0;
                    for (int row = 0; row < rows; row++) {
                        sg += (double) g[row * d + i] * xhat[row * d + i];
                        sb += g[row * d + i];
                    }
                    gg[i] += (float) sg;
                    gb[i] += (float) sb;
                }
            }
            if (x.requiresGrad()) {
                float[] gx = x.grad();
                p.forRange(rows, 16, (s, e) -> {
                    for (int row = s; row < e; row++) {
                        int o = row * d;
                        double m1 = 0;
                        double m2 = 0;
                        for (int i = 0; i < d; i++) {
                            double dh = (double) g[o + i] * ga[i];
                            m1 += dh;
                            m2 += dh * xhat[o + i];
                        }
                        m1 /= d;
                        m2 /= d;
                        for (int i = 0; i < d; i++) {
                            double dh = (double) g[o + i] * ga[i];
                            gx[o + i] += (float) (rstd[row] * (dh - m1 - xhat[o + i] * m2));
                        }
                    }
                });
            }
        });
        return r;
    }

    /** Exact GELU {@code x/2 (1 + erf(x/sqrt 2))}. */
    public static Tensor gelu(Tape t, Tensor x) {
        float[] xs = x.data();
        float[] y = xs.clone();
        Kernels.gelu(t.parallel(), y, y.length);
        return elementwise(t, x, y, (g, gx) -> t.parallel().forRange(xs.length, 4096, (s, e) -> {
            for (int i = s; i < e; i++) {
                double v = xs[i];
                double cdf = 0.5 * (1.0 + Kernels.erf(v * 0.7071067811865476));
                double pdf = Math.exp(-0.5 * v * v) * 0.3989422804014327;
                gx[i] += (float) (g[i] * (cdf + v * pdf));
            }
        }));
    }

    /** tanh (the text pooler's activation). */
    public static Tensor tanh(Tape t, Tensor x) {
        float[] y = x.data().clone();
        Kernels.tanh(y, y.length);
        return elementwise(t, x, y, (g, gx) -> {
            for (int i = 0; i < y.length; i++) {
                gx[i] += g[i] * (1f - y[i] * y[i]);
            }
        });
    }

    /** Element-wise {@code a + b} (same size). */
    public static Tensor add(Tape t, Tensor a, Tensor b) {
        if (a.size() != b.size()) {
            throw new IllegalArgumentException("add needs equal sizes, got " + a.size() + " and " + b.size());
        }
        float[] y = a.data().clone();
        Kernels.addInPlace(y, b.data(), y.length);
        boolean req = a.requiresGrad() || b.requiresGrad();
        Tensor r = out(y, req, a.shape());
        if (req) {
            onGrad(t, r, () -> {
                if (a.requiresGrad()) {
                    Kernels.addInPlace(a.grad(), r.grad(), y.length);
                }
                if (b.requiresGrad()) {
                    Kernels.addInPlace(b.grad(), r.grad(), y.length);
                }
            });
        }
        return r;
    }

    /** {@code sum_i coef[i] * scalars[i]} of scalar tensors. */
    public static Tensor weightedSum(Tape t, double[] coef, Tensor... scalars) {
        if (coef.length != scalars.length) {
            throw new IllegalArgumentException(coef.length + " coefficients for " + scalars.length + " scalars");
        }
        double s = 0;
        for (int i = 0; i < coef.length; i++) {
            s += coef[i] * scalars[i].item();
        }
        Tensor r = out(new float[] {(float) s}, true, 1);
        t.record(() -> {
            float g = r.grad()[0];
            for (int i = 0; i < coef.length; i++) {
                if (scalars[i].requiresGrad()) {
                    scalars[i].grad()[0] += (float) (coef[i] * g);
                }
            }
        });
        return r;
    }

    /** {@code x * c} for a constant c, computed as {@code (float) (x / divisor)} when dividing. */
    public static Tensor divide(Tape t, Tensor x, double divisor) {
        float[] xs = x.data();
        float[] y = new float[xs.length];
        for (int i = 0; i < y.length; i++) {
            y[i] = (float) (xs[i] / divisor);
        }
        return elementwise(t, x, y, (g, gx) -> {
            for (int i = 0; i < y.length; i++) {
                gx[i] += (float) (g[i] / divisor);
            }
        });
    }

    /**
     * {@code x / s} with a learnable scalar divisor (BLIP's ITC {@code temp}): {@code dx = g / s},
     * {@code ds = -sum(g * x) / s^2}.
     */
    public static Tensor divide(Tape t, Tensor x, Tensor divisor) {
        if (divisor.size() != 1) {
            throw new IllegalArgumentException("the divisor must be a scalar, it has " + divisor.size() + " elements");
        }
        double s = divisor.item();
        float[] xs = x.data();
        float[] y = new float[xs.length];
        for (int i = 0; i < y.length; i++) {
            y[i] = (float) (xs[i] / s);
        }
        boolean req = x.requiresGrad() || divisor.requiresGrad();
        Tensor r = out(y, req, x.shape());
        if (req) {
            onGrad(t, r, () -> {
                float[] g = r.grad();
                if (x.requiresGrad()) {
                    float[] gx = x.grad();
                    for (int i = 0; i < y.length; i++) {
                        gx[i] += (float) (g[i] / s);
                    }
                }
                if (divisor.requiresGrad()) {
                    double acc = 0;
                    for (int i = 0; i < y.length; i++) {
                        acc += (double) g[i] * xs[i];
                    }
                    divisor.grad()[0] += (float) (-acc / (s * s));
                }
            });
        }
        return r;
    }

    /** {@code x * exp(logScale)} with a learnable scalar log-scale (BlipModel's {@code logit_scale}). */
    public static Tensor scaleByExp(Tape t, Tensor x, Tensor logScale) {
        float s = (float) Math.exp(logScale.item());
        float[] xs = x.data();
        float[] y = new float[xs.length];
        for (int i = 0; i < y.length; i++) {
            y[i] = xs[i] * s;
        }
        Tensor r = out(y, true, x.shape());
        onGrad(t, r, () -> {
            float[] g = r.grad();
            if (x.requiresGrad()) {
                float[] gx = x.grad();
                for (int i = 0; i < y.length; i++) {
                    gx[i] += g[i] * s;
                }
            }
            if (logScale.requiresGrad()) {
                double acc = 0;
                for (int i = 0; i < y.length; i++) {
                    acc += (double) g[i] * y[i];
                }
                logScale.grad()[0] += (float) acc;
            }
        });
        return r;
    }

    /**
     * Gathers blocks: block i of the output is block {@code index[i]} of x (block = {@code blockSize}
     * floats). Serves embedding lookups, first-token selection and repeating conditioning inputs
     * per row; gradients are scattered back and summed.
     */
    public static Tensor gather(Tape t, Tensor x, int blockSize, int[] index) {
        int blocks = x.size() / blockSize;
        float[] y = new float[index.length * blockSize];
        for (int i = 0; i < index.length; i++) {
            int src = index[i];
            if (src < 0 || src >= blocks) {
                throw new IllegalArgumentException("index " + src + " at position " + i + " is outside [0, " + blocks
                        + ")");
            }
            System.arraycopy(x.data(), src * blockSize, y, i * blockSize, blockSize);
        }
        Tensor r = out(y, x.requiresGrad(), index.length, blockSize);
        if (x.requiresGrad()) {
            onGrad(t, r, () -> {
                float[] g = r.grad();
                float[] gx = x.grad();
                for (int i = 0; i < index.length; i++) {
                    int dst = index[i] * blockSize;
                    int src = i * blockSize;
                    for (int j = 0; j < blockSize; j++) {
                        gx[dst + j] += g[src + j];
                    }
                }
            });
        }
        return r;
    }

    /** Columns {@code [from, from+width)} of x [rows, cols] (splitting a fused projection). */
    public static Tensor columns(Tape t, Tensor x, int rows, int cols, int from, int width) {
        float[] y = new float[rows * width];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(x.data(), r * cols + from, y, r * width, width);
        }
        Tensor res = out(y, x.requiresGrad(), rows, width);
        if (x.requiresGrad()) {
            onGrad(t, res, () -> {
                float[] g = res.grad();
                float[] gx = x.grad();
                for (int r = 0; r < rows; r++) {
                    for (int j = 0; j < width; j++) {
                        gx[r * cols + from + j] += g[r * width + j];
                    }
                }
            });
        }
        return res;
    }

    /** The transpose of x [rows, cols]. */
    public static Tensor transpose(Tape t, Tensor x, int rows, int cols) {
        Tensor r = out(transpose(x.data(), rows, cols), x.requiresGrad(), cols, rows);
        if (x.requiresGrad()) {
            onGrad(t, r, () -> Kernels.addInPlace(x.grad(), transpose(r.grad(), cols, rows), rows * cols));
        }
        return r;
    }

    /** Each row of x [rows, d] divided by its L2 norm (at least 1e-12), as {@code F.normalize}. */
    public static Tensor l2Normalize(Tape t, Tensor x, int rows, int d) {
        float[] y = x.data().clone();
        double[] norms = new double[rows];
        float[] xs = x.data();
        for (int r = 0; r < rows; r++) {
            double sq = 0;
            for (int i = 0; i < d; i++) {
                double v = xs[r * d + i];
                sq += v * v;
            }
            norms[r] = Math.max(Math.sqrt(sq), 1e-12);
        }
        Kernels.l2Normalize(y, rows, d);
        Tensor res = out(y, x.requiresGrad(), rows, d);
        if (x.requiresGrad()) {
            onGrad(t, res, () -> {
                float[] g = res.grad();
                float[] gx = x.grad();
                for (int r = 0; r < rows; r++) {
                    int o = r * d;
                    boolean clamped = norms[r] <= 1e-12;
                    double dot = 0;
                    for (int i = 0; i < d; i++) {
                        dot += (double) g[o + i] * xs[o + i] / norms[r];
                    }
                    for (int i = 0; i < d; i++) {
                        double yi = xs[o + i] / norms[r];
                        gx[o + i] += (float) (clamped ? g[o + i] / norms[r] : (g[o + i] - yi * dot) / norms[r]);
                    }
                }
            });
        }
        return res;
    }

    /**
     * Multi-head scaled dot-product attention, heads side by side in the feature dimension.
     * Row b's queries [qLen, width] attend to row b's keys and values [kvLen, width].
     *
     * @param causal       query i sees keys {@code j <= i} only; hidden keys get {@link #SELF_MASK_VALUE}
     *                     in place of the padding mask, as BERT combines them
     * @param additiveMask [rows, kvLen] added to the scores of visible keys, or null
     */
    public static Tensor attention(Tape t, Tensor q, Tensor k, Tensor v, int rows, int qLen, int kvLen, int heads,
                                   int headDim, boolean causal, float[] additiveMask) {
        Parallel p = t.parallel();
        int width = heads * headDim;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        float[] qs = q.data();
        float[] ks = k.data();
        float[] vs = v.data();
        float[] y = new float[rows * qLen * width];
        float[] probs = new float[rows * heads * qLen * kvLen];
        p.forRange(rows * heads, 1, (s, e) -> {
            for (int task = s; task < e; task++) {
                int b = task / heads;
                int h = task % heads;
                int kvBase = b * kvLen * width + h * headDim;
                for (int i = 0; i < qLen; i++) {
                    int qo = (b * qLen + i) * width + h * headDim;
                    int po = ((b * heads + h) * qLen + i) * kvLen;
                    for (int j = 0; j < kvLen; j++) {
                        float sc = Kernels.dot(qs, qo, ks, kvBase + j * width, headDim) * scale;
                        if (causal && j > i) {
                            sc += SELF_MASK_VALUE;
                        } else if (additiveMask != null) {
                            sc += additiveMask[b * kvLen + j];
                        }
                        probs[po + j] = sc;
                    }
                    Kernels.softmaxRow(probs, po, kvLen);
                    for (int j = 0; j < kvLen; j++) {
                        float pj = probs[po + j];
                        int vo = kvBase + j * width;
                        for (int d = 0; d < headDim; d++) {
                            y[qo + d] = Math.fma(pj, vs[vo + d], y[qo + d]);
                        }
                    }
                }
            }
        });
        boolean req = q.requiresGrad() || k.requiresGrad() || v.requiresGrad();
        Tensor r = out(y, req, rows * qLen, width);
        if (req) {
            onGrad(t, r, () -> {
                float[] g = r.grad();
                float[] gq = q.grad();
                float[] gk = k.grad();
                float[] gv = v.grad();
                // Each (row, head) task owns its own columns of its own row's q/k/v: no two tasks write the same float.
                p.forRange(rows * heads, 1, (s, e) -> {
                    double[] dp = new double[kvLen];
                    for (int task = s; task < e; task++) {
                        int b = task / heads;
                        int h = task % heads;
                        int kvBase = b * kvLen * width + h * headDim;
                        for (int i = 0; i < qLen; i++) {
                            int qo = (b * qLen + i) * width + h * headDim;
                            int po = ((b * heads + h) * qLen + i) * kvLen;
                            double sum = 0;
                            for (int j = 0; j < kvLen; j++) {
                                dp[j] = Kernels.dot(g, qo, vs, kvBase + j * width, headDim);
                                sum += probs[po + j] * dp[j];
                            }
                            for (int j = 0; j < kvLen; j++) {
                                float pj = probs[po + j];
                                int ko = kvBase + j * width;
                                float ds = (float) (pj * (dp[j] - sum) * scale);
                                for (int d = 0; d < headDim; d++) {
                                    gq[qo + d] += ds * ks[ko + d];
                                    gk[ko + d] += ds * qs[qo + d];
                                    gv[ko + d] += pj * g[qo + d];
                                }
                            }
                        }
                    }
                });
            });
        }
        return r;
    }

    /**
     * Mean cross-entropy of rows of logits [rows, n] against labels, as
     * {@code torch.nn.CrossEntropyLoss(label_smoothing=ls)}: rows labelled -100 are ignored and
     * the mean is over the others (NaN when none is left, as the reference).
     */
    public static Tensor crossEntropy(Tape t, Tensor logits, int rows, int n, int[] labels, double labelSmoothing) {
        if (labels.length != rows) {
            throw new IllegalArgumentException(labels.length + " labels for " + rows + " rows of logits");
        }
        float[] x = logits.data();
        double[] lse = new double[rows];
        double[] perRow = new double[rows];
        int count = 0;
        for (int r = 0; r < rows; r++) {
            if (labels[r] == -100) {
                continue;
            }
            if (labels[r] < 0 || labels[r] >= n) {
                throw new IllegalArgumentException("label " + labels[r] + " of row " + r + " is outside [0, " + n
                        + ") and is not -100");
            }
            count++;
        }
        t.parallel().forRange(rows, 1, (s, e) -> {
            for (int r = s; r < e; r++) {
                if (labels[r] == -100) {
                    continue;
                }
                int off = r * n;
                double max = Double.NEGATIVE_INFINITY;
                for (int i = 0; i < n; i++) {
                    max = Math.max(max, x[off + i]);
                }
                double sumExp = 0;
                double sumLogits = 0;
                for (int i = 0; i < n; i++) {
                    sumExp += Math.exp(x[off + i] - max);
                    sumLogits += x[off + i];
                }
                lse[r] = max + Math.log(sumExp);
                double nll = lse[r] - x[off + labels[r]];
                perRow[r] = (1 - labelSmoothing) * nll + labelSmoothing * (lse[r] - sumLogits / n);
            }
        });
        double total = 0;
        for (int r = 0; r < rows; r++) {
            total += perRow[r];
        }
        int used = count;
        Tensor res = out(new float[] {(float) (total / used)}, logits.requiresGrad(), 1);
        if (logits.requiresGrad() && used > 0) {
            t.record(() -> {
                double g = res.grad()[0] / used;
                float[] gx = logits.grad();
                t.parallel().forRange(rows, 1, (s, e) -> {
                    for (int r = s; r < e; r++) {
                        if (labels[r] == -100) {
                            continue;
                        }
                        int off = r * n;
                        for (int i = 0; i < n; i++) {
                            double pi = Math.exp(x[off + i] - lse[r]);
                            double target = labelSmoothing / n + (i == labels[r] ? 1 - labelSmoothing : 0);
                            gx[off + i] += (float) (g * (pi - target));
                        }
                    }
                });
            });
        }
        return res;
    }
}
