package org.blipjava.checkpoint;

import java.nio.file.Path;
import java.util.Map;

/**
 * One open weight file (safetensors or a PyTorch zip): its tensors by key, valid until closed.
 */
public interface TensorFile extends AutoCloseable {
    /** The file the tensors were read from. */
    Path path();

    /** All tensors by key, in the file's order. */
    Map<String, TensorData> tensors();

    /** The named tensor; throws {@link CheckpointException} naming the file when absent. */
    default TensorData get(String name) {
        TensorData t = tensors().get(name);
        if (t == null) {
            throw new CheckpointException(path() + ": no tensor named '" + name + "'");
        }
        return t;
    }

    /** Releases the mapping; tensors obtained from the file must not be used afterwards. */
    @Override
    void close();
}
