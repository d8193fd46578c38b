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
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A memory-mapped {@code .safetensors} file: an 8-byte little-endian header length, a JSON
 * header naming each tensor's dtype, shape and byte range, then the raw data.
 *
 * <p>Tensors are views into the mapping; close the file (try-with-resources) when done with
 * them. The header is validated: every byte range must lie inside the file and match its
 * dtype and shape.
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
            Map<String, TensorData> tensors = new LinkedHashMap<>();
            Map<String, String> metadata = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = header.properties().iterator(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String name = e.getKey();
                JsonNode info = e.getValue();
                if (name.equals("__metadata__")) {
                    info.properties().forEach(m -> metadata.put(m.getKey(), m.getValue().asText()));
                    continue;
                }
                DType dtype = DType.fromSafetensors(info.path("dtype").asText());
                if (dtype == null) {
                    throw new CheckpointException(path + ": tensor '" + name + "' has unsupported dtype '"
                            + info.path("dtype").asText() + "'");
                }
                JsonNode shapeNode = info.path("shape");
                long[] shape = new long[shapeNode.size()];
                for (int i = 0; i < shape.length; i++) {
                    shape[i] = shapeNode.get(i).asLong();
                    if (shape[i] < 0) {
                        throw new CheckpointException(path + ": tensor '" + name + "' has a negative dimension");
                    }
                }
                JsonNode offs = info.path("data_offsets");
                if (offs.size() != 2) {
                    throw new CheckpointException(path + ": tensor '" + name + "' lacks data_offsets");
                }
                long begin = offs.get(0).asLong();
                long end = offs.get(1).asLong();
                long expected = TensorData.numel(shape) * dtype.byteSize();
                if (begin < 0 || end < begin || end > dataSize || end - begin != expected) {
                    throw new CheckpointException(path + ": tensor '" + name + "' has data_offsets ["
                            + begin + ", " + end + ") that do not fit its shape or the file (" + dataSize
                            + " data bytes); the file is truncated or corrupt");
                }
                tensors.put(name, new TensorData(name, dtype, shape, all.asSlice(dataStart + begin, end - begin)));
            }
            return new SafetensorsFile(path, arena, Collections.unmodifiableMap(tensors),
                    Collections.unmodifiableMap(metadata));
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
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
