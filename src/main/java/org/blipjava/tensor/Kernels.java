package org.blipjava.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * CPU kernels on row-major float arrays.
 *
 * <p>Every output element is computed by one thread with a fixed reduction order, so results do
 * not depend on the number of threads. Arrays are never resized; callers pass outputs of the
 * right length.
 */
public final class Kernels {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = F.length();

    private Kernels() {}

    /**
     * A fully connected layer as PyTorch's {@code nn.Linear}: {@code y = x W^T + b}.
     *
     * @param x    input [rows, in]
     * @param w    weight [out, in] (PyTorch layout)
     * @param b    bias [out], or null
     * @param y    output [rows, out]
     */
    public static void linear(Parallel p, float[] x, int rows, int in, float[] w, float[] b, int out, float[] y) {
        checkLength("x", x, (long) rows * in);
        checkLength("w", w, (long) out * in);
        checkLength("y", y, (long) rows * out);
        if (b != null) {
            checkLength("b", b, out);
        }
        // Packing costs one pass over w; the product reads it rows/6 times, so it pays for itself.
        Gemm.packed(p, x, 0, in, rows, PackedMatrix.ofLinearWeight(w, out, in), b, y, 0, out);
    }

    /**
     * {@code y = x W^T + b} with the weight packed once ahead of time (see {@link PackedMatrix}):
     * the fast path of the model's layers.
     *
     * @param x input [rows, w.k()]
     * @param b bias [w.n()], or null
     * @param y output [rows, w.n()]
     */
    public static void linear(Parallel p, float[] x, int rows, PackedMatrix w, float[] b, float[] y) {
        checkLength("x", x, (long) rows * w.k());
        checkLength("y", y, (long) rows * w.n());
        if (b != null) {
            checkLength("b", b, w.n());
        }
        Gemm.packed(p, x, 0, w.k(), rows, w, b, y, 0, w.n());
    }

    /**
     * As {@link #linear(Parallel, float[], int, PackedMatrix, float[], float[])} on a block of rows:
     * reads {@code x} from float {@code xOff} and writes {@code y} from float {@code yOff}, so a
     * layer can run over a large batch a slice of rows at a time (each output row is the same
     * whichever slice computes it).
     *
     * @param x input, rows {@code [rows, w.k()]} starting at {@code xOff}
     * @param y output, rows {@code [rows, w.n()]} starting at {@code yOff}
     */
    public static void linear(Parallel p, float[] x, int xOff, int rows, PackedMatrix w, float[] b, float[] y,
                              int yOff) {
        if (xOff < 0 || yOff < 0) {
            throw new IllegalArgumentException("offsets must be non-negative, got x " + xOff + " and y " + yOff);
        }
        checkLength("x", x, xOff + (long) rows * w.k());
        checkLength("y", y, yOff + (long) rows * w.n());
        if (b != null) {
            checkLength("b", b, w.n());
        }
        Gemm.packed(p, x, xOff, w.k(), rows, w, b, y, yOff, w.n());
    }

    /**
     * Sums the lanes first to last. {@code reduceLanes(ADD)} is not used: its order differs between
     * the JIT intrinsic and the interpreter's fallback, which would make results depend on warm-up.
     */
    private static float sumLanes(FloatVector v) {
        float s = 0f;
        for (int i = 0; i < LANES; i++) {
            s += v.lane(i);
        }
        return s;
    }

