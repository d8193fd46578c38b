package org.blipjava.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.blipjava.testing.Fixtures;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The reference's own pytorch_model.bin files read exactly as the safetensors written beside them. */
class PytorchCheckpointFixtureTest {

    /** Every fixture model directory that has both formats (discovered, never named). */
    /**
     * The fixture models with both weight files. A set may ship only one format per model (the
     * README allows it), so when none has both the comparison is reported skipped, not failed.
     */
    private static List<Path> modelsWithBothFormats() {
        List<Path> out = modelsWith("model.safetensors", "pytorch_model.bin");
        Assumptions.assumeFalse(out.isEmpty(), "no fixture model under " + Fixtures.root()
                + " has both model.safetensors and pytorch_model.bin");
        return out;
    }

    /** The fixture models with a pytorch_model.bin; reported skipped when there is none. */
    private static List<Path> modelsWithBin() {
        List<Path> out = modelsWith("pytorch_model.bin");
        Assumptions.assumeFalse(out.isEmpty(), "no fixture model under " + Fixtures.root() + " has pytorch_model.bin");
        return out;
    }

    private static List<Path> modelsWith(String... files) {
        List<Path> out = new ArrayList<>();
        for (Fixtures.FixtureSet set : Fixtures.sets(Fixtures.Kind.BLIP)) {
            Path models = set.dir().resolve("models");
            if (!Files.isDirectory(models)) {
                continue;
            }
            try (Stream<Path> s = Files.list(models)) {
                s.filter(d -> Arrays.stream(files).allMatch(f -> Files.isRegularFile(d.resolve(f))))
                        .sorted().forEach(out::add);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return out;
    }

    @Test
    void binEqualsSafetensorsForEveryFixtureModel() throws Exception {
        List<Path> dirs = modelsWithBothFormats();
        for (Path dir : dirs) {
            try (SafetensorsFile st = SafetensorsFile.open(dir.resolve("model.safetensors"));
                 PytorchCheckpoint pt = PytorchCheckpoint.open(dir.resolve("pytorch_model.bin"))) {
                Map<String, TensorData> a = st.tensors();
                Map<String, TensorData> b = pt.tensors();
                assertThat(b.keySet()).as(dir + ": .bin keys").containsAll(a.keySet());
                for (TensorData x : a.values()) {
                    TensorData y = b.get(x.name());
                    assertThat(y.dtype()).as(x.name()).isEqualTo(x.dtype());
                    assertThat(y.shape()).as(x.name()).isEqualTo(x.shape());
                    assertThat(y.bytes().mismatch(x.bytes())).as(dir + ": values of " + x.name()).isEqualTo(-1L);
                }
                // Keys only the .bin has must be tied duplicates: same memory as a key both files have.
                for (String extra : b.keySet()) {
                    if (a.containsKey(extra)) {
                        continue;
                    }
                    TensorData dup = b.get(extra);
                    boolean tied = a.keySet().stream().map(b::get).anyMatch(t ->
                            t.bytes().address() == dup.bytes().address()
                                    && t.bytes().byteSize() == dup.bytes().byteSize()
                                    && Arrays.equals(t.shape(), dup.shape()));
                    assertThat(tied).as(dir + ": '" + extra + "' is only in the .bin and shares no storage").isTrue();
                }
            }
        }
    }

    @Test
    void checkpointsPreferSafetensorsAndFallBackToBin(@TempDir Path tmp) throws Exception {
        for (Path dir : modelsWithBothFormats()) {
            try (LoadedWeights w = Checkpoints.open(dir)) {
                assertThat(w.format()).isEqualTo(LoadedWeights.Format.SAFETENSORS);
                assertThat(w.source()).isEqualTo(dir.resolve("model.safetensors"));
            }
            Path onlyBin = Files.createDirectories(tmp.resolve(dir.getFileName()));
            Files.copy(dir.resolve("pytorch_model.bin"), onlyBin.resolve("pytorch_model.bin"));
            try (LoadedWeights w = Checkpoints.open(onlyBin);
                 SafetensorsFile st = SafetensorsFile.open(dir.resolve("model.safetensors"))) {
                assertThat(w.format()).isEqualTo(LoadedWeights.Format.PYTORCH);
                StateDict sd = w.stateDict();
                for (TensorData x : st.tensors().values()) {
                    assertThat(sd.floats(x.name(), x.shape())).isEqualTo(x.toFloatArray());
                }
            }
        }
    }

    @Test
    void truncatedBinIsRefusedNamingTheFile(@TempDir Path tmp) throws Exception {
        Path src = modelsWithBin().getFirst().resolve("pytorch_model.bin");
        byte[] all = Files.readAllBytes(src);
        for (int keep : new int[] {0, 3, all.length / 2, all.length - 10}) {
            Path cut = tmp.resolve("cut" + keep + ".bin");
            Files.write(cut, Arrays.copyOf(all, keep));
            assertThatThrownBy(() -> PytorchCheckpoint.open(cut))
                    .isInstanceOf(CheckpointException.class)
                    .hasMessageContaining(cut.getFileName().toString());
        }
    }

    @Test
    void corruptedPickleIsRefusedNamingTheFile(@TempDir Path tmp) throws Exception {
        Path src = modelsWithBin().getFirst().resolve("pytorch_model.bin");
        byte[] all = Files.readAllBytes(src);
        // data.pkl is torch's first entry: damage a byte inside it, after the local header.
        int at = 30 + (all[26] & 0xff) + ((all[27] & 0xff) << 8) + (all[28] & 0xff) + ((all[29] & 0xff) << 8) + 40;
        all[at] ^= 0x5a;
        Path bad = tmp.resolve("flipped.bin");
        Files.write(bad, all);
        assertThatThrownBy(() -> PytorchCheckpoint.open(bad))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("flipped.bin");
    }
}
