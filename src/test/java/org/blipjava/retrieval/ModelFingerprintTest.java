package org.blipjava.retrieval;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.blipjava.testing.Fixtures;
import org.blipjava.testing.Fixtures.FixtureSet;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** A model is known by its weights: wherever its folder lies and in whichever file format. */
class ModelFingerprintTest {
    static Stream<FixtureSet> sets() {
        return Fixtures.parameters(Fixtures.Kind.BLIP);
    }

    private static Path copy(Path model, Path to, String... without) throws Exception {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(model)) {
            for (Path f : files.toList()) {
                if (!java.util.List.of(without).contains(f.getFileName().toString())) {
                    Files.copy(f, to.resolve(f.getFileName()));
                }
            }
        }
        return to;
    }

    @ParameterizedTest
    @MethodSource("sets")
    void theSameWeightsAnywhereAndInEitherFormatAreTheSameModel(FixtureSet set, @TempDir Path tmp) throws Exception {
        Path caption = set.model("tiny-caption");
        String original = ModelFingerprint.of(caption);
        assertThat(original).hasSize(32).matches("[0-9a-f]+");
        assertThat(ModelFingerprint.of(copy(caption, tmp.resolve("moved")))).isEqualTo(original);
        if (Files.exists(caption.resolve("pytorch_model.bin")) && Files.exists(caption.resolve("model.safetensors"))) {
            Path bin = copy(caption, tmp.resolve("bin-only"), "model.safetensors");
            assertThat(ModelFingerprint.of(bin)).as("pytorch_model.bin of the same weights").isEqualTo(original);
        }
        assertThat(ModelFingerprint.of(set.model("tiny-itm"))).isNotEqualTo(original);
        assertThat(ModelFingerprint.of(set.model("tiny-contrastive"))).isNotEqualTo(ModelFingerprint.of(set.model("tiny-itm")));
    }
}
