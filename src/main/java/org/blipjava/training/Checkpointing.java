package org.blipjava.training;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.blipjava.checkpoint.Checkpoints;
import org.blipjava.checkpoint.LoadedWeights;
import org.blipjava.checkpoint.SafetensorsWriter;
import org.blipjava.checkpoint.StateDict;
import org.blipjava.checkpoint.TensorData;

/**
 * Saving trained weights in the Hugging Face layout ({@code save_pretrained}): {@code config.json},
 * {@code model.safetensors} and the tokenizer and image-processor files of the model the training
 * started from, so that {@code Blip.load(dir)} and the Python reference both load the result.
 */
public final class Checkpointing {
    /** Files copied from the source model directory when present: tokenizer, processor and generation settings. */
    public static final List<String> SIDE_FILES = List.of(
            "preprocessor_config.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
            "vocab.txt", "tokenizer.json", "generation_config.json");

    /** The weights file {@link #savePretrained} writes. */
    public static final String WEIGHTS_FILE = "model.safetensors";

    private Checkpointing() {}

    /**
     * The tensors {@code save_pretrained} would write for these parameters: each distinct parameter
     * once, under the first name it was registered with, so tied aliases such as
     * {@code cls.predictions.decoder.bias} (the same tensor as {@code cls.predictions.bias}) are
     * omitted as the reference omits them.
     */
    public static List<TensorData> tensors(Parameters params) {
        Map<Parameter, String> first = new IdentityHashMap<>();
        for (String name : params.names()) {
            first.putIfAbsent(params.get(name), name);
        }
        List<TensorData> out = new ArrayList<>();
        for (Map.Entry<Parameter, String> e : first.entrySet()) {
            out.add(SafetensorsWriter.f32(e.getValue(), e.getKey().shape(), e.getKey().value()));
        }
        out.sort(Comparator.comparing(TensorData::name));
        return out;
    }

    /**
     * A state dict over copies of the current values (as saved by {@link #tensors}), for building
     * an inference model from the weights being trained without writing them to disk.
     */
    public static StateDict stateDict(Parameters params) {
        Map<String, TensorData> map = new LinkedHashMap<>();
        for (TensorData t : tensors(params)) {
            map.put(t.name(), t);
        }
        return new StateDict(params.source() + " (in training)", map);
    }

    /**
     * Writes a model directory as {@code save_pretrained} does: {@code config.json} and the
     * {@link #SIDE_FILES} copied from {@code sourceModelDir}, {@code model.safetensors} from the
     * parameters (with {@code {"format":"pt"}} metadata) plus any non-float buffers of the source
     * weights. The directory is assembled beside {@code outDir} and renamed into place, so
     * {@code outDir} is either the old directory or the complete new one.
     *
     * @throws IOException when {@code sourceModelDir} has no {@code config.json} or a write fails
     */
    public static void savePretrained(Parameters params, Path sourceModelDir, Path outDir) throws IOException {
        savePretrained(params, sourceModelDir, outDir, Map.of());
    }

    /**
     * As {@link #savePretrained(Parameters, Path, Path)}, with {@code extraFiles} (file name to
     * UTF-8 content, such as a task's {@code itc_temperature.json}) written into the directory
     * before it is renamed into place.
     */
    static void savePretrained(Parameters params, Path sourceModelDir, Path outDir, Map<String, String> extraFiles)
            throws IOException {
        Path config = sourceModelDir.resolve("config.json");
        if (!Files.isRegularFile(config)) {
            throw new IOException(config + ": no such file; the source model directory must hold the config.json "
                    + "of the model being trained");
        }
        Path target = outDir.toAbsolutePath();
        Files.createDirectories(target.getParent());
        Path tmp = Files.createTempDirectory(target.getParent(), "." + target.getFileName() + ".tmp");
        try {
            Files.copy(config, tmp.resolve("config.json"));
            for (String name : SIDE_FILES) {
                Path f = sourceModelDir.resolve(name);
                if (Files.isRegularFile(f)) {
                    Files.copy(f, tmp.resolve(name));
                }
            }
            writeWeights(params, sourceModelDir, tmp.resolve(WEIGHTS_FILE));
            for (Map.Entry<String, String> e : extraFiles.entrySet()) {
                Files.writeString(tmp.resolve(e.getKey()), e.getValue());
            }
            replaceDirectory(tmp, target);
        } finally {
            deleteTree(tmp);
        }
    }

    private static void writeWeights(Parameters params, Path sourceModelDir, Path file) throws IOException {
        List<TensorData> tensors = tensors(params);
        // Integer buffers (position_ids in older checkpoints) are not parameters; keep them as the source had them.
        try (LoadedWeights src = Checkpoints.open(sourceModelDir)) {
            for (TensorData t : src.stateDict().tensors().values()) {
                if (!t.dtype().isFloatingPoint() && !params.contains(t.name())) {
                    MemorySegment copy = MemorySegment.ofArray(new byte[Math.toIntExact(t.bytes().byteSize())]);
                    copy.copyFrom(t.bytes());
                    tensors.add(new TensorData(t.name(), t.dtype(), t.shape(), copy));
                }
            }
            SafetensorsWriter.write(file, tensors, SafetensorsWriter.PT_METADATA);
        }
    }

    /**
     * Moves a complete directory {@code tmp} to {@code target}, replacing what was there: the old
     * directory is first renamed aside, so at every moment one complete version exists.
     */
    static void replaceDirectory(Path tmp, Path target) throws IOException {
        Path old = null;
        if (Files.exists(target)) {
            old = target.resolveSibling("." + target.getFileName() + ".old-" + System.nanoTime());
            Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        if (old != null) {
            deleteTree(old);
        }
    }

    /** Deletes a file tree if it exists. */
    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
