package org.blipjava.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes {@code .safetensors} files as the reference library does: an 8-byte little-endian
 * header length, a compact JSON header ({@code __metadata__} first, then each tensor's dtype,
 * shape and {@code data_offsets}), padded with spaces to a multiple of 8 bytes so that the data
 * that follows is aligned, then the tensors' bytes back to back. Tensors are laid out by
 * decreasing element size, then by name, as the reference orders them.
 *
 * <p>The file is written to a temporary file beside the target and renamed over it, so a crash
 * leaves either the old file or the complete new one. Stateless and thread-safe.
 */
public final class SafetensorsWriter {
    /** The metadata {@code save_pretrained} writes for PyTorch weights. */
    public static final Map<String, String> PT_METADATA = Map.of("format", "pt");

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ValueLayout.OfFloat F32_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private SafetensorsWriter() {}

    /**
     * A float32 tensor holding a copy of {@code values} as little-endian bytes.
     *
     * @throws IllegalArgumentException when the shape does not hold exactly {@code values.length} elements
     */
    public static TensorData f32(String name, int[] shape, float[] values) {
        long[] s = new long[shape.length];
        for (int i = 0; i < s.length; i++) {
            s[i] = shape[i];
        }
        if (TensorData.numel(s) != values.length) {
            throw new IllegalArgumentException("tensor '" + name + "': " + values.length + " values for shape "
                    + java.util.Arrays.toString(shape));
        }
        MemorySegment bytes = MemorySegment.ofArray(new byte[Math.multiplyExact(values.length, 4)]);
        MemorySegment.copy(values, 0, bytes, F32_LE, 0, values.length);
        return new TensorData(name, DType.F32, s, bytes);
    }

    /**
     * Writes the tensors and metadata to {@code file} atomically (temporary file, then rename).
     *
     * @param metadata the {@code __metadata__} string map (for example {@link #PT_METADATA}); empty
     *                 or null for none
     * @throws IllegalArgumentException when two tensors share a name or a name is {@code __metadata__}
     */
    public static void write(Path file, Collection<TensorData> tensors, Map<String, String> metadata)
            throws IOException {
        List<TensorData> ordered = new ArrayList<>(tensors);
        Set<String> names = new HashSet<>();
        for (TensorData t : ordered) {
            if (t.name().equals("__metadata__") || !names.add(t.name())) {
                throw new IllegalArgumentException(file + ": tensor name '" + t.name()
                        + "' is reserved or given twice; every tensor needs its own name");
            }
        }
        ordered.sort(Comparator.comparingInt((TensorData t) -> -t.dtype().byteSize()).thenComparing(TensorData::name));
        byte[] header = header(ordered, metadata);
        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + target.getFileName(), ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).flip();
                writeFully(ch, len);
                writeFully(ch, ByteBuffer.wrap(header));
                for (TensorData t : ordered) {
                    writeFully(ch, t.bytes().asByteBuffer());
                }
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static byte[] header(List<TensorData> ordered, Map<String, String> metadata) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = root.putObject("__metadata__");
            metadata.entrySet().stream().sorted(Map.Entry.comparingByKey())
                    .forEach(e -> meta.put(e.getKey(), e.getValue()));
        }
        long offset = 0;
        for (TensorData t : ordered) {
            ObjectNode info = root.putObject(t.name());
            info.put("dtype", t.dtype().safetensorsName());
            ArrayNode shape = info.putArray("shape");
            for (long d : t.shape()) {
                shape.add(d);
            }
            long end = offset + t.bytes().byteSize();
            info.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json = JSON.writeValueAsBytes(root);
        // Spaces up to the next multiple of 8 keep the data 8-byte aligned for memory mapping.
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = java.util.Arrays.copyOf(json, padded);
        java.util.Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }
}
