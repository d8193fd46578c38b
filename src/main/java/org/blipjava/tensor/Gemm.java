package org.blipjava.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Register-blocked matrix product {@code C = A B (+ bias)} with B in {@link PackedMatrix} layout.
 *
 * <p>The micro-kernel keeps a 6-row by two-vector tile of C in registers, streams one row of a
 * B panel (two vectors) and broadcasts one A element per row for each step of k. Every C element
 * is one fused multiply-add chain over k in order, then the bias is added, whichever kernel
 * (6-row or 1-row) computes it and whichever thread runs it, so results do not depend on the
 * thread count or on where a row falls in the batch.
 *
 * <p>The kernels are kept free of masks, bias and branches: the JIT inlines a bounded amount of
 * Vector API code per method, and a kernel that exceeds it falls back to boxed vectors (ten
 * times slower). Partial panels go through a small scratch tile instead.
 */
final class Gemm {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int LANES = F.length();
    static final int NR = 2 * LANES;
    static final int MR = 6;
    /** Floats of A kept hot per row block (about a third of a 1 MiB L2, next to a B panel). */
    private static final int A_BLOCK_FLOATS = 96 * 1024;

    private Gemm() {}

    /**
     * {@code C[r, j] = sum_kk A[r, kk] * B[kk, j] + bias[j]} for {@code r < rows}, {@code j < n},
     * in parallel over column panels (or row blocks when there are few panels).
     */
    static void packed(Parallel p, float[] a, int aOff, int lda, int rows, PackedMatrix bm, float[] bias,
                       float[] c, int cOff, int ldc) {
        int k = bm.k();
        int n = bm.n();
        float[] b = bm.data();
        boolean low = b == null;
        int panels = PackedMatrix.panels(n);
        int tiles = (rows + MR - 1) / MR;
        int threads = p.threads();
        long flops = 2L * rows * k * n;
        if (threads == 1 || flops < 200_000) {
            if (low) {
                LowPrecision.range(a, aOff, lda, 0, rows, bm, bias, c, cOff, ldc, 0, panels);
            } else {
                range(a, aOff, lda, 0, rows, b, k, n, bias, c, cOff, ldc, 0, panels);
            }
            return;
        }
        // Tasks of about one cached row block by a few panels, handed out dynamically: enough of
        // them that a thread slowed by a shared core does not hold up the others.
        int blockTiles = Math.max(1, Math.max(MR, (A_BLOCK_FLOATS / Math.max(1, k)) / MR * MR) / MR);
        int rowTasks = (tiles + blockTiles - 1) / blockTiles;
        int panelGroup = Math.max(1, Math.min(4, panels * rowTasks / (8 * threads)));
        int panelTasks = (panels + panelGroup - 1) / panelGroup;
        p.forChunks(rowTasks * panelTasks, 1, (s, e) -> {
            for (int t = s; t < e; t++) {
                int rt = t / panelTasks;
                int pt = t % panelTasks;
                int r0 = Math.min(rows, rt * blockTiles * MR);
                int r1 = Math.min(rows, r0 + blockTiles * MR);
                int p0 = pt * panelGroup;
                int p1 = Math.min(panels, p0 + panelGroup);
                if (low) {
                    LowPrecision.range(a, aOff, lda, r0, r1, bm, bias, c, cOff, ldc, p0, p1);
                } else {
                    range(a, aOff, lda, r0, r1, b, k, n, bias, c, cOff, ldc, p0, p1);
                }
            }
        });
    }

