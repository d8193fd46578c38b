package org.blipjava.tensor;

/**
 * A constant matrix {@code B [k, n]} stored in the layout the matrix-product kernels stream:
 * panels of {@link #panelWidth()} columns, each panel k-major ({@code panel p, row kk, column j}
 * at {@code (p*k + kk)*NR + j}), the last panel padded with zeros.
 *
 * <p>Weights of {@code nn.Linear} ({@code [out, in]}) are packed once at load time as
 * {@code B = W^T}, so a product reads each weight once per tile of rows and never strides.
 * Immutable after construction (the array is not exposed).
 */
public final class PackedMatrix {
    private final float[] data;
    private final int k;
    private final int n;

    private PackedMatrix(float[] data, int k, int n) {
        this.data = data;
        this.k = k;
        this.n = n;
    }

    /** Columns per panel (two vectors of the preferred species). */
    public static int panelWidth() {
        return Gemm.NR;
    }

    /** Floats a packed {@code [k, n]} matrix occupies. */
    public static int packedLength(int k, int n) {
        return Math.multiplyExact(panels(n) * Gemm.NR, k);
    }

    static int panels(int n) {
        return (n + Gemm.NR - 1) / Gemm.NR;
    }

    /**
     * Packs a PyTorch linear weight {@code w [out, in]} as {@code B = w^T [in, out]}.
     *
     * @throws IllegalArgumentException when {@code w} holds fewer than {@code out*in} floats
     */
    public static PackedMatrix ofLinearWeight(float[] w, int out, int in) {
        if (out < 1 || in < 1 || w.length < (long) out * in) {
            throw new IllegalArgumentException("linear weight has " + w.length + " floats, needs out*in = " + out
                    + "*" + in);
        }
        float[] d = new float[packedLength(in, out)];
        int nr = Gemm.NR;
        for (int c = 0; c < out; c++) {
            int p = c / nr;
            int j = c % nr;
            int base = p * in * nr + j;
            int src = c * in;
            for (int kk = 0; kk < in; kk++) {
                d[base + kk * nr] = w[src + kk];
            }
        }
        return new PackedMatrix(d, in, out);
    }

    /** Rows of B (the linear layer's input width). */
    public int k() {
        return k;
    }

    /** Columns of B (the linear layer's output width). */
    public int n() {
        return n;
    }

    float[] data() {
        return data;
    }

    /** The matrix back in PyTorch linear layout {@code [n, k]} (a new array). */
    public float[] toLinearWeight() {
        float[] w = new float[n * k];
        int nr = Gemm.NR;
        for (int c = 0; c < n; c++) {
            int base = (c / nr) * k * nr + c % nr;
            for (int kk = 0; kk < k; kk++) {
                w[c * k + kk] = data[base + kk * nr];
            }
        }
        return w;
    }

    /**
     * Columns {@code [from, from+count)} as a new packed matrix (splits a fused projection such as
     * the vision tower's qkv).
     */
    public PackedMatrix sliceColumns(int from, int count) {
        if (from < 0 || count < 1 || from + count > n) {
            throw new IllegalArgumentException("columns [" + from + ", " + (from + count) + ") outside [0, " + n + ")");
        }
        float[] d = new float[packedLength(k, count)];
        int nr = Gemm.NR;
        for (int c = 0; c < count; c++) {
            int src = ((from + c) / nr) * k * nr + (from + c) % nr;
            int dst = (c / nr) * k * nr + c % nr;
            for (int kk = 0; kk < k; kk++) {
                d[dst + kk * nr] = data[src + kk * nr];
            }
        }
        return new PackedMatrix(d, k, count);
    }
}
