package org.blipjava.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.blipjava.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsFileTest {
    @Test
    void readsExpectedTensorsOfEveryFixtureSet() throws Exception {
        for (Fixtures.FixtureSet set : Fixtures.sets(Fixtures.Kind.BLIP)) {
            try (SafetensorsFile f = set.openTensors()) {
                assertThat(f.tensors()).isNotEmpty();
                for (TensorData t : f.tensors().values()) {
                    assertThat(t.toFloatArray()).hasSize((int) t.numel());
                }
            }
        }
    }

    @Test
    void refusesTruncatedFile(@TempDir Path tmp) throws Exception {
        Path src = Fixtures.sets(Fixtures.Kind.BLIP).getFirst().dir().resolve("expected.safetensors");
        byte[] all = Files.readAllBytes(src);
        Path cut = tmp.resolve("cut.safetensors");
        Files.write(cut, java.util.Arrays.copyOf(all, all.length / 2));
        assertThatThrownBy(() -> SafetensorsFile.open(cut))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("cut.safetensors");
    }
}