    /**
     * Rows {@code [r0, r1)} by panels {@code [p0, p1)} on the calling thread, blocked so a block
     * of A stays in cache while the panels stream past it. Panel p of B starts at {@code p*k*NR}.
     */
    static void range(float[] a, int aOff, int lda, int r0, int r1, float[] b, int k, int n, float[] bias,
                      float[] c, int cOff, int ldc, int p0, int p1) {
        int block = Math.max(MR, (A_BLOCK_FLOATS / Math.max(1, k)) / MR * MR);
        float[] scratch = null;
        for (int rb = r0; rb < r1; rb += block) {
            int re = Math.min(r1, rb + block);
            for (int panel = p0; panel < p1; panel++) {
                int col = panel * NR;
                int valid = Math.min(NR, n - col);
                int bOff = panel * k * NR;
                if (re - rb < MR && panel + 1 < p1 && n - col >= 2 * NR) {
                    // Fewer rows than a tile (decoding): two panels per pass give the core
                    // independent chains and two streams of B, which memory-bound products need;
                    // three rows at a time (beam search) read each B element once for all three.
                    int r = rb;
                    for (; r + 3 <= re; r += 3) {
                        kernel3x2(a, aOff + r * lda, lda, b, bOff, k, c, cOff + r * ldc + col, ldc);
                    }
                    for (; r < re; r++) {
                        kernel1x2(a, aOff + r * lda, b, bOff, k, c, cOff + r * ldc + col);
                    }
                    if (bias != null) {
                        for (r = rb; r < re; r++) {
                            addBias(c, cOff + r * ldc + col, bias, col, NR);
                            addBias(c, cOff + r * ldc + col + NR, bias, col + NR, NR);
                        }
                    }
                    panel++;
                    continue;
                }
                if (valid == NR) {
                    int r = rb;
                    for (; r + MR <= re; r += MR) {
                        kernel6(a, aOff + r * lda, lda, b, bOff, k, c, cOff + r * ldc + col, ldc);
                    }
                    for (; r < re; r++) {
                        kernel1(a, aOff + r * lda, b, bOff, k, c, cOff + r * ldc + col);
                    }
                } else {
                    if (scratch == null) {
                        scratch = new float[MR * NR];
                    }
                    int r = rb;
                    for (; r + MR <= re; r += MR) {
                        kernel6(a, aOff + r * lda, lda, b, bOff, k, scratch, 0, NR);
                        for (int i = 0; i < MR; i++) {
                            System.arraycopy(scratch, i * NR, c, cOff + (r + i) * ldc + col, valid);
                        }
                    }
                    for (; r < re; r++) {
                        kernel1(a, aOff + r * lda, b, bOff, k, scratch, 0);
                        System.arraycopy(scratch, 0, c, cOff + r * ldc + col, valid);
                    }
                }
                if (bias != null) {
                    for (int r = rb; r < re; r++) {
                        addBias(c, cOff + r * ldc + col, bias, col, valid);
                    }
                }
            }
        }
    }

    static void addBias(float[] c, int off, float[] bias, int col, int valid) {
        int j = 0;
        if (valid == NR) {
            FloatVector.fromArray(F, c, off).add(FloatVector.fromArray(F, bias, col)).intoArray(c, off);
            FloatVector.fromArray(F, c, off + LANES).add(FloatVector.fromArray(F, bias, col + LANES))
                    .intoArray(c, off + LANES);
            return;
        }
        for (; j < valid; j++) {
            c[off + j] += bias[col + j];
        }
    }

    /** A 6 x NR tile over the whole of k; B panel row kk at {@code bOff + kk*NR}. */
    static void kernel6(float[] a, int a0, int lda, float[] b, int bOff, int k, float[] c, int c0, int ldc) {
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
            FloatVector b0 = FloatVector.fromArray(F, b, bo);
            FloatVector b1 = FloatVector.fromArray(F, b, bo + LANES);
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
        store6(c, c0, ldc, c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51);
    }

    /** Writes a 6 x NR tile held in registers (two vectors per row) to rows {@code ldc} apart. */
    static void store6(float[] c, int c0, int ldc, FloatVector c00, FloatVector c01, FloatVector c10,
                       FloatVector c11, FloatVector c20, FloatVector c21, FloatVector c30, FloatVector c31,
                       FloatVector c40, FloatVector c41, FloatVector c50, FloatVector c51) {
        c00.intoArray(c, c0);
        c01.intoArray(c, c0 + LANES);
        c0 += ldc;
        c10.intoArray(c, c0);
        c11.intoArray(c, c0 + LANES);
        c0 += ldc;
        c20.intoArray(c, c0);
        c21.intoArray(c, c0 + LANES);
        c0 += ldc;
        c30.intoArray(c, c0);
        c31.intoArray(c, c0 + LANES);
        c0 += ldc;
        c40.intoArray(c, c0);
        c41.intoArray(c, c0 + LANES);
        c0 += ldc;
        c50.intoArray(c, c0);
        c51.intoArray(c, c0 + LANES);
    }