    /** Dot product of {@code a[ao..ao+n)} and {@code b[bo..bo+n)} with a fixed reduction order. */
    public static float dot(float[] a, int ao, float[] b, int bo, int n) {
        FloatVector acc = FloatVector.zero(F);
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += LANES) {
            acc = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), acc);
        }
        float s = sumLanes(acc);
        for (; i < n; i++) {
            s = Math.fma(a[ao + i], b[bo + i], s);
        }
        return s;
    }

    /**
     * Layer normalization over the last dimension, as {@code nn.LayerNorm}:
     * {@code (x - mean) / sqrt(var + eps) * gamma + beta} with the biased variance.
     *
     * @param x   input [rows, d]
     * @param out output [rows, d] (may be {@code x})
     */
    public static void layerNorm(Parallel p, float[] x, int rows, int d, float[] gamma, float[] beta, double eps,
                                 float[] out) {
        layerNorm(p, x, rows, d, gamma, beta, eps, out, null, null);
    }

    /**
     * As {@link #layerNorm(Parallel, float[], int, int, float[], float[], double, float[])}, also
     * keeping what the backward pass needs: the normalized input before gamma and beta, and each
     * row's {@code 1/sqrt(var + eps)}.
     *
     * @param xhat [rows, d] normalized input, or null
     * @param rstd [rows] inverse standard deviations, or null
     */
    public static void layerNorm(Parallel p, float[] x, int rows, int d, float[] gamma, float[] beta, double eps,
                                 float[] out, float[] xhat, double[] rstd) {
        checkLength("x", x, (long) rows * d);
        checkLength("out", out, (long) rows * d);
        if (p.threads() == 1 || rows <= LAYER_NORM_GRAIN) {
            // One chunk: run it here without building a loop body (a decoding step allocates nothing).
            layerNormRows(x, 0, rows, d, gamma, beta, eps, out, xhat, rstd);
            return;
        }
        p.forRange(rows, LAYER_NORM_GRAIN, (s, e) -> layerNormRows(x, s, e, d, gamma, beta, eps, out, xhat, rstd));
    }

    private static final int LAYER_NORM_GRAIN = 16;

    private static void layerNormRows(float[] x, int s, int e, int d, float[] gamma, float[] beta, double eps,
                                      float[] out, float[] xhat, double[] rstd) {
        for (int r = s; r < e; r++) {
            int o = r * d;
            double sum = 0;
            for (int i = 0; i < d; i++) {
                sum += x[o + i];
            }
            double mean = sum / d;
            double sq = 0;
            for (int i = 0; i < d; i++) {
                double t = x[o + i] - mean;
                sq += t * t;
            }
            double inv = 1.0 / Math.sqrt(sq / d + eps);
            if (rstd != null) {
                rstd[r] = inv;
            }
            for (int i = 0; i < d; i++) {
                double h = (x[o + i] - mean) * inv;
                if (xhat != null) {
                    xhat[o + i] = (float) h;
                }
                out[o + i] = (float) (h * gamma[i] + beta[i]);
            }
        }
    }

    /**
     * GELU in its exact form {@code x/2 * (1 + erf(x/sqrt 2))}, in place. erf is evaluated in float
     * as Abramowitz and Stegun 7.1.26 (absolute error below 3e-7), through erfc for negative
     * arguments so small outputs keep their relative accuracy.
     */
    public static void gelu(Parallel p, float[] x, int n) {
        gelu(p, x, 0, n);
    }

    /** {@link #gelu(Parallel, float[], int)} on {@code x[off..off+n)}. */
    public static void gelu(Parallel p, float[] x, int off, int n) {
        if (off < 0 || n < 0 || (long) off + n > x.length) {
            throw new IllegalArgumentException("range [" + off + ", " + ((long) off + n) + ") outside x of "
                    + x.length + " floats");
        }
        if (p.threads() == 1 || n <= GELU_GRAIN) {
            geluRange(x, off, off + n);
            return;
        }
        p.forRange(n, GELU_GRAIN, (s, e) -> geluRange(x, off + s, off + e));
    }

    private static final int GELU_GRAIN = 16384;

    private static void geluRange(float[] x, int s, int e) {
        int i = s;
        int bound = s + F.loopBound(e - s);
        for (; i < bound; i += LANES) {
            FloatVector v = FloatVector.fromArray(F, x, i);
            FloatVector z = v.abs().mul(0.70710678118654752f);
            FloatVector t = FloatVector.broadcast(F, 1f).div(z.fma(FloatVector.broadcast(F, ERF_P),
                    FloatVector.broadcast(F, 1f)));
            FloatVector poly = FloatVector.broadcast(F, ERF_A5);
            poly = poly.fma(t, FloatVector.broadcast(F, ERF_A4));
            poly = poly.fma(t, FloatVector.broadcast(F, ERF_A3));
            poly = poly.fma(t, FloatVector.broadcast(F, ERF_A2));
            poly = poly.fma(t, FloatVector.broadcast(F, ERF_A1));
            FloatVector erfc = poly.mul(t).mul(exp(z.mul(z).neg()));
            FloatVector half = v.mul(0.5f);
            FloatVector pos = half.mul(FloatVector.broadcast(F, 2f).sub(erfc));
            FloatVector neg = half.mul(erfc);
            pos.blend(neg, v.lt(0f)).intoArray(x, i);
        }
        for (; i < e; i++) {
            x[i] = geluScalar(x[i]);
        }
    }

    private static final float ERF_P = 0.3275911f;
    private static final float ERF_A1 = 0.254829592f;
    private static final float ERF_A2 = -0.284496736f;
    private static final float ERF_A3 = 1.421413741f;
    private static final float ERF_A4 = -1.453152027f;
    private static final float ERF_A5 = 1.061405429f;

    /** The scalar form of the vector GELU in {@link #gelu}, with the same operations. */
    static float geluScalar(float v) {
        float z = Math.abs(v) * 0.70710678118654752f;
        float t = 1f / Math.fma(z, ERF_P, 1f);
        float poly = ERF_A5;
        poly = Math.fma(poly, t, ERF_A4);
        poly = Math.fma(poly, t, ERF_A3);
        poly = Math.fma(poly, t, ERF_A2);
        poly = Math.fma(poly, t, ERF_A1);
        float erfc = poly * t * expScalar(-(z * z));
        float half = v * 0.5f;
        return v < 0f ? half * erfc : half * (2f - erfc);
    }

    /**
     * CLIP's {@code quick_gelu}, {@code x * sigmoid(1.702 x)}, in place: the activation OpenAI's
     * CLIP checkpoints were trained with (a cheaper sigmoid stand-in for GELU, not an
     * approximation of it that other models may swap in).
     */
    public static void quickGelu(Parallel p, float[] x, int n) {
        quickGelu(p, x, 0, n);
    }

    /** {@link #quickGelu(Parallel, float[], int)} on {@code x[off..off+n)}. */
    public static void quickGelu(Parallel p, float[] x, int off, int n) {
        if (off < 0 || n < 0 || (long) off + n > x.length) {
            throw new IllegalArgumentException("range [" + off + ", " + ((long) off + n) + ") outside x of "
                    + x.length + " floats");
        }
        if (p.threads() == 1 || n <= GELU_GRAIN) {
            quickGeluRange(x, off, off + n);
            return;
        }
        p.forRange(n, GELU_GRAIN, (s, e) -> quickGeluRange(x, off + s, off + e));
    }

    private static final float QUICK_GELU_ALPHA = 1.702f;
    /**
     * Below this the exact result is under 1e-36 in magnitude while {@link #exp} has already
     * clamped its argument (at 88), so the result is set to 0: without that, x near -FLT_MAX would
     * come out as x / e^88, far from the reference's 0.
     */
    private static final float QUICK_GELU_ZERO_BELOW = -52f;

    private static void quickGeluRange(float[] x, int s, int e) {
        int i = s;
        int bound = s + F.loopBound(e - s);
        FloatVector one = FloatVector.broadcast(F, 1f);
        for (; i < bound; i += LANES) {
            FloatVector v = FloatVector.fromArray(F, x, i);
            FloatVector denom = exp(v.mul(-QUICK_GELU_ALPHA)).add(one);
            v.div(denom).blend(0f, v.lt(QUICK_GELU_ZERO_BELOW)).intoArray(x, i);
        }
        for (; i < e; i++) {
            x[i] = quickGeluScalar(x[i]);
        }
    }

    /** The scalar form of the vector quick GELU in {@link #quickGelu}, with the same operations. */
    static float quickGeluScalar(float v) {
        float y = v / (expScalar(v * -QUICK_GELU_ALPHA) + 1f);
        return v < QUICK_GELU_ZERO_BELOW ? 0f : y;
    }

    /** tanh, in place (the text pooler's activation). */
    public static void tanh(float[] x, int n) {
        for (int i = 0; i < n; i++) {
            x[i] = (float) Math.tanh(x[i]);
        }
    }

    /**
     * The error function to about 1e-15 absolute: a Taylor series near zero, a continued fraction
     * for the complement in the tails.
     */
    public static double erf(double x) {
        double a = Math.abs(x);
        double r;
        if (a < 2.5) {
            // erf(x) = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1))
            double x2 = a * a;
            double term = a;
            double sum = a;
            for (int n = 1; n < 80; n++) {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.abs(add) < 1e-17 * Math.abs(sum)) {
                    break;
                }
            }
            r = sum * 1.1283791670955126;
        } else if (a > 6.0) {
            r = 1.0;
        } else {
            // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), evaluated backwards.
            double f = a;
            for (int k = 60; k >= 1; k--) {
                f = a + (k * 0.5) / f;
            }
            r = 1.0 - Math.exp(-a * a) / (f * 1.7724538509055159);
        }
        return x < 0 ? -r : r;
    }

    /** Softmax over each row of {@code [rows, n]}, in place (max-subtracted, as PyTorch). */
    public static void softmax(float[] x, int rows, int n) {
        for (int r = 0; r < rows; r++) {
            softmaxRow(x, r * n, n);
        }
    }

    /** Softmax of {@code x[off..off+n)} in place. */
    public static void softmaxRow(float[] x, int off, int n) {
        int bound = F.loopBound(n);
        FloatVector vmax = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (; i < bound; i += LANES) {
            vmax = vmax.max(FloatVector.fromArray(F, x, off + i));
        }
        float max = Float.NEGATIVE_INFINITY;
        for (int l = 0; l < LANES; l++) {
            max = Math.max(max, vmax.lane(l));
        }
        for (; i < n; i++) {
            max = Math.max(max, x[off + i]);
        }
        FloatVector vm = FloatVector.broadcast(F, max);
        FloatVector vsum = FloatVector.zero(F);
        for (i = 0; i < bound; i += LANES) {
            FloatVector ev = exp(FloatVector.fromArray(F, x, off + i).sub(vm));
            ev.intoArray(x, off + i);
            vsum = vsum.add(ev);
        }
        float sum = sumLanes(vsum);
        for (; i < n; i++) {
            float ev = expScalar(x[off + i] - max);
            x[off + i] = ev;
            sum += ev;
        }
        FloatVector inv = FloatVector.broadcast(F, 1f / sum);
        for (i = 0; i < bound; i += LANES) {
            FloatVector.fromArray(F, x, off + i).mul(inv).intoArray(x, off + i);
        }
        float invs = 1f / sum;
        for (; i < n; i++) {
            x[off + i] *= invs;
        }
    }

    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    /** 1.5 * 2^23: adding and subtracting it rounds a float to the nearest integer. */
    private static final float ROUNDER = 12582912f;

    /**
     * e^x to about 2 ulp from adds, multiplies and fused multiply-adds only, so the JIT-compiled
     * and interpreted forms agree bit for bit (the library's vector EXP may not). Below -87.3
     * (where float underflows) the result is 0.
     */
    static FloatVector exp(FloatVector x) {
        FloatVector xc = x.max(-87.3f).min(88.0f);
        FloatVector nf = xc.mul(LOG2E).add(ROUNDER).sub(ROUNDER);
        FloatVector r = nf.fma(FloatVector.broadcast(F, -LN2_HI), xc);
        r = nf.fma(FloatVector.broadcast(F, -LN2_LO), r);
        FloatVector poly = FloatVector.broadcast(F, 1.9875691500e-4f);
        poly = poly.fma(r, FloatVector.broadcast(F, 1.3981999507e-3f));
        poly = poly.fma(r, FloatVector.broadcast(F, 8.3334519073e-3f));
        poly = poly.fma(r, FloatVector.broadcast(F, 4.1665795894e-2f));
        poly = poly.fma(r, FloatVector.broadcast(F, 1.6666665459e-1f));
        poly = poly.fma(r, FloatVector.broadcast(F, 5.0000001201e-1f));
        FloatVector r2 = r.mul(r);
        FloatVector y = poly.fma(r2, r).add(1f);
        jdk.incubator.vector.IntVector bits = ((jdk.incubator.vector.IntVector) nf.convert(
                jdk.incubator.vector.VectorOperators.F2I, 0)).add(127).lanewise(jdk.incubator.vector.VectorOperators.LSHL, 23);
        FloatVector scaled = y.mul(bits.reinterpretAsFloats());
        return scaled.blend(0f, x.lt(-87.3f));
    }

    /** The scalar form of {@link #exp(FloatVector)}, with the same operations in the same order. */
    static float expScalar(float x) {
        if (x < -87.3f) {
            return 0f;
        }
        float xc = Math.min(Math.max(x, -87.3f), 88.0f);
        float nf = xc * LOG2E + ROUNDER - ROUNDER;
        float r = Math.fma(nf, -LN2_HI, xc);
        r = Math.fma(nf, -LN2_LO, r);
        float poly = 1.9875691500e-4f;
        poly = Math.fma(poly, r, 1.3981999507e-3f);
        poly = Math.fma(poly, r, 8.3334519073e-3f);
        poly = Math.fma(poly, r, 4.1665795894e-2f);
        poly = Math.fma(poly, r, 1.6666665459e-1f);
        poly = Math.fma(poly, r, 5.0000001201e-1f);
        float y = Math.fma(poly, r * r, r) + 1f;
        return y * Float.intBitsToFloat(((int) nf + 127) << 23);
    }

    /**
     * Gathers rows of an embedding table: {@code out[i] = table[ids[i]]}.
     *
     * @param table [vocab, d]
     * @param out   [ids.length, d]
     */
    public static void embedding(float[] table, int vocab, int d, int[] ids, float[] out, int outOffset) {
        for (int i = 0; i < ids.length; i++) {
            int id = ids[i];
            if (id < 0 || id >= vocab) {
                throw new IllegalArgumentException("token id " + id + " at position " + i
                        + " is outside the vocabulary [0, " + vocab + ")");
            }
            System.arraycopy(table, id * d, out, outOffset + i * d, d);
        }
    }

    /** Element-wise {@code a += b} over the first n elements. */
    public static void addInPlace(float[] a, float[] b, int n) {
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += LANES) {
            FloatVector.fromArray(F, a, i).add(FloatVector.fromArray(F, b, i)).intoArray(a, i);
        }
        for (; i < n; i++) {
            a[i] += b[i];
        }
    }

    /** Divides each row of {@code [rows, d]} by its L2 norm (at least 1e-12, as {@code F.normalize}), in place. */
    public static void l2Normalize(float[] x, int rows, int d) {
        for (int r = 0; r < rows; r++) {
            double sq = 0;
            for (int i = 0; i < d; i++) {
                double v = x[r * d + i];
                sq += v * v;
            }
            double norm = Math.max(Math.sqrt(sq), 1e-12);
            for (int i = 0; i < d; i++) {
                x[r * d + i] = (float) (x[r * d + i] / norm);
            }
        }
    }

    /**
     * Multi-head scaled dot-product attention with additive masks, heads side by side in the
     * feature dimension ({@code head h} owns columns {@code [h*headDim, (h+1)*headDim)}).
     *
     * <p>Query row {@code b} attends to key/value entry {@code kvIndex[b]} (identity when null),
     * which lets rows that read the same input share its keys and values.
     *
     * @param spec    shapes, strides and masking
     * @param q       queries [rows, qLen, width]
     * @param k       keys; entry e, position j at {@code e*spec.kvStride() + j*width}
     * @param v       values, laid out as k
     * @param kvIndex entry read by each row, or null for entry = row
     * @param mask    additive key mask; entry e, position j at {@code e*spec.maskStride() + j}, or null
     * @param out     context [rows, qLen, width]
     */
    public static void attention(Parallel p, AttentionSpec spec, float[] q, float[] k, float[] v, int[] kvIndex,
                                 float[] mask, float[] out) {
        attention(p, spec, q, k, v, kvIndex, mask, out, new AttentionScratch());
    }

    /**
     * As {@link #attention(Parallel, AttentionSpec, float[], float[], float[], int[], float[], float[])}
     * with the row order and the one-query path's scores in the caller's {@code scratch}, so a
     * decoding step that presized it allocates no buffers (the several-query path still takes its
     * blocks per chunk). The results are the same.
     */
    public static void attention(Parallel p, AttentionSpec spec, float[] q, float[] k, float[] v, int[] kvIndex,
                                 float[] mask, float[] out, AttentionScratch scratch) {
        int rows = spec.rows();
        int tasks = rows * spec.heads();
        // Several queries per row: scores and context as register-blocked products over a block of
        // queries (never the whole [heads, q, k] matrix). One or a few (decoding): plain dot products
        // with a row of scores per task.
        boolean blocked = spec.qLen() >= Gemm.MR;
        scratch.ensure(rows, blocked ? 0 : tasks * spec.kvLen());
        // Tasks run head by head over rows ordered by the entry they read, so consecutive rows that
        // share an entry (beams, texts scored against one image) reuse its packed keys and values.
        int[] order = scratch.order;
        rowsByEntry(rows, kvIndex, order, scratch.keys);
        float[] taskScores = scratch.scores;
        if (p.threads() == 1) {
            // One chunk on this thread, without building a loop body (a decoding step allocates nothing).
            attentionTasks(spec, 0, tasks, order, q, k, v, kvIndex, mask, out, taskScores);
            return;
        }
        p.forChunks(tasks, Math.max(1, tasks / (4 * p.threads())),
                (s, e) -> attentionTasks(spec, s, e, order, q, k, v, kvIndex, mask, out, taskScores));
    }

    /** Tasks {@code [s, e)} of {@link #attention}: task t is head {@code t / rows} of row {@code order[t % rows]}. */
    private static void attentionTasks(AttentionSpec spec, int s, int e, int[] order, float[] q, float[] k, float[] v,
                                       int[] kvIndex, float[] mask, float[] out, float[] taskScores) {
        int rows = spec.rows();
        int kvLen = spec.kvLen();
        int hd = spec.headDim();
        if (spec.qLen() >= Gemm.MR) {
            float[] scores = new float[Math.min(spec.qLen(), ATTENTION_QUERY_BLOCK) * kvLen];
            float[] kt = new float[PackedMatrix.packedLength(hd, kvLen)];
            float[] vp = new float[PackedMatrix.packedLength(kvLen, hd)];
            int packedEntry = -1;
            int packedHead = -1;
            for (int t = s; t < e; t++) {
                int h = t / rows;
                int b = order[t % rows];
                int entry = kvIndex == null ? b : kvIndex[b];
                if (entry != packedEntry || h != packedHead) {
                    packHead(spec, entry, h, k, v, kt, vp);
                    packedEntry = entry;
                    packedHead = h;
                }
                attentionBlocked(spec, b, h, q, entry, mask, out, scores, kt, vp);
            }
        } else {
            // Each task has its own slice of the scores, whichever thread runs it.
            for (int t = s; t < e; t++) {
                attentionRows(spec, order[t % rows], t / rows, q, k, v, kvIndex, mask, out, taskScores, t * kvLen);
            }
        }
    }

    /**
     * Buffers of {@link #attention(Parallel, AttentionSpec, float[], float[], float[], int[], float[], float[],
     * AttentionScratch)}: the row order and, for one or a few queries per row, a row of scores per
     * (row, head) task. Grows when a call needs more; presize it to keep every call allocation-free.
     * Belongs to one caller: not thread-safe.
     */
    public static final class AttentionScratch {
        private int[] order = new int[0];
        private long[] keys = new long[0];
        private float[] scores = new float[0];

        /** Empty: the first call sizes it. */
        public AttentionScratch() {}

        /**
         * Room for {@code rows} query rows of {@code heads} heads over up to {@code kvLen} keys with
         * one or a few queries per row.
         */
        public AttentionScratch(int rows, int heads, int kvLen) {
            ensure(rows, rows * heads * kvLen);
        }

        private void ensure(int rows, int scoreFloats) {
            if (order.length < rows) {
                order = new int[rows];
                keys = new long[rows];
            }
            if (scores.length < scoreFloats) {
                scores = new float[scoreFloats];
            }
        }
    }

    /**
     * Rows ordered by the entry they read, rows reading one entry in their own order (a stable sort),
     * into {@code order[0..rows)}; {@code keys} is room for the sort.
     */
    private static void rowsByEntry(int rows, int[] kvIndex, int[] order, long[] keys) {
        boolean sorted = true;
        for (int i = 0; i < rows; i++) {
            order[i] = i;
            if (kvIndex != null && i > 0 && kvIndex[i] < kvIndex[i - 1]) {
                sorted = false;
            }
        }
        if (sorted) {
            return;
        }
        // Entry above, row below: distinct keys, so their order is the stable order by entry.
        for (int i = 0; i < rows; i++) {
            keys[i] = ((long) kvIndex[i] << 32) | i;
        }
        java.util.Arrays.sort(keys, 0, rows);
        for (int i = 0; i < rows; i++) {
            order[i] = (int) keys[i];
        }
    }

    /** One head's K^T [hd, kvLen] and V [kvLen, hd] of one entry, packed for {@link Gemm#range}. */
    private static void packHead(AttentionSpec spec, int entry, int h, float[] k, float[] v, float[] kt, float[] vp) {
        int kvLen = spec.kvLen();
        int hd = spec.headDim();
        int width = spec.heads() * hd;
        int nr = Gemm.NR;
        int kvBase = entry * spec.kvStride() + h * hd;
        for (int j = 0; j < kvLen; j++) {
            int dst = (j / nr) * hd * nr + j % nr;
            int src = kvBase + j * width;
            for (int d = 0; d < hd; d++) {
                kt[dst + d * nr] = k[src + d];
            }
        }
        for (int j = 0; j < kvLen; j++) {
            int src = kvBase + j * width;
            for (int d = 0; d < hd; d++) {
                vp[(d / nr) * kvLen * nr + j * nr + d % nr] = v[src + d];
            }
        }
    }

    private static final int ATTENTION_QUERY_BLOCK = 48;

    private static void attentionBlocked(AttentionSpec spec, int b, int h, float[] q, int entry, float[] mask,
                                         float[] out, float[] scores, float[] kt, float[] vp) {
        int qLen = spec.qLen();
        int kvLen = spec.kvLen();
        int hd = spec.headDim();
        int width = spec.heads() * hd;
        int nr = Gemm.NR;
        int vPanels = (hd + nr - 1) / nr;
        int kPanels = (kvLen + nr - 1) / nr;
        float scale = spec.scale();
        int maskBase = entry * spec.maskStride();
        for (int i0 = 0; i0 < qLen; i0 += ATTENTION_QUERY_BLOCK) {
            int m = Math.min(ATTENTION_QUERY_BLOCK, qLen - i0);
            int qo = (b * qLen + i0) * width + h * hd;
            Gemm.range(q, qo, width, 0, m, kt, hd, kvLen, null, scores, 0, kvLen, 0, kPanels);
            for (int r = 0; r < m; r++) {
                int i = i0 + r;
                int so = r * kvLen;
                int visible = spec.causal() ? Math.min(kvLen, spec.pastLen() + i + 1) : kvLen;
                for (int j = 0; j < kvLen; j++) {
                    float sc = scores[so + j] * scale;
                    if (j >= visible) {
                        sc += spec.causalMaskValue();
                    } else if (mask != null) {
                        sc += mask[maskBase + j];
                    }
                    scores[so + j] = sc;
                }
                softmaxRow(scores, so, kvLen);
            }
            Gemm.range(scores, 0, kvLen, 0, m, vp, kvLen, hd, null, out, qo, width, 0, vPanels);
        }
    }

    private static void attentionRows(AttentionSpec spec, int b, int h, float[] q, float[] k, float[] v,
                                      int[] kvIndex, float[] mask, float[] out, float[] scores, int so) {
        int qLen = spec.qLen();
        int kvLen = spec.kvLen();
        int hd = spec.headDim();
        int width = spec.heads() * hd;
        float scale = spec.scale();
        int entry = kvIndex == null ? b : kvIndex[b];
        int kvBase = entry * spec.kvStride() + h * hd;
        for (int i = 0; i < qLen; i++) {
            int qo = (b * qLen + i) * width + h * hd;
            int visible = spec.causal() ? Math.min(kvLen, spec.pastLen() + i + 1) : kvLen;
            for (int j = 0; j < kvLen; j++) {
                float sc = dot(q, qo, k, kvBase + j * width, hd) * scale;
                if (j >= visible) {
                    sc += spec.causalMaskValue();
                } else if (mask != null) {
                    sc += mask[entry * spec.maskStride() + j];
                }
                scores[so + j] = sc;
            }
            softmaxRow(scores, so, kvLen);
            int oo = qo;
            int bound = F.loopBound(hd);
            int d = 0;
            for (; d < bound; d += LANES) {
                FloatVector acc = FloatVector.zero(F);
                int vo = kvBase + d;
                for (int j = 0; j < kvLen; j++, vo += width) {
                    acc = FloatVector.fromArray(F, v, vo).fma(FloatVector.broadcast(F, scores[so + j]), acc);
                }
                acc.intoArray(out, oo + d);
            }
            for (; d < hd; d++) {
                float acc = 0f;
                for (int j = 0; j < kvLen; j++) {
                    acc = Math.fma(scores[so + j], v[kvBase + j * width + d], acc);
                }
                out[oo + d] = acc;
            }
        }
    }

    /**
     * Shapes and masking of one {@link #attention} call.
     *
     * @param rows            query rows (batch)
     * @param qLen            queries per row
     * @param kvLen           keys per entry that are attended to
     * @param heads           number of heads
     * @param headDim         width of one head
     * @param scale           factor applied to q.k (1/sqrt(headDim))
     * @param kvStride        floats between consecutive key/value entries
     * @param maskStride      floats between consecutive mask entries
     * @param causal          whether query i sees only keys {@code j <= pastLen + i}
     * @param pastLen         keys before the first query (cached positions)
     * @param causalMaskValue additive value for keys hidden by causality (BERT-style -10000)
     */
    public record AttentionSpec(int rows, int qLen, int kvLen, int heads, int headDim, float scale,
                                int kvStride, int maskStride, boolean causal, int pastLen, float causalMaskValue) {
        /** Plain attention over contiguous [rows, len, width] keys/values. */
        public static AttentionSpec dense(int rows, int qLen, int kvLen, int heads, int headDim) {
            return strided(rows, qLen, kvLen, heads, headDim, kvLen * heads * headDim, kvLen);
        }

        /**
         * Plain attention with key/value entries {@code kvStride} floats apart and mask entries
         * {@code maskStride} apart (one record, where {@code dense(..).withKvStride(..).withMaskStride(..)}
         * builds three).
         */
        public static AttentionSpec strided(int rows, int qLen, int kvLen, int heads, int headDim, int kvStride,
                                            int maskStride) {
            return new AttentionSpec(rows, qLen, kvLen, heads, headDim, (float) (1.0 / Math.sqrt(headDim)),
                    kvStride, maskStride, false, 0, 0f);
        }

        /** The same with a causal mask over {@code pastLen} cached plus the new positions. */
        public AttentionSpec withCausal(int pastLen, float maskValue) {
            return new AttentionSpec(rows, qLen, kvLen, heads, headDim, scale, kvStride, maskStride, true, pastLen,
                    maskValue);
        }

        /** The same with another key/value entry stride (a cache with room for more positions). */
        public AttentionSpec withKvStride(int stride) {
            return new AttentionSpec(rows, qLen, kvLen, heads, headDim, scale, stride, maskStride, causal, pastLen,
                    causalMaskValue);
        }

        /** The same with another mask entry stride. */
        public AttentionSpec withMaskStride(int stride) {
            return new AttentionSpec(rows, qLen, kvLen, heads, headDim, scale, kvStride, stride, causal, pastLen,
                    causalMaskValue);
        }
    }

    private static void checkLength(String name, float[] a, long expected) {
        if (a.length < expected) {
            throw new IllegalArgumentException(name + " has " + a.length + " floats, needs " + expected);
        }
    }
}
