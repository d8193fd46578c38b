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
    // Exactly one of data (F32), half (BF16) and q8 (INT8, with scales per column) is set.
    private final float[] data;
    private final short[] half;
    private final byte[] q8;
    private final float[] scales;
    private final int k;
    private final int n;

    private PackedMatrix(float[] data, int k, int n) {
        this(data, null, null, null, k, n);
    }

    private PackedMatrix(float[] data, short[] half, byte[] q8, float[] scales, int k, int n) {
        this.data = data;
        this.half = half;
        this.q8 = q8;
        this.scales = scales;
        this.k = k;
        this.n = n;
    }

    /** How the values are stored. */
    public WeightPrecision precision() {
        return data != null ? WeightPrecision.F32 : half != null ? WeightPrecision.BF16 : WeightPrecision.INT8;
    }

    /**
     * This matrix stored at another precision (this one when it already is): bfloat16 rounds each
     * value to nearest even; int8 scales each column (output feature) by its largest magnitude / 127.
     * Only a float32 matrix can be converted.
     */
    public PackedMatrix withPrecision(WeightPrecision p) {
        if (p == precision()) {
            return this;
        }
        if (data == null) {
            throw new IllegalStateException("only a float32 matrix can be converted, this one is " + precision());
        }
        int nr = Gemm.NR;
        switch (p) {
            case BF16 -> {
                short[] h = new short[data.length];
                for (int i = 0; i < h.length; i++) {
                    int bits = Float.floatToRawIntBits(data[i]);
                    h[i] = (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
                }
                return new PackedMatrix(null, h, null, null, k, n);
            }
            case INT8 -> {
                int panels = panels(n);
                float[] sc = new float[panels * nr];
                for (int c = 0; c < n; c++) {
                    int base = (c / nr) * k * nr + c % nr;
                    float max = 0f;
                    for (int kk = 0; kk < k; kk++) {
                        max = Math.max(max, Math.abs(data[base + kk * nr]));
                    }
                    sc[c] = max == 0f ? 1f : max / 127f;
                }
                byte[] q = new byte[data.length];
                for (int c = 0; c < n; c++) {
                    int base = (c / nr) * k * nr + c % nr;
                    float inv = 1f / sc[c];
                    for (int kk = 0; kk < k; kk++) {
                        q[base + kk * nr] = (byte) Math.max(-127, Math.min(127, Math.round(data[base + kk * nr] * inv)));
                    }
                }
                return new PackedMatrix(null, null, q, sc, k, n);
            }
            default -> throw new IllegalStateException("unreachable: " + p);
        }
    }

    short[] half() {
        return half;
    }

    byte[] q8() {
        return q8;
    }

    float[] scales() {
        return scales;
    }

    /** Element {@code i} of the packed array as float32. */
    private float at(int i) {
        if (data != null) {
            return data[i];
        }
        if (half != null) {
            return Float.intBitsToFloat((half[i] & 0xffff) << 16);
        }
        return q8[i] * scales[(i / (k * Gemm.NR)) * Gemm.NR + i % Gemm.NR];
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
            out[off + kk] = at(base + kk * nr);
        }
    }

    /** The matrix back in PyTorch linear layout {@code [n, k]} (a new array). */
    public float[] toLinearWeight() {
        float[] w = new float[n * k];
        int nr = Gemm.NR;
        for (int c = 0; c < n; c++) {
            int base = (c / nr) * k * nr + c % nr;
            for (int kk = 0; kk < k; kk++) {
                w[c * k + kk] = at(base + kk * nr);
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
                d[dst + kk * nr] = at(src + kk * nr);
            }
        }
        return new PackedMatrix(d, k, count).withPrecision(precision());
    }
}
