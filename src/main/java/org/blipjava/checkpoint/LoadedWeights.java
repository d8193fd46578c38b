package org.blipjava.checkpoint;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A model's weights as loaded by {@link Checkpoints#open}: the {@link StateDict} and the open files
 * (memory mappings) its tensors point into.
 *
 * <p>This object owns those files: the state dict's tensors are valid until {@link #close()}.
 * A model that copies what it needs (as {@link TensorData#toFloatArray()} does) may close it
 * right after loading. Thread-safe once opened; close once, after every reader is done.
 */
public final class LoadedWeights implements AutoCloseable {
    /** The file layout the weights were read from. */
    public enum Format {
        /** {@code model.safetensors} */
        SAFETENSORS,
        /** {@code model.safetensors.index.json} and its shards */
        SAFETENSORS_SHARDED,
        /** {@code pytorch_model.bin} */
        PYTORCH,
        /** {@code pytorch_model.bin.index.json} and its shards */
        PYTORCH_SHARDED
    }

    private final Path source;
    private final Format format;
    private final List<Path> files;
    private final StateDict stateDict;
    private final List<AutoCloseable> owners;
    private boolean closed;

    LoadedWeights(Path source, Format format, List<Path> files, StateDict stateDict, List<AutoCloseable> owners) {
        this.source = source;
        this.format = format;
        this.files = List.copyOf(files);
        this.stateDict = stateDict;
        this.owners = List.copyOf(owners);
    }

    /** The weight file or shard index that was opened. */
    public Path source() {
        return source;
    }

    /** Which layout was found (single or sharded, safetensors or PyTorch). */
    public Format format() {
        return format;
    }

    /** Every file the tensors come from (the shards, for a sharded checkpoint). */
    public List<Path> files() {
        return files;
    }

    /** The tensors by checkpoint key; valid until this object is closed. */
    public StateDict stateDict() {
        return stateDict;
    }

    /** Unmaps every file; the state dict's tensors must not be used afterwards. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<Exception> failures = new ArrayList<>();
        for (AutoCloseable owner : owners) {
            try {
                owner.close();
            } catch (Exception e) {
                failures.add(e);
            }
        }
        if (!failures.isEmpty()) {
            CheckpointException e = new CheckpointException(source + ": failed to close " + failures.size()
                    + " weight file(s)", failures.getFirst());
            failures.stream().skip(1).forEach(e::addSuppressed);
            throw e;
        }
    }
}
