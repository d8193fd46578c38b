package org.blipjava.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.blipjava.checkpoint.TorchFiles.Pickle;
import org.blipjava.checkpoint.TorchFiles.ZipOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PyTorch zip checkpoints written byte by byte: dtypes, shared storages, strides, layouts, damage. */
class PytorchCheckpointTest {
    @TempDir
    Path tmp;

    private static byte[] halves(float... v) {
        ByteBuffer b = ByteBuffer.allocate(2 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putShort(Float.floatToFloat16(f));
        }
        return b.array();
    }

    private static byte[] bfloats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(2 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putShort((short) (Float.floatToRawIntBits(f) >>> 16));
        }
        return b.array();
    }

    private static byte[] doubles(double... v) {
        ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (double d : v) {
            b.putDouble(d);
        }
        return b.array();
    }

    private static byte[] longs(long... v) {
        ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long l : v) {
            b.putLong(l);
        }
        return b.array();
    }

    /** A state dict with one tensor of each floating type and an int64 buffer. */
    private static byte[] mixedDtypePickle() {
        Pickle p = new Pickle().proto(2).op('}').mark();
        p.str("w32").tensorV2("FloatStorage", "0", 3, 0, new long[] {3}, new long[] {1});
        p.str("w16").tensorV2("HalfStorage", "1", 4, 0, new long[] {2, 2}, new long[] {2, 1});
        p.str("wbf").tensorV2("BFloat16Storage", "2", 2, 0, new long[] {2}, new long[] {1});
        p.str("w64").tensorV2("DoubleStorage", "3", 2, 0, new long[] {1, 2}, new long[] {2, 1});
        p.str("position_ids").tensorV2("LongStorage", "4", 3, 0, new long[] {1, 3}, new long[] {3, 1});
        return p.op('u').stop().bytes();
    }

    private static Map<String, byte[]> mixedDtypeStorages() {
        Map<String, byte[]> s = new LinkedHashMap<>();
        s.put("0", TorchFiles.f32(1f, -2.5f, 3.25f));
        s.put("1", halves(0.5f, -1.5f, 65504f, 0.099975586f));
        s.put("2", bfloats(1.0f, -3.0f));
        s.put("3", doubles(0.125, -7.0));
        s.put("4", longs(0, 1, 2));
        return s;
    }

    private void assertMixedDtypes(PytorchCheckpoint ck) {
        assertThat(ck.tensors().keySet()).containsExactly("w32", "w16", "wbf", "w64", "position_ids");
        assertThat(ck.get("w32").dtype()).isEqualTo(DType.F32);
        assertThat(ck.get("w32").toFloatArray()).containsExactly(1f, -2.5f, 3.25f);
        assertThat(ck.get("w16").dtype()).isEqualTo(DType.F16);
        assertThat(ck.get("w16").shape()).containsExactly(2, 2);
        assertThat(ck.get("w16").toFloatArray()).containsExactly(0.5f, -1.5f, 65504f, 0.099975586f);
        assertThat(ck.get("wbf").dtype()).isEqualTo(DType.BF16);
        assertThat(ck.get("wbf").toFloatArray()).containsExactly(1.0f, -3.0f);
        assertThat(ck.get("w64").dtype()).isEqualTo(DType.F64);
        assertThat(ck.get("w64").toFloatArray()).containsExactly(0.125f, -7.0f);
        assertThat(ck.get("position_ids").dtype()).isEqualTo(DType.I64);
        assertThat(ck.get("position_ids").toFloatArray()).containsExactly(0f, 1f, 2f);
    }

    @Test
    void readsEveryFloatTypeAndInt64Buffers() throws Exception {
        Path f = TorchFiles.writeZip(tmp.resolve("mixed.bin"), mixedDtypePickle(), mixedDtypeStorages(), ZipOptions.plain());
        try (PytorchCheckpoint ck = PytorchCheckpoint.open(f)) {
            assertMixedDtypes(ck);
        }
    }

    @Test
    void readsDeflatedEntriesAndOtherArchiveNames() throws Exception {
        Path f = TorchFiles.writeZip(tmp.resolve("deflated.bin"), mixedDtypePickle(), mixedDtypeStorages(),
                new ZipOptions("some_model", true, null));
        try (PytorchCheckpoint ck = PytorchCheckpoint.open(f)) {
            assertMixedDtypes(ck);
        }
    }

    @Test
    void readsBigEndianFiles() throws Exception {
        Map<String, byte[]> le = mixedDtypeStorages();
        Map<String, byte[]> be = new LinkedHashMap<>();
        int[] sizes = {4, 2, 2, 8, 8};
        int i = 0;
        for (Map.Entry<String, byte[]> e : le.entrySet()) {
            byte[] b = e.getValue().clone();
            int es = sizes[i++];
            for (int at = 0; at < b.length; at += es) {
                for (int k = 0; k < es / 2; k++) {
                    byte t = b[at + k];
                    b[at + k] = b[at + es - 1 - k];
                    b[at + es - 1 - k] = t;
                }
            }
            be.put(e.getKey(), b);
        }
        Path f = TorchFiles.writeZip(tmp.resolve("big.bin"), mixedDtypePickle(), be, new ZipOptions("archive", false, "big"));
        try (PytorchCheckpoint ck = PytorchCheckpoint.open(f)) {
            assertMixedDtypes(ck);
        }
    }

    @Test
    void tensorsSharingAStorageWithOffsetsShareMemory() throws Exception {
        // One storage of 10 floats: "bias" is [0,4), "decoder.bias" is the same 4 (tied), "w" is [4,10) as 2x3.
        Pickle p = new Pickle().proto(2).op('}').mark();
        p.str("cls.predictions.bias").tensorV2("FloatStorage", "7", 10, 0, new long[] {4}, new long[] {1});
        p.str("cls.predictions.decoder.bias").tensorV2("FloatStorage", "7", 10, 0, new long[] {4}, new long[] {1});
        p.str("w").tensorV2("FloatStorage", "7", 10, 4, new long[] {2, 3}, new long[] {3, 1});
        byte[] pkl = p.op('u').stop().bytes();
        float[] values = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
        Path f = TorchFiles.writeZip(tmp.resolve("shared.bin"), pkl, Map.of("7", TorchFiles.f32(values)), ZipOptions.plain());
        try (PytorchCheckpoint ck = PytorchCheckpoint.open(f)) {
            TensorData bias = ck.get("cls.predictions.bias");
            TensorData tied = ck.get("cls.predictions.decoder.bias");
            assertThat(bias.toFloatArray()).containsExactly(0, 1, 2, 3);
            assertThat(tied.bytes().address()).isEqualTo(bias.bytes().address());
            assertThat(ck.get("w").toFloatArray()).containsExactly(4, 5, 6, 7, 8, 9);
            assertThat(ck.get("w").bytes().address()).isEqualTo(bias.bytes().address() + 16);

            StateDict sd = new StateDict(f.toString(), ck.tensors());
            assertThat(sd.takeTied("cls.predictions.bias", "cls.predictions.decoder.bias").toFloatArray())
                    .containsExactly(0, 1, 2, 3);
            assertThat(sd.untaken()).containsExactly("w");
        }
    }

    @Test
    void nonContiguousTensorsAreCopiedInLogicalOrder() throws Exception {
        // Storage holds a 2x3 row-major matrix; the tensor is its transpose (3x2, strides 1,3), from offset 1.
        Pickle p = new Pickle().proto(2).op('}').mark();
        p.str("t").tensorV2("FloatStorage", "0", 7, 1, new long[] {3, 2}, new long[] {1, 3});
        p.str("col").tensorV2("FloatStorage", "0", 7, 1, new long[] {2, 1}, new long[] {3, 1});
        byte[] pkl = p.op('u').stop().bytes();
        Path f = TorchFiles.writeZip(tmp.resolve("strided.bin"), pkl,
                Map.of("0", TorchFiles.f32(-1, 0, 1, 2, 3, 4, 5)), ZipOptions.plain());
        try (PytorchCheckpoint ck = PytorchCheckpoint.open(f)) {
            assertThat(ck.get("t").shape()).containsExactly(3, 2);
            assertThat(ck.get("t").toFloatArray()).containsExactly(0, 3, 1, 4, 2, 5);
            assertThat(ck.get("col").toFloatArray()).containsExactly(0, 3);
        }
    }

    @Test
    void readsParametersOrderedDictsMetadataAndProtocol4Opcodes() throws Exception {
        // Protocol 4 style: FRAME, MEMOIZE, SHORT_BINUNICODE, STACK_GLOBAL; OrderedDict with BUILD _metadata;
        // a Parameter via _rebuild_parameter; _rebuild_from_type_v2; _rebuild_tensor_v3 over an untyped storage.
        Pickle p = new Pickle().proto(4).op(0x95).raw(new byte[8]);
        p.stackGlobal("collections", "OrderedDict").op(0x94).op(')').reduce().op(0x94);
        // a = Parameter(tensor)
        p.str("a").stackGlobal("torch._utils", "_rebuild_parameter").mark();
        p.tensorV2("FloatStorage", "0", 2, 0, new long[] {2}, new long[] {1});
        p.op(0x88).global("collections", "OrderedDict").op(')').reduce().tuple().reduce();
        p.op('s');
        // b = _rebuild_from_type_v2(_rebuild_tensor_v2, torch.Tensor, (args), {})
        p.str("b").global("torch._tensor", "_rebuild_from_type_v2").mark();
        p.global("torch._utils", "_rebuild_tensor_v2").global("torch", "Tensor").mark();
        p.mark().str("storage").global("torch", "FloatStorage").str("1").str("cuda:0").integer(1).tuple().op('Q');
        p.integer(0).op(')').op(')').op(0x89).global("collections", "OrderedDict").op(')').reduce().tuple();
        p.op('}').tuple().reduce().op('s');
        // c = _rebuild_tensor_v3(untyped storage of 4 bytes, 0, (2,), (1,), False, OrderedDict(), torch.bfloat16)
        p.str("c").global("torch._utils", "_rebuild_tensor_v3").mark();
        p.mark().str("storage").global("torch", "UntypedStorage").str("2").str("cpu").integer(4).tuple().op('Q');
        p.integer(0).ints(2).ints(1).op(0x89).global("collections", "OrderedDict").op(')').reduce();
        p.global("torch", "bfloat16").tuple().reduce().op('s');
        // BUILD {'_metadata': OrderedDict()} on the dict, as torch's state_dict() carries.
        p.op('}').str("_metadata").global("collections", "OrderedDict").op(')').reduce().op('s').op('b');
        byte[] pkl = p.stop().bytes();
        Map<String, byte[]> st = new LinkedHashMap<>();
        st.put("0", TorchFiles.f32(1.5f, 2.5f));
        st.put("1", TorchFiles.f32(42f));
        st.put("2", bfloats(-2f, 0.5f));
        Path f = TorchFiles.writeZip(tmp.resolve("proto4.bin"), pkl, st, ZipOptions.plain());
        try (PytorchCheckpoint ck = PytorchCheckpoint.open(f)) {
            assertThat(ck.tensors().keySet()).containsExactly("a", "b", "c");
            assertThat(ck.get("a").toFloatArray()).containsExactly(1.5f, 2.5f);
            assertThat(ck.get("b").shape()).isEmpty();
            assertThat(ck.get("b").toFloatArray()).containsExactly(42f);
            assertThat(ck.get("c").dtype()).isEqualTo(DType.BF16);
            assertThat(ck.get("c").toFloatArray()).containsExactly(-2f, 0.5f);
        }
    }

    @Test
    void unwrapsAStateDictNestedUnderModel() throws Exception {
        byte[] inner = TorchFiles.f32StateDict(Map.of("x", new long[] {2}));
        // {'epoch': 3, 'model': {...}}: splice the inner dict (without PROTO and STOP) in as a value.
        Pickle p = new Pickle().proto(2).op('}').mark().str("epoch").integer(3).str("model")
                .raw(Arrays.copyOfRange(inner, 2, inner.length - 1)).op('u').stop();
        Path f = TorchFiles.writeZip(tmp.resolve("wrapped.bin"), p.bytes(), Map.of("0", TorchFiles.f32(7, 8)), ZipOptions.plain());
        try (PytorchCheckpoint ck = PytorchCheckpoint.open(f)) {
            assertThat(ck.tensors().keySet()).containsExactly("x");
        }
    }

    @Test
    void damagedStructuresAreRefusedNamingTheFileAndTheProblem() throws Exception {
        long[] two = {2};
        record Case(String name, byte[] pickle, Map<String, byte[]> storages, String expected) {}
        Case[] cases = {
            new Case("past_storage.bin", new Pickle().proto(2).op('}').str("k")
                    .tensorV2("FloatStorage", "0", 2, 1, two, new long[] {1}).op('s').stop().bytes(),
                    Map.of("0", TorchFiles.f32(1, 2)), "reaches past its storage"),
            new Case("short_storage.bin", new Pickle().proto(2).op('}').str("k")
                    .tensorV2("FloatStorage", "0", 4, 0, two, new long[] {1}).op('s').stop().bytes(),
                    Map.of("0", TorchFiles.f32(1, 2)), "truncated or corrupt"),
            // Sizes whose products overflow 64 bits name the tensor or storage, not "long overflow".
            new Case("huge_size.bin", new Pickle().proto(2).op('}').str("k")
                    .tensorV2("FloatStorage", "0", 2, 0, new long[] {1L << 32, 1L << 32}, new long[] {1L << 32, 1})
                    .op('s').stop().bytes(), Map.of("0", TorchFiles.f32(1, 2)),
                    "tensor of size [4294967296, 4294967296] with stride [4294967296, 1] on storage '0' has an extent"
                    + " that overflows a 64-bit integer"),
            new Case("huge_storage.bin", new Pickle().proto(2).op('}').str("k")
                    .tensorV2("FloatStorage", "0", 1L << 62, 0, two, new long[] {1}).op('s').stop().bytes(),
                    Map.of("0", TorchFiles.f32(1, 2)), "storage '0' claims 4611686018427387904 elements of FloatStorage"),
            new Case("missing_storage.bin", new Pickle().proto(2).op('}').str("k")
                    .tensorV2("FloatStorage", "9", 2, 0, two, new long[] {1}).op('s').stop().bytes(),
                    Map.of("0", TorchFiles.f32(1, 2)), "data/9"),
            new Case("not_a_tensor.bin", new Pickle().proto(2).op('}').str("k").str("v").op('s').stop().bytes(),
                    Map.of(), "'k'"),
            new Case("not_a_dict.bin", new Pickle().proto(2).op(']').stop().bytes(), Map.of(), "not a state dict"),
            new Case("bad_opcode.bin", new Pickle().proto(2).op(0xff).stop().bytes(), Map.of(), "opcode 0xff"),
            new Case("underflow.bin", new Pickle().proto(2).op('R').stop().bytes(), Map.of(), "underflow"),
            new Case("bad_memo.bin", new Pickle().proto(2).op('h').op(5).stop().bytes(), Map.of(), "memo"),
            new Case("no_stop.bin", new Pickle().proto(2).op('}').bytes(), Map.of(), "STOP"),
            new Case("bad_args.bin", new Pickle().proto(2).op('}').str("k").global("torch._utils", "_rebuild_tensor_v2")
                    .mark().str("x").integer(0).ints(1).ints(1).op(0x89).op('}').op('t').reduce().op('s').stop().bytes(),
                    Map.of(), "storage"),
        };
        for (Case c : cases) {
            Path f = TorchFiles.writeZip(tmp.resolve(c.name()), c.pickle(), c.storages(), ZipOptions.plain());
            assertThatThrownBy(() -> PytorchCheckpoint.open(f).close()).as(c.name())
                    .isInstanceOf(CheckpointException.class)
                    .hasMessageContaining(c.name())
                    .hasMessageContaining(c.expected());
        }
    }

    @Test
    void everyTruncationOfAPickleIsACheckpointException() throws Exception {
        byte[] pkl = mixedDtypePickle();
        for (int n = 0; n < pkl.length; n++) {
            Path f = TorchFiles.writeZip(tmp.resolve("cut" + n + ".bin"), Arrays.copyOf(pkl, n), mixedDtypeStorages(),
                    ZipOptions.plain());
            Throwable t = catchThrowable(() -> PytorchCheckpoint.open(f).close());
            assertThat(t).as("pickle cut to " + n + " bytes").isInstanceOf(CheckpointException.class);
            assertThat(t.getMessage()).contains(f.getFileName().toString());
        }
    }

    @Test
    void nonZipAndLegacyFilesAreRefusedWithAHint() throws Exception {
        Path legacy = java.nio.file.Files.write(tmp.resolve("legacy.bin"), new byte[] {(byte) 0x80, 2, (byte) 0x8a, 10});
        assertThatThrownBy(() -> PytorchCheckpoint.open(legacy))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("legacy.bin").hasMessageContaining("legacy");
        Path text = java.nio.file.Files.writeString(tmp.resolve("notes.bin"), "hello");
        assertThatThrownBy(() -> PytorchCheckpoint.open(text))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("notes.bin");
    }

    @Test
    void readsZip64ArchivesWithAlignedStoredEntries() throws Exception {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("archive/data.pkl", mixedDtypePickle());
        mixedDtypeStorages().forEach((k, v) -> entries.put("archive/data/" + k, v));
        entries.put("archive/version", "3\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        Path f = TorchFiles.writeZip64(tmp.resolve("zip64.bin"), entries);
        try (PytorchCheckpoint ck = PytorchCheckpoint.open(f)) {
            assertMixedDtypes(ck);
            // Stored entries are views into the mapping: 64-byte aligned like the file's data.
            assertThat(ck.get("w32").bytes().isNative()).isTrue();
            assertThat(ck.get("w32").bytes().address() % 64).isZero();
        }
    }

    @Test
    void randomlyDamagedPicklesOnlyEverGiveCheckpointExceptions() throws Exception {
        byte[] pkl = mixedDtypePickle();
        java.util.Random random = new java.util.Random(20221);
        for (int round = 0; round < 300; round++) {
            byte[] bad = pkl.clone();
            int flips = 1 + random.nextInt(3);
            for (int i = 0; i < flips; i++) {
                bad[2 + random.nextInt(bad.length - 2)] = (byte) random.nextInt(256);
            }
            Path f = TorchFiles.writeZip(tmp.resolve("fuzz" + round + ".bin"), bad, mixedDtypeStorages(), ZipOptions.plain());
            try {
                PytorchCheckpoint.open(f).close();
            } catch (CheckpointException e) {
                assertThat(e.getMessage()).contains(f.getFileName().toString());
            } catch (Throwable t) {
                throw new AssertionError("round " + round + " threw " + t + " instead of a CheckpointException", t);
            }
        }
    }

    @Test
    void broadcastViewsAreRefused() throws Exception {
        Pickle p = new Pickle().proto(2).op('}').str("k")
                .tensorV2("FloatStorage", "0", 1, 0, new long[] {1000000000000L}, new long[] {0}).op('s').stop();
        Path f = TorchFiles.writeZip(tmp.resolve("broadcast.bin"), p.bytes(), Map.of("0", TorchFiles.f32(1)), ZipOptions.plain());
        assertThatThrownBy(() -> PytorchCheckpoint.open(f).close())
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("broadcast.bin")
                .hasMessageContaining("contiguous");
    }
}
