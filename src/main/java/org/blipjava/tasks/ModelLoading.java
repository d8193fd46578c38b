package org.blipjava.tasks;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import org.blipjava.checkpoint.Checkpoints;
import org.blipjava.checkpoint.LoadedWeights;
import org.blipjava.checkpoint.StateDict;
import org.blipjava.hub.ModelFiles;
import org.blipjava.hub.ModelLocator;

/** The steps every family's loader shares: finding the folder, reading its config, mapping its weights. */
final class ModelLoading {
    private ModelLoading() {}

    /** A config reader that may fail with an I/O error. */
    @FunctionalInterface
    interface ConfigReader<C> {
        C read(Path configJson) throws IOException;
    }

    /** Builds a model from the weights and the compute threads it will use. */
    @FunctionalInterface
    interface Builder<M> {
        M build(StateDict weights, org.blipjava.tensor.Parallel parallel);
    }

    /** A local directory as it is, or a Hub id's snapshot with {@code files} downloaded. */
    static Path resolve(String model, LoadOptions options, ModelFiles files) {
        try (ModelLocator locator = options.listener() == null
                ? ModelLocator.fromSystem() : ModelLocator.fromSystem(options.listener())) {
            return locator.resolve(model, options.revision(), files);
        }
    }

    /** Reads {@code directory/config.json} with {@code reader}; an I/O failure names the file. */
    static <C> C config(Path directory, ConfigReader<C> reader) {
        Path file = directory.resolve("config.json");
        try {
            return reader.read(file);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    /**
     * Maps the folder's weights (safetensors, sharded or pytorch_model.bin), starts the compute
     * threads and builds the model; the threads are stopped again when building fails, and the
     * mapping is closed either way (models copy what they keep).
     */
    static <M> M build(Path directory, LoadOptions options, Builder<M> builder) {
        org.blipjava.tensor.Parallel parallel = new org.blipjava.tensor.Parallel(options.effectiveThreads());
        try (LoadedWeights weights = openWeights(directory)) {
            return builder.build(weights.stateDict(), parallel);
        } catch (RuntimeException e) {
            parallel.close();
            throw e;
        }
    }

    /** Maps a model folder's weights; an I/O failure names the folder. */
    static LoadedWeights openWeights(Path directory) {
        try {
            return Checkpoints.open(directory);
        } catch (IOException e) {
            throw new UncheckedIOException(directory + ": cannot read the weights: " + e.getMessage(), e);
        }
    }
}
