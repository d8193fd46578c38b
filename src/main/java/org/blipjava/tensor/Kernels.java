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
    /** Rows and columns of one parallel task of {@link #linear}; sized to keep a weight block in cache. */
    private static final int ROW_BLOCK = 32;
    private static final int COL_BLOCK = 64;

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
        int rowBlocks = (rows + ROW_BLOCK - 1) / ROW_BLOCK;
        int colBlocks = (out + COL_BLOCK - 1) / COL_BLOCK;
        p.forRange(rowBlocks * colBlocks, 1, (s, e) -> {
            for (int t = s; t < e; t++) {
                int r0 = (t / colBlocks) * ROW_BLOCK;
                int c0 = (t % colBlocks) * COL_BLOCK;
                linearBlock(x, in, w, b, out, y, r0, Math.min(rows, r0 + ROW_BLOCK), c0, Math.min(out, c0 + COL_BLOCK));
            }
        });
    }

    private static void linearBlock(float[] x, int in, float[] w, float[] b, int out, float[] y,
                                    int r0, int r1, int c0, int c1) {
        int r = r0;
        // 2x4 register tiles: each x row and w row loaded once feeds several accumulators.
        for (; r + 2 <= r1; r += 2) {
            int c = c0;
            for (; c + 4 <= c1; c += 4) {
                tile2x4(x, in, w, b, out, y, r, c);
            }
            for (; c < c1; c++) {
                y[r * out + c] = dot(x, r * in, w, c * in, in) + bias(b, c);
                y[(r + 1) * out + c] = dot(x, (r + 1) * in, w, c * in, in) + bias(b, c);
            }
        }
        for (; r < r1; r++) {
            for (int c = c0; c < c1; c++) {
                y[r * out + c] = dot(x, r * in, w, c * in, in) + bias(b, c);
            }
        }
    }

    private static float bias(float[] b, int c) {
        return b == null ? 0f : b[c];
    }

    // Same accumulation order as dot(): lane-wise FMA, then lanes summed first to last, then a scalar tail.
    private static void tile2x4(float[] x, int in, float[] w, float[] b, int out, float[] y, int r, int c) {
        int xa = r * in;
        int xb = xa + in;
        int w0 = c * in;
        int w1 = w0 + in;
        int w2 = w1 + in;
        int w3 = w2 + in;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F), b2 = FloatVector.zero(F), b3 = FloatVector.zero(F);
        int bound = F.loopBound(in);
        int i = 0;
        for (; i < bound; i += LANES) {
            FloatVector xr = FloatVector.fromArray(F, x, xa + i);
            FloatVector xs = FloatVector.fromArray(F, x, xb + i);
            FloatVector v0 = FloatVector.fromArray(F, w, w0 + i);
            FloatVector v1 = FloatVector.fromArray(F, w, w1 + i);
            FloatVector v2 = FloatVector.fromArray(F, w, w2 + i);
            FloatVector v3 = FloatVector.fromArray(F, w, w3 + i);
            a0 = xr.fma(v0, a0);
            a1 = xr.fma(v1, a1);
            a2 = xr.fma(v2, a2);
            a3 = xr.fma(v3, a3);
            b0 = xs.fma(v0, b0);
            b1 = xs.fma(v1, b1);
            b2 = xs.fma(v2, b2);
            b3 = xs.fma(v3, b3);
        }
        float s0 = sumLanes(a0), s1 = sumLanes(a1), s2 = sumLanes(a2), s3 = sumLanes(a3);
        float t0 = sumLanes(b0), t1 = sumLanes(b1), t2 = sumLanes(b2), t3 = sumLanes(b3);
        for (; i < in; i++) {
            float xr = x[xa + i];
            float xs = x[xb + i];
            s0 = Math.fma(xr, w[w0 + i], s0);
            s1 = Math.fma(xr, w[w1 + i], s1);
            s2 = Math.fma(xr, w[w2 + i], s2);
            s3 = Math.fma(xr, w[w3 + i], s3);
            t0 = Math.fma(xs, w[w0 + i], t0);
            t1 = Math.fma(xs, w[w1 + i], t1);
            t2 = Math.fma(xs, w[w2 + i], t2);
            t3 = Math.fma(xs, w[w3 + i], t3);
        }
        int ya = r * out + c;
        int yb = ya + out;
        y[ya] = s0 + bias(b, c);
        y[ya + 1] = s1 + bias(b, c + 1);
        y[ya + 2] = s2 + bias(b, c + 2);
        y[ya + 3] = s3 + bias(b, c + 3);
        y[yb] = t0 + bias(b, c);
        y[yb + 1] = t1 + bias(b, c + 1);
        y[yb + 2] = t2 + bias(b, c + 2);
        y[yb + 3] = t3 + bias(b, c + 3);
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
        checkLength("x", x, (long) rows * d);
        checkLength("out", out, (long) rows * d);
        p.forRange(rows, 16, (s, e) -> {
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
                for (int i = 0; i < d; i++) {
                    out[o + i] = (float) ((x[o + i] - mean) * inv * gamma[i] + beta[i]);
                }
            }
        });
    }

    /** GELU in its exact form {@code x/2 * (1 + erf(x/sqrt 2))}, in place. */
    public static void gelu(Parallel p, float[] x, int n) {
        p.forRange(n, 4096, (s, e) -> {
            for (int i = s; i < e; i++) {
                double v = x[i];
                x[i] = (float) (0.5 * v * (1.0 + erf(v * 0.7071067811865476)));
            }
        });
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
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[off + i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(x[off + i] - max);
            x[off + i] = e;
            sum += e;
        }
        float inv = (float) (1.0 / sum);
        for (int i = 0; i < n; i++) {
            x[off + i] *= inv;
        }
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
        int rows = spec.rows();
        int heads = spec.heads();
        int qLen = spec.qLen();
        int kvLen = spec.kvLen();
        int hd = spec.headDim();
        int width = heads * hd;
        float scale = spec.scale();
        int tasks = rows * heads;
        p.forRange(tasks, 1, (s, e) -> {
            float[] scores = new float[kvLen];
            for (int t = s; t < e; t++) {
                int b = t / heads;
                int h = t % heads;
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
                        scores[j] = sc;
                    }
                    softmaxRow(scores, 0, kvLen);
                    int oo = (b * qLen + i) * width + h * hd;
                    for (int d = 0; d < hd; d++) {
                        out[oo + d] = 0f;
                    }
                    for (int j = 0; j < kvLen; j++) {
                        float pj = scores[j];
                        int vo = kvBase + j * width;
                        for (int d = 0; d < hd; d++) {
                            out[oo + d] = Math.fma(pj, v[vo + d], out[oo + d]);
                        }
                    }
                }
            }
        });
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
            return new AttentionSpec(rows, qLen, kvLen, heads, headDim, (float) (1.0 / Math.sqrt(headDim)),
                    kvLen * heads * headDim, kvLen, false, 0, 0f);
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
