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

    /**
     * Packs rows {@code [rowFrom, rowFrom+rows)} of a checkpoint's linear weight {@code [out, in]}
     * straight from its bytes, one row at a time, so loading never holds an unpacked copy.
     *
     * @throws IllegalArgumentException when the tensor is not 2-d or the rows are outside it
     */
    public static PackedMatrix ofLinearWeight(org.blipjava.checkpoint.TensorData t, int rowFrom, int rows) {
        long[] shape = t.shape();
        if (shape.length != 2 || rowFrom < 0 || rows < 1 || rowFrom + rows > shape[0]) {
            throw new IllegalArgumentException("tensor '" + t.name() + "' of shape " + java.util.Arrays.toString(shape)
                    + " has no rows [" + rowFrom + ", " + (rowFrom + rows) + ") of a 2-d linear weight");
        }
        int in = Math.toIntExact(shape[1]);
        float[] d = new float[packedLength(in, rows)];
        float[] row = new float[in];
        int nr = Gemm.NR;
        int size = t.dtype().byteSize();
        for (int c = 0; c < rows; c++) {
            readRow(t, (long) (rowFrom + c) * in * size, in, row);
            int base = (c / nr) * in * nr + c % nr;
            for (int kk = 0; kk < in; kk++) {
                d[base + kk * nr] = row[kk];
            }
        }
        return new PackedMatrix(d, in, rows);
    }

    private static final java.lang.foreign.ValueLayout.OfFloat F32_LE =
            java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
    private static final java.lang.foreign.ValueLayout.OfShort I16_LE =
            java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    private static void readRow(org.blipjava.checkpoint.TensorData t, long byteOffset, int n, float[] out) {
        java.lang.foreign.MemorySegment bytes = t.bytes();
        switch (t.dtype()) {
            case F32 -> java.lang.foreign.MemorySegment.copy(bytes, F32_LE, byteOffset, out, 0, n);
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = Float.intBitsToFloat((bytes.get(I16_LE, byteOffset + 2L * i) & 0xffff) << 16);
                }
            }
            default -> {
                long len = (long) n * t.dtype().byteSize();
                float[] f = new org.blipjava.checkpoint.TensorData(t.name(), t.dtype(), new long[] {n},
                        bytes.asSlice(byteOffset, len)).toFloatArray();
                System.arraycopy(f, 0, out, 0, n);
            }
        }
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

    /**
     * Copies column {@code c} of B (row c of the linear weight; for an embedding table, the
     * embedding of id c) into {@code out[off..off+k)}.
     */
    public void copyColumn(int c, float[] out, int off) {
        if (c < 0 || c >= n) {
            throw new IllegalArgumentException("column " + c + " outside [0, " + n + ")");
        }
        int nr = Gemm.NR;
        int base = (c / nr) * k * nr + c % nr;
        for (int kk = 0; kk < k; kk++) {
            out[off + kk] = data[base + kk * nr];
        }
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
