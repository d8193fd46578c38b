package org.blipjava.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds and opens a model's weights in the Hugging Face layouts: single or sharded safetensors,
 * single or sharded {@code pytorch_model.bin}.
 */
public final class Checkpoints {
    /** The weight files looked for in a model directory, in order of preference. */
    public static final List<String> WEIGHT_FILES = List.of(
            "model.safetensors", "model.safetensors.index.json",
            "pytorch_model.bin", "pytorch_model.bin.index.json");

    private static final ObjectMapper JSON = new ObjectMapper();

    private Checkpoints() {}

    /**
     * Opens the weights of a model directory, taking the first of {@link #WEIGHT_FILES} that
     * exists (safetensors is preferred: it cannot carry code). A path to one of those files is
     * accepted too. The caller owns the result and closes it.
     *
     * @throws CheckpointException naming the directory and the files looked for when none
     *                             exists, or naming the file that is malformed
     */
    public static LoadedWeights open(Path modelDir) throws IOException {
        if (Files.isRegularFile(modelDir)) {
            return openFile(modelDir);
        }
        if (!Files.isDirectory(modelDir)) {
            throw new CheckpointException(modelDir + ": no such model directory");
        }
        for (String name : WEIGHT_FILES) {
            Path p = modelDir.resolve(name);
            if (Files.isRegularFile(p)) {
                return openFile(p);
            }
        }
        throw new CheckpointException(modelDir + ": no weights found; looked for " + String.join(", ", WEIGHT_FILES)
                + ". Is this a model directory as save_pretrained writes it?");
    }

    /**
     * Opens one weight file, choosing the reader by its name: {@code *.index.json} (a shard
     * index), {@code *.safetensors}, otherwise a PyTorch zip checkpoint.
     */
    public static LoadedWeights openFile(Path file) throws IOException {
        String name = file.getFileName().toString();
        if (name.endsWith(".index.json")) {
            return openSharded(file);
        }
        boolean safetensors = name.endsWith(".safetensors");
        AutoCloseable owner;
        Map<String, TensorData> tensors;
        if (safetensors) {
            SafetensorsFile f = SafetensorsFile.open(file);
            owner = f;
            tensors = f.tensors();
        } else {
            PytorchCheckpoint f = PytorchCheckpoint.open(file);
            owner = f;
            tensors = f.tensors();
        }
        return new LoadedWeights(file, safetensors ? LoadedWeights.Format.SAFETENSORS : LoadedWeights.Format.PYTORCH,
                List.of(file), new StateDict(file.toString(), tensors), List.of(owner));
    }

    /**
     * A sharded checkpoint: the index's {@code weight_map} maps each key to a shard file beside
     * it. Each shard is opened once; every listed key must be in its shard, and no key may appear
     * in two shards.
     */
    private static LoadedWeights openSharded(Path index) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(index.toFile());
        } catch (IOException e) {
            throw new CheckpointException(index + ": not valid JSON: " + e.getMessage(), e);
        }
        JsonNode weightMap = root == null ? null : root.get("weight_map");
        if (weightMap == null || !weightMap.isObject() || weightMap.isEmpty()) {
            throw new CheckpointException(index + ": has no \"weight_map\" object mapping keys to shard files");
        }
        Path dir = index.toAbsolutePath().getParent();
        Map<String, List<String>> keysByShard = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : weightMap.properties()) {
            if (!e.getValue().isTextual()) {
                throw new CheckpointException(index + ": weight_map entry '" + e.getKey() + "' is not a file name");
            }
            keysByShard.computeIfAbsent(e.getValue().asText(), k -> new ArrayList<>()).add(e.getKey());
        }
        boolean safetensors = index.getFileName().toString().endsWith(".safetensors.index.json");
        List<AutoCloseable> owners = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        try {
            Map<String, TensorData> all = new LinkedHashMap<>();
            Map<String, Path> origin = new LinkedHashMap<>();
            for (Map.Entry<String, List<String>> e : keysByShard.entrySet()) {
                Path shard = dir.resolve(e.getKey()).normalize();
                // The index is data from the internet: it must not point outside the model directory.
                if (!shard.startsWith(dir) || shard.equals(dir)) {
                    throw new CheckpointException(index + ": shard '" + e.getKey()
                            + "' is outside the model directory; refused");
                }
                if (!Files.isRegularFile(shard)) {
                    throw new CheckpointException(index + ": shard '" + e.getKey() + "' does not exist ("
                            + shard + "); the download is incomplete");
                }
                Map<String, TensorData> tensors;
                if (safetensors) {
                    SafetensorsFile f = SafetensorsFile.open(shard);
                    owners.add(f);
                    tensors = f.tensors();
                } else {
                    PytorchCheckpoint f = PytorchCheckpoint.open(shard);
                    owners.add(f);
                    tensors = f.tensors();
                }
                files.add(shard);
                for (String key : e.getValue()) {
                    if (!tensors.containsKey(key)) {
                        throw new CheckpointException(index + ": lists '" + key + "' in shard " + shard
                                + ", which has no such tensor; the index and shards do not match");
                    }
                }
                for (Map.Entry<String, TensorData> t : tensors.entrySet()) {
                    Path before = origin.putIfAbsent(t.getKey(), shard);
                    if (before != null) {
                        throw new CheckpointException(index + ": tensor '" + t.getKey() + "' is in both "
                                + before + " and " + shard);
                    }
                    all.put(t.getKey(), t.getValue());
                }
            }
            return new LoadedWeights(index, safetensors ? LoadedWeights.Format.SAFETENSORS_SHARDED
                    : LoadedWeights.Format.PYTORCH_SHARDED, files, new StateDict(index.toString(), all), owners);
        } catch (IOException | RuntimeException e) {
            for (AutoCloseable o : owners) {
                try {
                    o.close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }
}
