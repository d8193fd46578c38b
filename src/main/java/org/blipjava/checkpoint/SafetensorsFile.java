package org.blipjava.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A memory-mapped {@code .safetensors} file: an 8-byte little-endian header length, a JSON
 * header naming each tensor's dtype, shape and byte range, then the raw data.
 *
 * <p>Tensors are views into the mapping; close the file (try-with-resources) when done with
 * them. The header is validated as the safetensors library does: every byte range matches its
 * dtype and shape, and the ranges cover the data section exactly, without gaps or overlaps.
 */
public final class SafetensorsFile implements TensorFile {
    /** Headers larger than this are refused: real files have headers of a few hundred KB. */
    private static final long MAX_HEADER_BYTES = 100L << 20;

    private final Path path;
    private final Arena arena;
    private final Map<String, TensorData> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, Arena arena, Map<String, TensorData> tensors,
                            Map<String, String> metadata) {
        this.path = path;
        this.arena = arena;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /** Maps and parses the file; throws {@link CheckpointException} naming the file when it is malformed. */
    public static SafetensorsFile open(Path path) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new CheckpointException(path + ": too short to be a safetensors file");
            }
            MemorySegment all = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            long headerLen = all.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
            if (headerLen <= 0 || headerLen > MAX_HEADER_BYTES || 8 + headerLen > size) {
                throw new CheckpointException(path + ": invalid safetensors header length " + headerLen
                        + " (file is " + size + " bytes); the file is truncated or not safetensors");
            }
            byte[] headerBytes = all.asSlice(8, headerLen).toArray(ValueLayout.JAVA_BYTE);
            JsonNode header;
            try {
                header = new ObjectMapper().readTree(new String(headerBytes, StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new CheckpointException(path + ": safetensors header is not valid JSON: " + e.getMessage());
            }
            if (header == null || !header.isObject()) {
                throw new CheckpointException(path + ": safetensors header is not a JSON object");
            }
            long dataStart = 8 + headerLen;
            long dataSize = size - dataStart;
            Map<String, String> metadata = new LinkedHashMap<>();
            List<Entry> entries = new ArrayList<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = header.properties().iterator(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (e.getKey().equals("__metadata__")) {
                    readMetadata(path, e.getValue(), metadata);
                } else {
                    entries.add(entry(path, e.getKey(), e.getValue()));
                }
            }
            checkLayout(path, entries, dataSize);
            Map<String, TensorData> tensors = new LinkedHashMap<>();
            for (Entry t : entries) {
                tensors.put(t.name, new TensorData(t.name, t.dtype, t.shape,
                        all.asSlice(dataStart + t.begin, t.end - t.begin)));
            }
            return new SafetensorsFile(path, arena, Collections.unmodifiableMap(tensors),
                    Collections.unmodifiableMap(metadata));
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** One tensor of the header: where its bytes are and what they hold. */
    private record Entry(String name, DType dtype, long[] shape, long begin, long end) {}

    private static void readMetadata(Path path, JsonNode node, Map<String, String> into) {
        if (node.isNull()) {
            return; // an absent map, as the safetensors library reads it
        }
        if (!node.isObject()) {
            throw new CheckpointException(path + ": safetensors __metadata__ must be an object of strings, got "
                    + node.getNodeType().toString().toLowerCase(Locale.ROOT));
        }
        for (Map.Entry<String, JsonNode> m : node.properties()) {
            if (!m.getValue().isTextual()) {
                throw new CheckpointException(path + ": safetensors __metadata__ value '" + m.getKey()
                        + "' must be a string, got " + m.getValue());
            }
            into.put(m.getKey(), m.getValue().asText());
        }
    }

    /** Reads one tensor's dtype, shape and data_offsets, and checks that the range holds exactly the shape. */
    private static Entry entry(Path path, String name, JsonNode info) {
        String where = path + ": tensor '" + name + "'";
        if (!info.isObject()) {
            throw new CheckpointException(where + " must be an object with dtype, shape and data_offsets");
        }
        DType dtype = DType.fromSafetensors(info.path("dtype").asText());
        if (dtype == null) {
            throw new CheckpointException(where + " has unsupported dtype '" + info.path("dtype").asText() + "'");
        }
        JsonNode shapeNode = info.get("shape");
        if (shapeNode == null || !shapeNode.isArray()) {
            throw new CheckpointException(where + " lacks a shape (a list of dimensions)");
        }
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = nonNegativeInteger(shapeNode.get(i), where + " has dimension " + shapeNode.get(i)
                    + "; dimensions must be non-negative integers");
        }
        JsonNode offs = info.get("data_offsets");
        if (offs == null || !offs.isArray() || offs.size() != 2) {
            throw new CheckpointException(where + " lacks data_offsets (a [begin, end] pair)");
        }
        String badOffsets = where + " has data_offsets " + offs + "; they must be two non-negative integers";
        long begin = nonNegativeInteger(offs.get(0), badOffsets);
        long end = nonNegativeInteger(offs.get(1), badOffsets);
        if (end < begin) {
            throw new CheckpointException(where + " has data_offsets [" + begin + ", " + end
                    + "] that end before they begin; the file is corrupt");
        }
        long bytes;
        try {
            bytes = Math.multiplyExact(TensorData.numel(shape), dtype.byteSize());
        } catch (ArithmeticException e) {
            // The safetensors library refuses such shapes too (ValidationOverflow).
            throw new CheckpointException(where + " has shape " + Arrays.toString(shape)
                    + " whose size in bytes overflows a 64-bit integer; the file is corrupt");
        }
        if (end - begin != bytes) {
            throw new CheckpointException(where + " has data_offsets [" + begin + ", " + end + "] holding "
                    + (end - begin) + " bytes, but its shape " + Arrays.toString(shape) + " of " + dtype + " needs "
                    + bytes + "; the file is corrupt");
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    private static long nonNegativeInteger(JsonNode v, String error) {
        if (v == null || !v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 0) {
            throw new CheckpointException(error);
        }
        return v.asLong();
    }

    /**
     * The rule of the safetensors library (Metadata::validate and MetadataIncompleteBuffer): the
     * tensors' byte ranges, in offset order, tile the data section from its first byte to its last,
     * so that no byte belongs to two tensors and none to no tensor.
     */
    private static void checkLayout(Path path, List<Entry> entries, long dataSize) {
        List<Entry> byOffset = new ArrayList<>(entries);
        byOffset.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long expected = 0;
        Entry previous = null;
        for (Entry t : byOffset) {
            if (t.begin < expected) {
                throw new CheckpointException(path + ": tensor '" + t.name + "' has data_offsets [" + t.begin + ", "
                        + t.end + "] overlapping tensor '" + previous.name + "' [" + previous.begin + ", "
                        + previous.end + "]; the file is corrupt");
            }
            if (t.begin > expected) {
                throw new CheckpointException(path + ": tensor '" + t.name + "' starts at data byte " + t.begin
                        + " but the tensors before it end at " + expected
                        + "; safetensors data must be contiguous, the file is corrupt");
            }
            if (t.end > dataSize) {
                throw new CheckpointException(path + ": tensor '" + t.name + "' has data_offsets [" + t.begin + ", "
                        + t.end + "] past the end of the data (" + dataSize
                        + " bytes); the file is truncated or corrupt");
            }
            expected = t.end;
            previous = t;
        }
        if (expected != dataSize) {
            throw new CheckpointException(path + ": the tensors end at data byte " + expected + " but the file holds "
                    + dataSize + " data bytes; the file is corrupt");
        }
    }

    @Override
    public Path path() {
        return path;
    }

    /** All tensors by name, in header order. */
    @Override
    public Map<String, TensorData> tensors() {
        return tensors;
    }

    /** The optional {@code __metadata__} string map. */
    public Map<String, String> metadata() {
        return metadata;
    }


    /** Unmaps the file; tensors obtained from it must not be used afterwards. */
    @Override
    public void close() {
        arena.close();
    }
}
