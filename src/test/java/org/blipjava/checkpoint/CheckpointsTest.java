package org.blipjava.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.blipjava.checkpoint.TorchFiles.ZipOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Choosing and opening a model directory's weights: single, sharded, missing, inconsistent. */
class CheckpointsTest {
    @TempDir
    Path tmp;

    private static Map<String, long[]> shapes(Object... nameShape) {
        Map<String, long[]> m = new LinkedHashMap<>();
        for (int i = 0; i < nameShape.length; i += 2) {
            m.put((String) nameShape[i], (long[]) nameShape[i + 1]);
        }
        return m;
    }

    private static Map<String, float[]> values(Object... nameValues) {
        Map<String, float[]> m = new LinkedHashMap<>();
        for (int i = 0; i < nameValues.length; i += 2) {
            m.put((String) nameValues[i], (float[]) nameValues[i + 1]);
        }
        return m;
    }

    /** Two safetensors shards and their index: a,b in shard 1; c in shard 2. */
    private Path shardedSafetensors(String name) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve(name));
        TorchFiles.writeSafetensors(dir.resolve("model-00001-of-00002.safetensors"),
                values("a", new float[] {1, 2}, "b", new float[] {3}), shapes("a", new long[] {2}, "b", new long[] {1}));
        TorchFiles.writeSafetensors(dir.resolve("model-00002-of-00002.safetensors"),
                values("c", new float[] {4, 5, 6, 7}), shapes("c", new long[] {2, 2}));
        Files.writeString(dir.resolve("model.safetensors.index.json"), """
                {"metadata": {"total_size": 28},
                 "weight_map": {"a": "model-00001-of-00002.safetensors",
                                "b": "model-00001-of-00002.safetensors",
                                "c": "model-00002-of-00002.safetensors"}}
                """);
        return dir;
    }

    @Test
    void opensShardedSafetensors() throws Exception {
        Path dir = shardedSafetensors("sharded");
        try (LoadedWeights w = Checkpoints.open(dir)) {
            assertThat(w.format()).isEqualTo(LoadedWeights.Format.SAFETENSORS_SHARDED);
            assertThat(w.files()).hasSize(2);
            StateDict sd = w.stateDict();
            assertThat(sd.tensors().keySet()).containsExactlyInAnyOrder("a", "b", "c");
            assertThat(sd.floats("a", 2)).containsExactly(1, 2);
            assertThat(sd.floats("b", 1)).containsExactly(3);
            assertThat(sd.floats("c", 2, 2)).containsExactly(4, 5, 6, 7);
            assertThat(sd.untaken()).isEmpty();
        }
    }

    @Test
    void shardIndexListingAKeyItsShardLacksIsRefused() throws Exception {
        Path dir = shardedSafetensors("lying-index");
        Files.writeString(dir.resolve("model.safetensors.index.json"), """
                {"weight_map": {"a": "model-00001-of-00002.safetensors",
                                "zz": "model-00002-of-00002.safetensors"}}
                """);
        assertThatThrownBy(() -> Checkpoints.open(dir).close())
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("model.safetensors.index.json")
                .hasMessageContaining("'zz'")
                .hasMessageContaining("model-00002-of-00002.safetensors");
    }

    @Test
    void missingShardIsNamed() throws Exception {
        Path dir = shardedSafetensors("missing-shard");
        Files.delete(dir.resolve("model-00002-of-00002.safetensors"));
        assertThatThrownBy(() -> Checkpoints.open(dir).close())
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("model-00002-of-00002.safetensors")
                .hasMessageContaining("does not exist");
    }

    @Test
    void shardOutsideTheModelDirectoryIsRefused() throws Exception {
        Path dir = shardedSafetensors("escape");
        TorchFiles.writeSafetensors(tmp.resolve("outside.safetensors"), values("a", new float[] {1}),
                shapes("a", new long[] {1}));
        Files.writeString(dir.resolve("model.safetensors.index.json"), """
                {"weight_map": {"a": "../outside.safetensors"}}
                """);
        assertThatThrownBy(() -> Checkpoints.open(dir).close())
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("outside the model directory");
    }

    @Test
    void keyInTwoShardsIsRefused() throws Exception {
        Path dir = shardedSafetensors("duplicate");
        TorchFiles.writeSafetensors(dir.resolve("model-00002-of-00002.safetensors"),
                values("c", new float[] {4, 5, 6, 7}, "a", new float[] {9, 9}),
                shapes("c", new long[] {2, 2}, "a", new long[] {2}));
        assertThatThrownBy(() -> Checkpoints.open(dir).close())
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("'a'");
    }

    @Test
    void indexWithoutWeightMapIsRefused() throws Exception {
        Path dir = shardedSafetensors("no-map");
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"metadata\": {}}");
        assertThatThrownBy(() -> Checkpoints.open(dir).close())
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("weight_map");
    }

    @Test
    void opensShardedPytorchBins() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("sharded-bin"));
        TorchFiles.writeZip(dir.resolve("pytorch_model-00001-of-00002.bin"),
                TorchFiles.f32StateDict(shapes("x", new long[] {3})), Map.of("0", TorchFiles.f32(1, 2, 3)),
                ZipOptions.plain());
        TorchFiles.writeZip(dir.resolve("pytorch_model-00002-of-00002.bin"),
                TorchFiles.f32StateDict(shapes("y", new long[] {1, 2})), Map.of("0", TorchFiles.f32(4, 5)),
                ZipOptions.plain());
        Files.writeString(dir.resolve("pytorch_model.bin.index.json"), """
                {"metadata": {"total_size": 20},
                 "weight_map": {"x": "pytorch_model-00001-of-00002.bin", "y": "pytorch_model-00002-of-00002.bin"}}
                """);
        try (LoadedWeights w = Checkpoints.open(dir)) {
            assertThat(w.format()).isEqualTo(LoadedWeights.Format.PYTORCH_SHARDED);
            assertThat(w.stateDict().floats("x", 3)).containsExactly(1, 2, 3);
            assertThat(w.stateDict().floats("y", 1, 2)).containsExactly(4, 5);
        }
    }

    @Test
    void preferenceOrderIsSafetensorsThenShardedThenBin() throws Exception {
        Path dir = shardedSafetensors("order");
        TorchFiles.writeZip(dir.resolve("pytorch_model.bin"), TorchFiles.f32StateDict(shapes("bin", new long[] {1})),
                Map.of("0", TorchFiles.f32(0)), ZipOptions.plain());
        try (LoadedWeights w = Checkpoints.open(dir)) {
            assertThat(w.format()).isEqualTo(LoadedWeights.Format.SAFETENSORS_SHARDED);
        }
        TorchFiles.writeSafetensors(dir.resolve("model.safetensors"), values("single", new float[] {1}),
                shapes("single", new long[] {1}));
        try (LoadedWeights w = Checkpoints.open(dir)) {
            assertThat(w.format()).isEqualTo(LoadedWeights.Format.SAFETENSORS);
            assertThat(w.stateDict().tensors().keySet()).containsExactly("single");
        }
        Files.delete(dir.resolve("model.safetensors"));
        Files.delete(dir.resolve("model.safetensors.index.json"));
        try (LoadedWeights w = Checkpoints.open(dir)) {
            assertThat(w.format()).isEqualTo(LoadedWeights.Format.PYTORCH);
            assertThat(w.stateDict().tensors().keySet()).containsExactly("bin");
        }
        // A weight file path works as well as its directory.
        try (LoadedWeights w = Checkpoints.open(dir.resolve("pytorch_model.bin"))) {
            assertThat(w.format()).isEqualTo(LoadedWeights.Format.PYTORCH);
        }
    }

    @Test
    void directoryWithoutWeightsNamesItAndEveryFileLookedFor() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("empty-model"));
        Files.writeString(dir.resolve("config.json"), "{}");
        assertThatThrownBy(() -> Checkpoints.open(dir))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining(dir.toString())
                .hasMessageContaining("model.safetensors")
                .hasMessageContaining("model.safetensors.index.json")
                .hasMessageContaining("pytorch_model.bin")
                .hasMessageContaining("pytorch_model.bin.index.json");
        assertThatThrownBy(() -> Checkpoints.open(tmp.resolve("nowhere")))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("nowhere");
    }

    @Test
    void closingUnmapsTheTensors() throws Exception {
        Path dir = shardedSafetensors("closing");
        LoadedWeights w = Checkpoints.open(dir);
        TensorData a = w.stateDict().take("a");
        w.close();
        w.close(); // idempotent
        assertThatThrownBy(a::toFloatArray).isInstanceOf(IllegalStateException.class);
    }
}
