package org.blipjava.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The matrix-product kernels over bfloat16 and int8 panels: the same tiles and order of
 * operations as {@link Gemm}, widening each B row to float32 in registers. int8 accumulates the
 * unscaled products and applies the column scale once at the end.
 *
 * <p>Its own class so that machines whose vectors are too narrow for the widening species
 * (below 256 bits) fail only when a low-precision matrix is used.
 */
final class LowPrecision {
    private static final VectorSpecies<Float> F = Gemm.F;
    private static final int LANES = Gemm.LANES;
    private static final int NR = Gemm.NR;
    private static final int MR = Gemm.MR;
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class,
            VectorShape.forBitSize(F.vectorBitSize() / 2));
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class,
            VectorShape.forBitSize(F.vectorBitSize() / 4));
    private static final int A_BLOCK_FLOATS = 96 * 1024;

    private LowPrecision() {}

    static void range(float[] a, int aOff, int lda, int r0, int r1, PackedMatrix bm, float[] bias, float[] c,
                      int cOff, int ldc, int p0, int p1) {
        int k = bm.k();
        int n = bm.n();
        short[] h = bm.half();
        byte[] q = bm.q8();
        float[] scales = bm.scales();
        int block = Math.max(MR, (A_BLOCK_FLOATS / Math.max(1, k)) / MR * MR);
        // Only a partial last panel goes through a scratch tile (taken when first needed, so a
        // product over full panels, such as a decoding step's, allocates nothing).
        float[] scratch = null;
        for (int rb = r0; rb < r1; rb += block) {
            int re = Math.min(r1, rb + block);
            for (int panel = p0; panel < p1; panel++) {
                int col = panel * NR;
                int valid = Math.min(NR, n - col);
                int bOff = panel * k * NR;
                boolean direct = valid == NR;
                if (!direct && scratch == null) {
                    scratch = new float[MR * NR];
                }
                int r = rb;
                for (; r + MR <= re; r += MR) {
                    float[] dst = direct ? c : scratch;
                    int d0 = direct ? cOff + r * ldc + col : 0;
                    int ld = direct ? ldc : NR;
                    if (h != null) {
                        kernel6h(a, aOff + r * lda, lda, h, bOff, k, dst, d0, ld);
                    } else {
                        kernel6q(a, aOff + r * lda, lda, q, bOff, k, dst, d0, ld);
                    }
                    if (!direct) {
                        for (int i = 0; i < MR; i++) {
                            System.arraycopy(scratch, i * NR, c, cOff + (r + i) * ldc + col, valid);
                        }
                    }
                }
                for (; r < re; r++) {
                    float[] dst = direct ? c : scratch;
                    int d0 = direct ? cOff + r * ldc + col : 0;
                    if (h != null) {
                        kernel1h(a, aOff + r * lda, h, bOff, k, dst, d0);
                    } else {
                        kernel1q(a, aOff + r * lda, q, bOff, k, dst, d0);
                    }
                    if (!direct) {
                        System.arraycopy(scratch, 0, c, cOff + r * ldc + col, valid);
                    }
                }
                for (r = rb; r < re; r++) {
                    int off = cOff + r * ldc + col;
                    if (scales != null) {
                        for (int j = 0; j < valid; j++) {
                            c[off + j] *= scales[col + j];
                        }
                    }
                    if (bias != null) {
                        Gemm.addBias(c, off, bias, col, valid);
                    }
                }
            }
        }
    }

    private static FloatVector widen(short[] h, int off) {
        return ((IntVector) ShortVector.fromArray(S, h, off).convertShape(VectorOperators.S2I, I, 0))
                .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    private static FloatVector widen(byte[] q, int off) {
        return (FloatVector) ByteVector.fromArray(B, q, off).convertShape(VectorOperators.B2F, F, 0);
    }

    static void kernel6h(float[] a, int a0, int lda, short[] b, int bOff, int k, float[] c, int c0, int ldc) {
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F);
        FloatVector c40 = FloatVector.zero(F), c41 = FloatVector.zero(F);
        FloatVector c50 = FloatVector.zero(F), c51 = FloatVector.zero(F);
        int a1 = a0 + lda;
        int a2 = a1 + lda;
        int a3 = a2 + lda;
        int a4 = a3 + lda;
        int a5 = a4 + lda;
        for (int kk = 0; kk < k; kk++) {
            int bo = bOff + kk * NR;
            FloatVector b0 = widen(b, bo);
            FloatVector b1 = widen(b, bo + LANES);
            FloatVector x = FloatVector.broadcast(F, a[a0 + kk]);
            c00 = b0.fma(x, c00);
            c01 = b1.fma(x, c01);
            x = FloatVector.broadcast(F, a[a1 + kk]);
            c10 = b0.fma(x, c10);
            c11 = b1.fma(x, c11);
            x = FloatVector.broadcast(F, a[a2 + kk]);
            c20 = b0.fma(x, c20);
            c21 = b1.fma(x, c21);
            x = FloatVector.broadcast(F, a[a3 + kk]);
            c30 = b0.fma(x, c30);
            c31 = b1.fma(x, c31);
            x = FloatVector.broadcast(F, a[a4 + kk]);
            c40 = b0.fma(x, c40);
            c41 = b1.fma(x, c41);
            x = FloatVector.broadcast(F, a[a5 + kk]);
            c50 = b0.fma(x, c50);
            c51 = b1.fma(x, c51);
        }
        Gemm.store6(c, c0, ldc, c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51);
    }

    static void kernel6q(float[] a, int a0, int lda, byte[] b, int bOff, int k, float[] c, int c0, int ldc) {
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F);
        FloatVector c40 = FloatVector.zero(F), c41 = FloatVector.zero(F);
        FloatVector c50 = FloatVector.zero(F), c51 = FloatVector.zero(F);
        int a1 = a0 + lda;
        int a2 = a1 + lda;
        int a3 = a2 + lda;
        int a4 = a3 + lda;
        int a5 = a4 + lda;
        for (int kk = 0; kk < k; kk++) {
            int bo = bOff + kk * NR;
            FloatVector b0 = widen(b, bo);
            FloatVector b1 = widen(b, bo + LANES);
            FloatVector x = FloatVector.broadcast(F, a[a0 + kk]);
            c00 = b0.fma(x, c00);
            c01 = b1.fma(x, c01);
            x = FloatVector.broadcast(F, a[a1 + kk]);
            c10 = b0.fma(x, c10);
            c11 = b1.fma(x, c11);
            x = FloatVector.broadcast(F, a[a2 + kk]);
            c20 = b0.fma(x, c20);
            c21 = b1.fma(x, c21);
            x = FloatVector.broadcast(F, a[a3 + kk]);
            c30 = b0.fma(x, c30);
            c31 = b1.fma(x, c31);
            x = FloatVector.broadcast(F, a[a4 + kk]);
            c40 = b0.fma(x, c40);
            c41 = b1.fma(x, c41);
            x = FloatVector.broadcast(F, a[a5 + kk]);
            c50 = b0.fma(x, c50);
            c51 = b1.fma(x, c51);
        }
        Gemm.store6(c, c0, ldc, c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51);
    }

    static void kernel1h(float[] a, int a0, short[] b, int bOff, int k, float[] c, int c0) {
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F);
        for (int kk = 0; kk < k; kk++) {
            int bo = bOff + kk * NR;
            FloatVector x = FloatVector.broadcast(F, a[a0 + kk]);
            c00 = widen(b, bo).fma(x, c00);
            c01 = widen(b, bo + LANES).fma(x, c01);
        }
        c00.intoArray(c, c0);
        c01.intoArray(c, c0 + LANES);
    }

    static void kernel1q(float[] a, int a0, byte[] b, int bOff, int k, float[] c, int c0) {
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F);
        for (int kk = 0; kk < k; kk++) {
            int bo = bOff + kk * NR;
            FloatVector x = FloatVector.broadcast(F, a[a0 + kk]);
            c00 = widen(b, bo).fma(x, c00);
            c01 = widen(b, bo + LANES).fma(x, c01);
        }
        c00.intoArray(c, c0);
        c01.intoArray(c, c0 + LANES);
    }
}
