package org.blipjava.checkpoint;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import org.blipjava.checkpoint.TorchFiles.Pickle;
import org.blipjava.checkpoint.TorchFiles.ZipOptions;

/**
 * Writes {@code pytorch_model.bin} files as {@code torch.save(state_dict)} does, for tests outside
 * this package (the byte-level writers in {@link TorchFiles} are package-private): one storage per
 * tensor, and optionally a pickled call that a Python unpickler would run.
 */
public final class TorchBinWriter {
    private TorchBinWriter() {}

    /** Writes the tensors (any dtype with a torch storage type) as a state dict. */
    public static Path write(Path file, Collection<TensorData> tensors) throws IOException {
        return write(file, tensors, null);
    }

    /**
     * Writes the tensors followed by one more entry, {@code "evil"}, whose value is
     * {@code module.name(argument)}: what a malicious checkpoint looks like to Python's unpickler
     * (GLOBAL then REDUCE), which would run it while loading.
     */
    public static Path writeWithCall(Path file, Collection<TensorData> tensors, String module, String name,
                                     String argument) throws IOException {
        return write(file, tensors, new String[] {module, name, argument});
    }

    private static Path write(Path file, Collection<TensorData> tensors, String[] call) throws IOException {
        Pickle p = new Pickle().proto(2).op('}').mark();
        Map<String, byte[]> storages = new LinkedHashMap<>();
        for (TensorData t : tensors) {
            String key = String.valueOf(storages.size());
            long[] shape = t.shape();
            p.str(t.name()).tensorV2(t.dtype().torchStorageName(), key, t.numel(), 0, shape, TorchFiles.strides(shape));
            storages.put(key, t.bytes().toArray(ValueLayout.JAVA_BYTE));
        }
        if (call != null) {
            p.str("evil").global(call[0], call[1]).mark().str(call[2]).tuple().reduce();
        }
        return TorchFiles.writeZip(file, p.op('u').stop().bytes(), storages, ZipOptions.plain());
    }

    /** An int64 tensor (a buffer such as {@code position_ids}). */
    public static TensorData i64(String name, long[] shape, long[] values) {
        MemorySegment bytes = MemorySegment.ofArray(new byte[values.length * 8]);
        ValueLayout.OfLong le = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < values.length; i++) {
            bytes.setAtIndex(le, i, values[i]);
        }
        return new TensorData(name, DType.I64, shape, bytes);
    }
}
