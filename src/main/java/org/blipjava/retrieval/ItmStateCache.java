package org.blipjava.retrieval;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.zip.CRC32C;
import org.blipjava.checkpoint.DType;
import org.blipjava.checkpoint.SafetensorsFile;
import org.blipjava.checkpoint.SafetensorsWriter;
import org.blipjava.checkpoint.TensorData;
import org.blipjava.tasks.ImageStates;

/**
 * The opt-in cache of vision-tower states for ITM re-ranking, kept in the {@value #DIRECTORY}
 * folder inside an index directory: one safetensors file per image, named by the SHA-256 of the
 * image's indexed path, holding its {@code [seqLen, hidden]} float32 last hidden state and, as
 * metadata, the path, the file size and modification time it was computed from, and a CRC-32C of
 * the floats. An entry is used only when all of these match, so a stale, foreign or damaged entry
 * reads as missing and the caller recomputes the image; float32 keeps the scores bit-identical to
 * recomputing them.
 *
 * <p>Entries are written to a temporary file and renamed, so readers in other processes see a
 * whole entry or none. Thread-safe: instances hold no mutable state.
 */
public final class ItmStateCache {
    /** The cache's folder inside the index directory. */
    public static final String DIRECTORY = "itm-cache";
    private static final String SUFFIX = ".safetensors";
    private static final String TENSOR = "last_hidden_state";
    private static final String FORMAT = "blip-itm-states-1";

    /**
     * What the cache holds on disk.
     *
     * @param entries       entry files
     * @param bytes         their total size
     * @param bytesPerImage the float32 states of one image, {@code seqLen x hidden x 4} (each file
     *                      adds a header of a few hundred bytes)
     */
    public record Usage(int entries, long bytes, long bytesPerImage) {}

    private final Path directory;
    private final ImageStates.Shape shape;

    private ItmStateCache(Path directory, ImageStates.Shape shape) {
        this.directory = directory;
        this.shape = shape;
    }

    /**
     * The cache of an index, whether or not it has entries yet.
     *
     * @param shape the states of one image as the index's model makes them
     */
    public static ItmStateCache of(ImageIndex index, ImageStates.Shape shape) {
        return new ItmStateCache(index.location().toAbsolutePath().normalize().resolve(DIRECTORY),
                Objects.requireNonNull(shape, "shape"));
    }

    /** The cache folder. */
    public Path directory() {
        return directory;
    }

    /** The shape of one image's states. */
    public ImageStates.Shape shape() {
        return shape;
    }

    /** The entry file of an indexed path. */
    Path file(String path) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(path.getBytes(StandardCharsets.UTF_8));
            return directory.resolve(HexFormat.of().formatHex(digest) + SUFFIX);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256, which every Java platform must provide", e);
        }
    }

    /**
     * Stores one image's states, replacing any entry of the same path.
     *
     * @param states {@code [seqLen, hidden]} floats
     * @throws UncheckedIOException naming the entry file when it cannot be written
     */
    public void put(String path, FileStamp stamp, float[] states) {
        if (states.length != shape.seqLen() * shape.hidden()) {
            throw new IllegalArgumentException(path + ": " + states.length + " state values, the cache holds "
                    + shape.seqLen() + " x " + shape.hidden());
        }
        TensorData t = SafetensorsWriter.f32(TENSOR, new int[] {shape.seqLen(), shape.hidden()}, states);
        CRC32C crc = new CRC32C();
        crc.update(t.bytes().asByteBuffer());
        Map<String, String> meta = Map.of("format", FORMAT, "path", path, "size", Long.toString(stamp.size()),
                "modified", Long.toString(stamp.modified()), "crc32c", Long.toString(crc.getValue()));
        Path file = file(path);
        try {
            SafetensorsWriter.write(file, List.of(t), meta);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot write the ITM cache entry of " + path + ": " + e.getMessage(), e);
        }
    }

    /**
     * The states stored for this path as of this stamp, or null when there is no such entry or it
     * is stale, of another shape, or damaged (then the caller recomputes; nothing is thrown).
     */
    public float[] get(String path, FileStamp stamp) {
        try (SafetensorsFile f = SafetensorsFile.open(file(path))) {
            TensorData t = matching(f, path, stamp);
            if (t == null) {
                return null;
            }
            CRC32C crc = new CRC32C();
            crc.update(t.bytes().asByteBuffer());
            if (!Long.toString(crc.getValue()).equals(f.metadata().get("crc32c"))) {
                return null;
            }
            return t.toFloatArray();
        } catch (IOException | RuntimeException e) {
            // Missing, truncated or not safetensors at all: treated as absent.
            return null;
        }
    }

    /**
     * Whether an entry for this path and stamp exists with the right shape (its header is read,
     * its data is not verified: {@link #get} does that).
     */
    public boolean holds(String path, FileStamp stamp) {
        try (SafetensorsFile f = SafetensorsFile.open(file(path))) {
            return matching(f, path, stamp) != null;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private TensorData matching(SafetensorsFile f, String path, FileStamp stamp) {
        Map<String, String> m = f.metadata();
        TensorData t = f.tensors().get(TENSOR);
        boolean ok = FORMAT.equals(m.get("format")) && path.equals(m.get("path"))
                && Long.toString(stamp.size()).equals(m.get("size"))
                && Long.toString(stamp.modified()).equals(m.get("modified"))
                && t != null && t.dtype() == DType.F32
                && t.shape().length == 2 && t.shape()[0] == shape.seqLen() && t.shape()[1] == shape.hidden();
        return ok ? t : null;
    }

    /** Deletes the entry of a path, if any. */
    public void remove(String path) {
        Path file = file(path);
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot delete the ITM cache entry of " + path + ": " + e.getMessage(), e);
        }
    }

    /** Deletes temporary files that an interrupted write left behind. */
    public void removeTemporaries() {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(directory, ".*.tmp")) {
            for (Path p : files) {
                Files.deleteIfExists(p);
            }
        } catch (NoSuchFileException e) {
            // No cache written yet.
        } catch (IOException e) {
            throw new UncheckedIOException(directory + ": cannot clean the ITM cache: " + e.getMessage(), e);
        }
    }

    /** Counts the entry files and their bytes (zero when the folder does not exist). */
    public Usage usage() {
        int entries = 0;
        long bytes = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(directory, "*" + SUFFIX)) {
            for (Path p : files) {
                entries++;
                bytes += Files.size(p);
            }
        } catch (NoSuchFileException e) {
            // No cache written yet.
        } catch (IOException e) {
            throw new UncheckedIOException(directory + ": cannot list the ITM cache: " + e.getMessage(), e);
        }
        return new Usage(entries, bytes, shape.bytes());
    }
}
