package org.blipjava.checkpoint;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A {@code pytorch_model.bin} in PyTorch's zip format ({@code torch.save} since 1.6): a zip
 * holding {@code <archive>/data.pkl} (the pickled state dict) and one {@code <archive>/data/<key>}
 * entry per storage.
 *
 * <p>{@code data.pkl} is read by a restricted unpickler: the only globals it accepts are the
 * ones a state dict needs ({@code collections.OrderedDict}, the {@code torch._utils._rebuild_*}
 * functions, the {@code torch.*Storage} types and {@code torch} dtypes), each replaced by this
 * class's own Java code. Any other global ({@code os.system}, {@code builtins.eval}, ...) makes
 * {@link #open} fail with a {@link CheckpointException} naming it; nothing from the file is ever
 * executed.
 *
 * <p>Stored storage entries are memory-mapped, so tensors are views into the file (tensors that
 * share a storage, such as tied weights, share memory). Deflated entries, big-endian files and
 * non-contiguous tensors are copied into memory owned by this object. Close it
 * (try-with-resources) when done with its tensors. Safe to read from several threads once open.
 */
public final class PytorchCheckpoint implements TensorFile {
    /** Globals a state dict may name, by "module.name". */
    private static final Set<String> REBUILD_FUNCTIONS = Set.of(
            "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor_v3",
            "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
            "torch._tensor._rebuild_from_type_v2");
    private static final Map<String, DType> TORCH_DTYPES = Map.ofEntries(
            Map.entry("float32", DType.F32), Map.entry("float", DType.F32),
            Map.entry("float16", DType.F16), Map.entry("half", DType.F16),
            Map.entry("bfloat16", DType.BF16),
            Map.entry("float64", DType.F64), Map.entry("double", DType.F64),
            Map.entry("int64", DType.I64), Map.entry("long", DType.I64),
            Map.entry("int32", DType.I32), Map.entry("int", DType.I32),
            Map.entry("int16", DType.I16), Map.entry("short", DType.I16),
            Map.entry("int8", DType.I8), Map.entry("uint8", DType.U8), Map.entry("bool", DType.BOOL));

    private final Path path;
    private final Arena arena;
    private final Map<String, TensorData> tensors;

    private PytorchCheckpoint(Path path, Arena arena, Map<String, TensorData> tensors) {
        this.path = path;
        this.arena = arena;
        this.tensors = tensors;
    }

    /**
     * Maps the file and reads its state dict.
     *
     * @throws CheckpointException naming the file when it is not a PyTorch zip checkpoint, is
     *                             truncated or corrupt, or names a global that is not allowed
     */
    public static PytorchCheckpoint open(Path path) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment file = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            if (!ZipArchive.looksLikeZip(file)) {
                throw notZip(path, file);
            }
            ZipArchive zip = ZipArchive.read(path, file);
            String prefix = archivePrefix(path, zip);
            boolean bigEndian = false;
            ZipArchive.Entry order = zip.entries().get(prefix + "byteorder");
            if (order != null) {
                String s = new String(zip.data(order, arena, true).toArray(ValueLayout.JAVA_BYTE),
                        StandardCharsets.US_ASCII).trim();
                if (!s.equals("little") && !s.equals("big")) {
                    throw new CheckpointException(path + ": " + prefix + "byteorder says '" + s
                            + "', expected 'little' or 'big'");
                }
                bigEndian = s.equals("big");
            }
            byte[] pickle = zip.data(zip.entries().get(prefix + "data.pkl"), arena, true)
                    .toArray(ValueLayout.JAVA_BYTE);
            Reader reader = new Reader(path, zip, prefix, arena, bigEndian);
            Object root = Unpickler.load(path + " (" + prefix + "data.pkl)", pickle, reader);
            Map<String, TensorData> tensors = toTensors(path, root);
            return new PytorchCheckpoint(path, arena, Collections.unmodifiableMap(tensors));
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    @Override
    public Path path() {
        return path;
    }

    /** All tensors by state-dict key, in the file's order (tied weights appear under each key). */
    @Override
    public Map<String, TensorData> tensors() {
        return tensors;
    }


    /** Unmaps the file and frees copies; tensors obtained from it must not be used afterwards. */
    @Override
    public void close() {
        arena.close();
    }

    private static CheckpointException notZip(Path path, MemorySegment file) {
        long n = file.byteSize();
        boolean legacyPickle = n >= 2 && (file.get(ValueLayout.JAVA_BYTE, 0) & 0xff) == 0x80;
        boolean tar = n >= 262 && new String(file.asSlice(257, 5).toArray(ValueLayout.JAVA_BYTE),
                StandardCharsets.US_ASCII).equals("ustar");
        if (legacyPickle || tar) {
            return new CheckpointException(path + ": this is PyTorch's legacy serialization format (before 1.6), "
                    + "which is not supported; re-save it with torch.save in a current PyTorch or convert it to "
                    + "safetensors");
        }
        return new CheckpointException(path + ": not a PyTorch zip checkpoint (no zip header); the file is "
                + "truncated, corrupt or of another format");
    }

    /** The archive's top folder ("archive/", "pytorch_model/", ...): the one holding data.pkl. */
    private static String archivePrefix(Path path, ZipArchive zip) {
        String found = null;
        for (String name : zip.entries().keySet()) {
            int slash = name.indexOf('/');
            if (slash > 0 && name.substring(slash + 1).equals("data.pkl")) {
                if (found != null) {
                    throw new CheckpointException(path + ": the zip holds more than one data.pkl ("
                            + found + "data.pkl, " + name + ")");
                }
                found = name.substring(0, slash + 1);
            }
        }
        if (found == null) {
            throw new CheckpointException(path + ": the zip has no <archive>/data.pkl, so it is not a "
                    + "torch.save checkpoint (a TorchScript archive or another zip?)");
        }
        return found;
    }

    /**
     * The state dict's tensors. A few training scripts wrap the state dict as {"model": ...} or
     * {"state_dict": ...}; that single level is unwrapped when the top level holds no tensor.
     */
    private static Map<String, TensorData> toTensors(Path path, Object root) {
        if (!(root instanceof Map<?, ?> map)) {
            throw new CheckpointException(path + ": data.pkl holds " + Unpickler.describe(root)
                    + ", not a state dict");
        }
        if (map.values().stream().noneMatch(v -> v instanceof TorchTensor)) {
            for (String wrapper : List.of("state_dict", "model")) {
                if (map.get(wrapper) instanceof Map<?, ?> inner) {
                    map = inner;
                    break;
                }
            }
        }
        Map<String, TensorData> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getKey() instanceof String key)) {
                throw new CheckpointException(path + ": state dict key " + Unpickler.describe(e.getKey())
                        + " is not a string");
            }
            if (!(e.getValue() instanceof TorchTensor t)) {
                throw new CheckpointException(path + ": state dict entry '" + key + "' holds "
                        + Unpickler.describe(e.getValue()) + ", not a tensor");
            }
            out.put(key, new TensorData(key, t.dtype(), t.shape(), t.bytes()));
        }
        return out;
    }

    /** A storage type global such as torch.FloatStorage; dtype null for torch.UntypedStorage (bytes). */
    private record StorageType(String name, DType dtype) {}

    /** A torch dtype global such as torch.float16 (what _rebuild_tensor_v3 receives). */
    private record TorchDType(DType dtype) {}

    /** torch.Tensor / torch.nn.parameter.Parameter, only as the type argument of _rebuild_from_type_v2. */
    private record TensorType(String name) {}

    /** A storage: its element type (null when untyped) and its little-endian bytes. */
    private record Storage(String key, DType dtype, MemorySegment bytes) {}

    /** A tensor before it has a name: its contiguous little-endian bytes. */
    private record TorchTensor(DType dtype, long[] shape, MemorySegment bytes) {}

    /** The environment the unpickler runs in: the allow-list and the storage table. */
    private static final class Reader implements Unpickler.Environment {
        private final Path path;
        private final ZipArchive zip;
        private final String prefix;
        private final Arena arena;
        private final boolean bigEndian;
        private final Map<String, Storage> storages = new HashMap<>();

        Reader(Path path, ZipArchive zip, String prefix, Arena arena, boolean bigEndian) {
            this.path = path;
            this.zip = zip;
            this.prefix = prefix;
            this.arena = arena;
            this.bigEndian = bigEndian;
        }

        @Override
        public Object findGlobal(String module, String name) {
            String full = module + "." + name;
            if (full.equals("collections.OrderedDict")) {
                return (Unpickler.Callable) this::orderedDict;
            }
            if (REBUILD_FUNCTIONS.contains(full)) {
                return (Unpickler.Callable) args -> rebuild(name, args);
            }
            if (module.equals("torch")) {
                if (name.equals("UntypedStorage")) {
                    return new StorageType(name, null);
                }
                if (name.endsWith("Storage") && DType.fromTorchStorage(name) != null) {
                    return new StorageType(name, DType.fromTorchStorage(name));
                }
                if (TORCH_DTYPES.containsKey(name)) {
                    return new TorchDType(TORCH_DTYPES.get(name));
                }
                if (name.equals("Tensor")) {
                    return new TensorType(full);
                }
                if (name.equals("Size")) {
                    return (Unpickler.Callable) args -> args.isEmpty() ? List.of() : args.getFirst();
                }
            }
            if (full.equals("torch.nn.parameter.Parameter")) {
                return new TensorType(full);
            }
            throw new CheckpointException(path + ": refusing global '" + full + "' in " + prefix + "data.pkl: "
                    + "a checkpoint pickle may only name the tensor-rebuilding globals a state dict needs, and "
                    + "this one could run code. Do not load this file unless you trust it; convert it to "
                    + "safetensors with a trusted tool");
        }

        private Object orderedDict(List<Object> args) {
            Map<Object, Object> m = new LinkedHashMap<>();
            if (!args.isEmpty() && args.getFirst() instanceof List<?> pairs) {
                for (Object p : pairs) {
                    if (!(p instanceof List<?> kv) || kv.size() != 2) {
                        throw fail("OrderedDict is built from " + Unpickler.describe(p) + ", not a key-value pair");
                    }
                    if (!(kv.get(0) instanceof String) && !(kv.get(0) instanceof Long)) {
                        throw fail("OrderedDict key " + Unpickler.describe(kv.get(0)) + " is not a string or integer");
                    }
                    m.put(kv.get(0), kv.get(1));
                }
            }
            return m;
        }

        @Override
        public Object persistentLoad(Object pid) {
            if (!(pid instanceof List<?> t) || t.size() != 5 || !"storage".equals(t.get(0))) {
                throw fail("unexpected persistent id " + Unpickler.describe(pid)
                        + " (expected ('storage', type, key, location, numel))");
            }
            if (!(t.get(1) instanceof StorageType type)) {
                throw fail("persistent id names storage type " + Unpickler.describe(t.get(1)));
            }
            if (!(t.get(2) instanceof String) && !(t.get(2) instanceof Long)) {
                throw fail("persistent id has storage key " + Unpickler.describe(t.get(2)));
            }
            String key = String.valueOf(t.get(2));
            long numel = asLong(t.get(4), "storage numel");
            Storage known = storages.get(key);
            if (known != null) {
                if (known.dtype() != type.dtype()) {
                    throw fail("storage '" + key + "' is referenced as both " + known.dtype() + " and " + type.dtype());
                }
                return known;
            }
            ZipArchive.Entry entry = zip.entries().get(prefix + "data/" + key);
            if (entry == null) {
                throw fail("storage '" + key + "' has no zip entry " + prefix + "data/" + key
                        + "; the file is truncated or corrupt");
            }
            MemorySegment bytes = zip.data(entry, arena, false);
            long needed;
            try {
                needed = Math.multiplyExact(numel, type.dtype() == null ? 1 : type.dtype().byteSize());
            } catch (ArithmeticException e) {
                throw fail("storage '" + key + "' claims " + numel + " elements of " + type.name()
                        + ", more bytes than a 64-bit size holds; the file is corrupt");
            }
            if (numel < 0 || bytes.byteSize() < needed) {
                throw fail("storage '" + key + "' holds " + bytes.byteSize() + " bytes but " + numel
                        + " elements of " + type.name() + " need " + needed + "; the file is truncated or corrupt");
            }
            Storage s = new Storage(key, type.dtype(), bytes.asSlice(0, needed));
            storages.put(key, s);
            return s;
        }

        @Override
        public Object build(Object target, Object state) {
            // BUILD sets Python attributes (an OrderedDict's _metadata, a tensor's __dict__): not data.
            if (target instanceof Map<?, ?> || target instanceof TorchTensor) {
                return target;
            }
            throw fail("BUILD on " + Unpickler.describe(target) + " is not supported");
        }

        private Object rebuild(String function, List<Object> args) {
            switch (function) {
                case "_rebuild_tensor", "_rebuild_tensor_v2" -> {
                    // (storage, storage_offset, size, stride[, requires_grad, backward_hooks[, metadata]])
                    requireArgs(function, args, 4);
                    Storage s = storage(args.get(0), function);
                    if (s.dtype() == null) {
                        throw fail(function + " on an untyped storage");
                    }
                    return tensor(s, s.dtype(), args.get(1), args.get(2), args.get(3));
                }
                case "_rebuild_tensor_v3" -> {
                    // (storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype[, metadata])
                    requireArgs(function, args, 7);
                    Storage s = storage(args.get(0), function);
                    if (!(args.get(6) instanceof TorchDType dt)) {
                        throw fail(function + " has dtype " + Unpickler.describe(args.get(6)));
                    }
                    if (s.dtype() != null && s.dtype() != dt.dtype()) {
                        throw fail(function + " reads a " + s.dtype() + " storage as " + dt.dtype());
                    }
                    return tensor(s, dt.dtype(), args.get(1), args.get(2), args.get(3));
                }
                case "_rebuild_parameter", "_rebuild_parameter_with_state" -> {
                    // (data, requires_grad, backward_hooks[, state]): a Parameter is its data here
                    requireArgs(function, args, 1);
                    if (!(args.getFirst() instanceof TorchTensor t)) {
                        throw fail(function + " wraps " + Unpickler.describe(args.getFirst()) + ", not a tensor");
                    }
                    return t;
                }
                case "_rebuild_from_type_v2" -> {
                    // (func, type, args, state): func must itself be an allowed rebuild function
                    requireArgs(function, args, 3);
                    if (!(args.get(0) instanceof Unpickler.Callable f) || !(args.get(1) instanceof TensorType)
                            || !(args.get(2) instanceof List<?> inner)) {
                        throw fail(function + " with unexpected arguments");
                    }
                    @SuppressWarnings("unchecked")
                    List<Object> innerArgs = (List<Object>) inner;
                    Object t = f.call(innerArgs);
                    if (!(t instanceof TorchTensor)) {
                        throw fail(function + " did not produce a tensor");
                    }
                    return t;
                }
                default -> throw new IllegalStateException(function);
            }
        }

        private TorchTensor tensor(Storage s, DType dtype, Object offsetArg, Object sizeArg, Object strideArg) {
            long offset = asLong(offsetArg, "storage_offset");
            long[] shape = longs(sizeArg, "size");
            long[] stride = longs(strideArg, "stride");
            if (shape.length != stride.length) {
                throw fail("tensor size " + Arrays.toString(shape) + " and stride " + Arrays.toString(stride)
                        + " differ in rank");
            }
            try {
                return view(s, dtype, offset, shape, stride);
            } catch (ArithmeticException e) {
                throw fail("tensor of size " + Arrays.toString(shape) + " with stride " + Arrays.toString(stride)
                        + " on storage '" + s.key() + "' has an extent that overflows a 64-bit integer; the file is corrupt");
            }
        }

        /** The tensor a size and stride select from a storage (sizes computed with overflow checks). */
        private TorchTensor view(Storage s, DType dtype, long offset, long[] shape, long[] stride) {
            int es = dtype.byteSize();
            long storageNumel = s.bytes().byteSize() / es;
            long numel = 1;
            for (long d : shape) {
                if (d < 0) {
                    throw fail("tensor size " + Arrays.toString(shape) + " has a negative dimension");
                }
                numel = Math.multiplyExact(numel, d);
            }
            if (numel == 0) {
                return new TorchTensor(dtype, shape, s.bytes().asSlice(0, 0));
            }
            long last = offset;
            boolean contiguous = true;
            long expect = 1;
            for (int i = shape.length - 1; i >= 0; i--) {
                if (stride[i] < 0) {
                    throw fail("tensor stride " + Arrays.toString(stride) + " is negative");
                }
                last = Math.addExact(last, Math.multiplyExact(shape[i] - 1, stride[i]));
                if (shape[i] != 1 && stride[i] != expect) {
                    contiguous = false;
                }
                expect = Math.multiplyExact(expect, shape[i]);
            }
            if (offset < 0 || last >= storageNumel) {
                throw fail("tensor of size " + Arrays.toString(shape) + " at offset " + offset + " with stride "
                        + Arrays.toString(stride) + " reaches past its storage '" + s.key() + "' of "
                        + storageNumel + " elements; the file is corrupt");
            }
            if (!contiguous && numel > storageNumel) {
                // Only broadcast (stride 0) or overlapping views have more elements than their storage.
                throw fail("tensor of size " + Arrays.toString(shape) + " with stride " + Arrays.toString(stride)
                        + " is a broadcast or overlapping view of storage '" + s.key() + "'; save it after "
                        + ".contiguous()");
            }
            MemorySegment bytes = contiguous
                    ? s.bytes().asSlice(offset * es, numel * es)
                    : gather(s.bytes(), es, offset, shape, stride, numel);
            if (bigEndian && es > 1) {
                bytes = swapped(bytes, es);
            }
            return new TorchTensor(dtype, shape, bytes);
        }

        /** Copies a strided view into a new contiguous buffer, a run of the innermost dimension at a time. */
        private MemorySegment gather(MemorySegment src, int es, long offset, long[] shape, long[] stride, long numel) {
            MemorySegment dst = arena.allocate(numel * es, 64);
            int rank = shape.length;
            long inner = shape[rank - 1];
            long innerStride = stride[rank - 1];
            long[] index = new long[rank];
            long out = 0;
            while (out < numel * es) {
                long base = offset;
                for (int i = 0; i < rank - 1; i++) {
                    base += index[i] * stride[i];
                }
                if (innerStride == 1) {
                    MemorySegment.copy(src, base * es, dst, out, inner * es);
                    out += inner * es;
                } else {
                    for (long j = 0; j < inner; j++) {
                        MemorySegment.copy(src, (base + j * innerStride) * es, dst, out, es);
                        out += es;
                    }
                }
                for (int i = rank - 2; i >= 0; i--) {
                    if (++index[i] < shape[i]) {
                        break;
                    }
                    index[i] = 0;
                }
            }
            return dst;
        }

        private MemorySegment swapped(MemorySegment src, int es) {
            MemorySegment dst = arena.allocate(src.byteSize(), 64);
            byte[] element = new byte[es];
            for (long at = 0; at < src.byteSize(); at += es) {
                MemorySegment.copy(src, ValueLayout.JAVA_BYTE, at, element, 0, es);
                for (int i = 0; i < es; i++) {
                    dst.set(ValueLayout.JAVA_BYTE, at + i, element[es - 1 - i]);
                }
            }
            return dst;
        }

        private Storage storage(Object o, String function) {
            if (o instanceof Storage s) {
                return s;
            }
            throw fail(function + " expects a storage, got " + Unpickler.describe(o));
        }

        private void requireArgs(String function, List<Object> args, int min) {
            if (args.size() < min) {
                throw fail(function + " called with " + args.size() + " arguments, expected at least " + min);
            }
        }

        private long asLong(Object o, String what) {
            if (o instanceof Long l) {
                return l;
            }
            throw fail(what + " is " + Unpickler.describe(o) + ", not an integer");
        }

        private long[] longs(Object o, String what) {
            if (!(o instanceof List<?> l)) {
                throw fail("tensor " + what + " is " + Unpickler.describe(o) + ", not a tuple");
            }
            long[] out = new long[l.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = asLong(l.get(i), "tensor " + what + " entry");
            }
            return out;
        }

        private CheckpointException fail(String what) {
            return new CheckpointException(path + " (" + prefix + "data.pkl): " + what);
        }
    }
}
