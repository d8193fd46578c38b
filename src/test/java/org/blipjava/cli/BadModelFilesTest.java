package org.blipjava.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.blipjava.cli.CliRun.run;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.blipjava.checkpoint.Checkpoints;
import org.blipjava.testing.FixtureInputs;
import org.blipjava.testing.Fixtures;
import org.blipjava.testing.Fixtures.FixtureSet;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A model directory with a bad config.json or a malformed safetensors file gives one line naming
 * the file and what is wrong, not "/ by zero" or "long overflow".
 */
class BadModelFilesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static Stream<FixtureSet> sets() {
        return Fixtures.parameters(Fixtures.Kind.BLIP);
    }

    /** tiny-caption without its weights, in {@code dir}. */
    private static Path modelWithoutWeights(FixtureSet set, Path dir) throws Exception {
        Path model = Files.createDirectory(dir.resolve("model"));
        try (Stream<Path> files = Files.list(set.model("tiny-caption"))) {
            for (Path f : files.toList()) {
                String name = f.getFileName().toString();
                if (!name.endsWith(".safetensors") && !name.endsWith(".bin")) {
                    Files.copy(f, model.resolve(name));
                }
            }
        }
        return model;
    }

    private static void assertOneLine(CliRun r, String... parts) {
        assertThat(r.exit()).as(r.err()).isNotZero();
        assertThat(r.err().strip().lines().count()).as(r.err()).isEqualTo(1);
        assertThat(r.err()).contains(parts).doesNotContain("by zero").doesNotContain("long overflow")
                .doesNotContain("Exception");
    }

    @ParameterizedTest
    @MethodSource("sets")
    void zeroAttentionHeadsNameConfigJsonAndTheKey(FixtureSet set, @TempDir Path tmp) throws Exception {
        Path model = modelWithoutWeights(set, tmp);
        // The weights in whichever format the set ships them.
        Path weights = Checkpoints.WEIGHT_FILES.stream().map(set.model("tiny-caption")::resolve)
                .filter(Files::isRegularFile).findFirst().orElseThrow();
        Files.copy(weights, model.resolve(weights.getFileName()));
        ObjectNode config = (ObjectNode) JSON.readTree(model.resolve("config.json").toFile());
        config.withObjectProperty("text_config").put("num_attention_heads", 0);
        JSON.writeValue(model.resolve("config.json").toFile(), config);
        Path image = set.image(FixtureInputs.modelImages(set.expected(), "caption").get(0));
        assertOneLine(run("caption", "--model", model.toString(), image.toString()),
                model.resolve("config.json") + " text_config: field 'num_attention_heads' must be at least 1, got 0");
    }

    @ParameterizedTest
    @MethodSource("sets")
    void malformedSafetensorsNameTheFileAndTheTensor(FixtureSet set, @TempDir Path tmp) throws Exception {
        Path model = modelWithoutWeights(set, tmp);
        Path weights = model.resolve("model.safetensors");
        Path image = set.image(FixtureInputs.modelImages(set.expected(), "caption").get(0));

        write(weights, "{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]},"
                + " \"b\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [8, 24]}}", 24);
        assertOneLine(run("caption", "--model", model.toString(), image.toString()),
                weights + ": tensor 'b' has data_offsets [8, 24] overlapping tensor 'a'");

        write(weights, "{\"a\": {\"dtype\": \"F32\", \"shape\": [4611686018427387904], \"data_offsets\": [0, 16]}}", 16);
        assertOneLine(run("caption", "--model", model.toString(), image.toString()),
                weights + ": tensor 'a' has shape [4611686018427387904] whose size in bytes overflows");
    }

    private static void write(Path file, String header, int dataBytes) throws Exception {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        Files.write(file, ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(h.length).put(h).array());
    }
}