    /**
     * Three rows by two adjacent panels ({@code 2*NR} columns), each element the same chain of
     * operations as in {@link #kernel1}.
     */
    static void kernel3x2(float[] a, int a0, int lda, float[] b, int bOff, int k, float[] c, int c0, int ldc) {
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F);
        FloatVector c02 = FloatVector.zero(F), c03 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F);
        FloatVector c12 = FloatVector.zero(F), c13 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F);
        FloatVector c22 = FloatVector.zero(F), c23 = FloatVector.zero(F);
        int a1 = a0 + lda;
        int a2 = a1 + lda;
        int bOff2 = bOff + k * NR;
        for (int kk = 0; kk < k; kk++) {
            int bo = bOff + kk * NR;
            int bo2 = bOff2 + kk * NR;
            FloatVector b0 = FloatVector.fromArray(F, b, bo);
            FloatVector b1 = FloatVector.fromArray(F, b, bo + LANES);
            FloatVector b2 = FloatVector.fromArray(F, b, bo2);
            FloatVector b3 = FloatVector.fromArray(F, b, bo2 + LANES);
            FloatVector x = FloatVector.broadcast(F, a[a0 + kk]);
            c00 = b0.fma(x, c00);
            c01 = b1.fma(x, c01);
            c02 = b2.fma(x, c02);
            c03 = b3.fma(x, c03);
            x = FloatVector.broadcast(F, a[a1 + kk]);
            c10 = b0.fma(x, c10);
            c11 = b1.fma(x, c11);
            c12 = b2.fma(x, c12);
            c13 = b3.fma(x, c13);
            x = FloatVector.broadcast(F, a[a2 + kk]);
            c20 = b0.fma(x, c20);
            c21 = b1.fma(x, c21);
            c22 = b2.fma(x, c22);
            c23 = b3.fma(x, c23);
        }
        store4(c, c0, c00, c01, c02, c03);
        store4(c, c0 + ldc, c10, c11, c12, c13);
        store4(c, c0 + 2 * ldc, c20, c21, c22, c23);
    }

    private static void store4(float[] c, int c0, FloatVector v0, FloatVector v1, FloatVector v2, FloatVector v3) {
        v0.intoArray(c, c0);
        v1.intoArray(c, c0 + LANES);
        v2.intoArray(c, c0 + NR);
        v3.intoArray(c, c0 + NR + LANES);
    }

    /**
     * One row by two adjacent panels ({@code 2*NR} columns), each element the same chain of
     * operations as in {@link #kernel1}.
     */
    static void kernel1x2(float[] a, int a0, float[] b, int bOff, int k, float[] c, int c0) {
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F);
        int bOff2 = bOff + k * NR;
        for (int kk = 0; kk < k; kk++) {
            int bo = bOff + kk * NR;
            int bo2 = bOff2 + kk * NR;
            FloatVector x = FloatVector.broadcast(F, a[a0 + kk]);
            c00 = FloatVector.fromArray(F, b, bo).fma(x, c00);
            c01 = FloatVector.fromArray(F, b, bo + LANES).fma(x, c01);
            c10 = FloatVector.fromArray(F, b, bo2).fma(x, c10);
            c11 = FloatVector.fromArray(F, b, bo2 + LANES).fma(x, c11);
        }
        store4(c, c0, c00, c01, c10, c11);
    }

    /** One row by NR columns over the whole of k (the same chain of operations as {@link #kernel6}). */
    static void kernel1(float[] a, int a0, float[] b, int bOff, int k, float[] c, int c0) {
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F);
        for (int kk = 0; kk < k; kk++) {
            int bo = bOff + kk * NR;
            FloatVector x = FloatVector.broadcast(F, a[a0 + kk]);
            c00 = FloatVector.fromArray(F, b, bo).fma(x, c00);
            c01 = FloatVector.fromArray(F, b, bo + LANES).fma(x, c01);
        }
        c00.intoArray(c, c0);
        c01.intoArray(c, c0 + LANES);
    }
}
