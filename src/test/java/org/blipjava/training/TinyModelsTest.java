package org.blipjava.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.blipjava.checkpoint.Checkpoints;
import org.blipjava.checkpoint.LoadedWeights;
import org.blipjava.checkpoint.SafetensorsFile;
import org.blipjava.checkpoint.TensorData;
import org.blipjava.image.RgbImage;
import org.blipjava.tasks.Blip;
import org.blipjava.tasks.LoadOptions;
import org.blipjava.testing.Fixtures;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Tiny models made from scratch: layout, initial values, determinism, loading, and refusals. */
class TinyModelsTest {
    @TempDir
    static Path shared;
    /** All four heads written once (seed 0) by {@link TinyModels#writeAll}. */
    private static Path all;

    @BeforeAll
    static void writeAll() throws Exception {
        all = shared.resolve("models");
        TinyModels.writeAll(TinyModels.DEFAULT_SEED, all);
    }

    private static Map<String, List<Long>> shapes(Path weights) throws Exception {
        Map<String, List<Long>> out = new TreeMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(weights)) {
            for (TensorData t : f.tensors().values()) {
                out.put(t.name(), Arrays.stream(t.shape()).boxed().toList());
            }
        }
        return out;
    }

    private static float[] values(Path dir, String name) throws Exception {
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve(Checkpointing.WEIGHTS_FILE))) {
            return f.tensors().get(name).toFloatArray();
        }
    }

    private static double std(float[] v) {
        double sum = 0;
        double sq = 0;
        for (float x : v) {
            sum += x;
            sq += (double) x * x;
        }
        double mean = sum / v.length;
        return Math.sqrt(sq / v.length - mean * mean);
    }

    /** Tensor names and ranks of a model folder's weights, whichever weight file it has (tied aliases dropped). */
    private static Map<String, Integer> layout(Path dir) throws Exception {
        Map<String, Integer> out = new TreeMap<>();
        try (LoadedWeights w = Checkpoints.open(dir)) {
            for (TensorData t : w.stateDict().tensors().values()) {
                out.put(t.name(), t.shape().length);
            }
        }
        // A pytorch_model.bin also names the LM head's tied bias under its decoder alias.
        out.remove("text_decoder.cls.predictions.decoder.bias");
        return out;
    }

    /** The field names of a JSON object, recursively (the layout of a config, not its values). */
    private static java.util.Set<String> fields(com.fasterxml.jackson.databind.JsonNode n, String prefix) {
        java.util.Set<String> out = new java.util.TreeSet<>();
        n.fieldNames().forEachRemaining(f -> {
            out.add(prefix + f);
            if (n.get(f).isObject()) {
                out.addAll(fields(n.get(f), prefix + f + "."));
            }
        });
        return out;
    }

    @ParameterizedTest
    @EnumSource(TinyModels.Head.class)
    void layoutIsThatOfTheFixtureModel(TinyModels.Head head) throws Exception {
        // Layout only (names, ranks, files, config fields): a fixture set's shapes and values are its own.
        Path fixture = Fixtures.sets(Fixtures.Kind.BLIP).getFirst().model(head.folderName());
        Path made = all.resolve(head.folderName());
        assertThat(layout(made)).isEqualTo(layout(fixture));
        java.util.function.Predicate<String> notWeights = n -> !n.equals("pytorch_model.bin")
                && !n.equals(Checkpointing.WEIGHTS_FILE);
        try (var files = Files.list(fixture); var mine = Files.list(made)) {
            assertThat(mine.map(p -> p.getFileName().toString()).filter(notWeights).sorted().toList())
                    .isEqualTo(files.map(p -> p.getFileName().toString()).filter(notWeights).sorted().toList());
        }
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        for (String same : List.of("config.json", "preprocessor_config.json", "tokenizer_config.json",
                "special_tokens_map.json", "added_tokens.json")) {
            var theirs = json.readTree(fixture.resolve(same).toFile());
            ((com.fasterxml.jackson.databind.node.ObjectNode) theirs).remove("transformers_version");
            assertThat(fields(json.readTree(made.resolve(same).toFile()), "")).as(same).isEqualTo(fields(theirs, ""));
        }
        assertThat(Files.readString(made.resolve("vocab.txt"))).isEqualTo(Files.readString(fixture.resolve("vocab.txt")));
    }

    @ParameterizedTest
    @EnumSource(TinyModels.Head.class)
    void everyHeadLoadsAndRuns(TinyModels.Head head) throws Exception {
        Path dir = all.resolve(head.folderName());
        RgbImage img = new RgbImage(64, 64, new byte[64 * 64 * 3]);
        try (Blip blip = Blip.load(dir, LoadOptions.defaults().withThreads(1))) {
            assertThat(blip.architecture()).isEqualTo(head.architecture());
            switch (head) {
                case CAPTION -> assertThat(blip.caption(img).text()).isNotNull();
                case VQA -> assertThat(blip.answer(List.of(img), List.of("what is it?"),
                        blip.generationDefaults())).hasSize(1);
                case ITM -> assertThat(blip.match(List.of(img), List.of("a red circle"))).isNotNull();
                case CONTRASTIVE -> assertThat(blip.embedTexts(List.of("a red circle"))[0])
                        .hasSize(blip.embeddingDimension());
            }
        }
        // The trainer reads the same folder; nothing is missing or extra for it.
        assertThat(Parameters.load(dir).unique()).hasSize(shapes(dir.resolve(Checkpointing.WEIGHTS_FILE)).size());
    }

    @Test
    void valuesAreDrawnAsTheReferenceInitialisesThem() throws Exception {
        Path cap = all.resolve("tiny-caption");
        // normal(0, initializer_range = 0.02) for linear and embedding weights
        assertThat(std(values(cap, "text_decoder.bert.embeddings.word_embeddings.weight"))).isCloseTo(0.02, within(0.0005));
        assertThat(std(values(cap, "vision_model.encoder.layers.0.mlp.fc1.weight"))).isCloseTo(0.02, within(0.003));
        assertThat(std(values(cap, "vision_model.embeddings.patch_embedding.weight"))).isCloseTo(0.02, within(0.002));
        // zero biases (the LM head's output bias too), layer norms at 1 and 0
        assertThat(values(cap, "vision_model.encoder.layers.0.mlp.fc1.bias")).containsOnly(0f);
        assertThat(values(cap, "text_decoder.cls.predictions.bias")).containsOnly(0f);
        assertThat(values(cap, "text_decoder.bert.encoder.layer.1.output.LayerNorm.weight")).containsOnly(1f);
        assertThat(values(cap, "text_decoder.bert.encoder.layer.1.output.LayerNorm.bias")).containsOnly(0f);
        // the vision embeddings take the vision config's range, 1e-10 by the reference's default
        float[] pos = values(cap, "vision_model.embeddings.position_embedding");
        assertThat(std(pos)).isGreaterThan(0).isLessThan(1e-9);
        assertThat(values(all.resolve("tiny-contrastive"), "logit_scale")).containsExactly(2.6592f);
    }

    @Test
    void theWideSpreadDrawsEverythingAsTheFixtureSetsModelsAreSpread() {
        Map<String, float[]> w = new TreeMap<>();
        for (Parameter p : TinyModels.weights(TinyModels.Head.CAPTION, 0, TinyModels.Spread.WIDE).unique()) {
            w.put(p.name(), p.value());
        }
        assertThat(std(w.get("text_decoder.bert.embeddings.word_embeddings.weight"))).isCloseTo(0.25, within(0.005));
        assertThat(std(w.get("vision_model.encoder.layers.0.mlp.fc1.weight"))).isCloseTo(0.25, within(0.03));
        assertThat(std(w.get("vision_model.encoder.layers.0.mlp.fc1.bias"))).isGreaterThan(0.1);
        assertThat(std(w.get("vision_model.embeddings.position_embedding"))).isCloseTo(0.25, within(0.05));
        float[] norm = w.get("text_decoder.bert.encoder.layer.1.output.LayerNorm.weight");
        double mean = 0;
        for (float x : norm) {
            mean += x / norm.length;
        }
        assertThat(mean).isCloseTo(1.0, within(0.1));
        assertThat(std(norm)).isCloseTo(0.1, within(0.06));
    }

    @Test
    void theSameSeedWritesTheSameFolderAndAnotherSeedOtherWeights(@TempDir Path tmp) throws Exception {
        TinyModels.write(TinyModels.Head.CAPTION, TinyModels.DEFAULT_SEED, tmp.resolve("again"));
        TinyModels.write(TinyModels.Head.CAPTION, 1, tmp.resolve("other"));
        Path first = all.resolve("tiny-caption");
        for (String name : List.of(Checkpointing.WEIGHTS_FILE, "config.json", "generation_config.json")) {
            assertThat(Files.readAllBytes(tmp.resolve("again").resolve(name))).as(name)
                    .isEqualTo(Files.readAllBytes(first.resolve(name)));
        }
        String key = "text_decoder.bert.encoder.layer.0.attention.self.query.weight";
        assertThat(values(tmp.resolve("other"), key)).isNotEqualTo(values(first, key));
        assertThat(values(tmp.resolve("other"), "text_decoder.cls.predictions.bias")).containsOnly(0f);
    }

    @Test
    void anExistingNonEmptyFolderIsNeverOverwritten(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("model");
        Files.createDirectories(out);
        Files.writeString(out.resolve("notes.txt"), "mine");
        assertThatThrownBy(() -> TinyModels.write(TinyModels.Head.ITM, 0, out))
                .hasMessageContaining("is not empty");
        assertThat(Files.readString(out.resolve("notes.txt"))).isEqualTo("mine");
        Path file = tmp.resolve("file");
        Files.writeString(file, "x");
        assertThatThrownBy(() -> TinyModels.writeAll(0, file)).hasMessageContaining("is not a directory");
        // An empty folder is taken, and no temporary folder is left beside it.
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        TinyModels.write(TinyModels.Head.ITM, 0, empty);
        assertThat(empty.resolve("config.json")).isRegularFile();
        try (var s = Files.list(tmp)) {
            assertThat(s.map(p -> p.getFileName().toString()).sorted().toList())
                    .containsExactly("empty", "file", "model");
        }
    }
}
