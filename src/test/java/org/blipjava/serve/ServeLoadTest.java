package org.blipjava.serve;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.blipjava.bench.BenchShapes;
import org.blipjava.bench.RandomWeights;
import org.blipjava.checkpoint.SafetensorsWriter;
import org.blipjava.image.Images;
import org.blipjava.tasks.Blip;
import org.blipjava.tasks.LoadOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Load on loopback: concurrent clients for a bounded time, every answer checked against the
 * unbatched caption, none lost or duplicated. The tiny-model run is part of the suite; the
 * BLIP-base-shape run (random weights, about 1 GB) is run by hand for the README:
 * {@code ./mvnw -B -q test -Dtest=ServeLoadTest -Dblip.serve.load.base=true}.
 */
class ServeLoadTest {
    @TempDir
    Path tmp;

    @Test
    @Timeout(120)
    void tinyModelsUnderLoadAnswerEveryRequestCorrectlyOnce() throws Exception {
        Path model = ServeTesting.blipSet().model("tiny-caption");
        ServeLoad.Result r = load(model.toString(), "tiny-caption", 8, Duration.ofSeconds(4), 64);
        assertThat(r.sent()).isGreaterThan(16);
        assertThat(r.answered()).isEqualTo(r.sent());
        assertThat(r.duplicated()).isZero();
        assertThat(r.wrong()).isZero();
        assertThat(r.failed()).isZero();
        assertThat(r.busy()).isZero();
        assertThat(r.meanBatch()).isGreaterThan(1.0);
    }

    @Test
    @Timeout(1800)
    @EnabledIfSystemProperty(named = "blip.serve.load.base", matches = "true")
    void blipBaseShapesUnderLoad() throws Exception {
        Path dir = blipBaseCaptioner(tmp.resolve("blip-base-random"));
        ServeLoad.Result r = load(dir.toString(), "blip-base-random", 4, Duration.ofSeconds(60), 64);
        assertThat(r.answered()).isEqualTo(r.sent());
        assertThat(r.wrong() + r.failed() + r.duplicated()).isZero();
    }

    /** Serves {@code argument}, loads it with {@code clients} clients and prints the figures. */
    private static ServeLoad.Result load(String argument, String name, int clients, Duration duration, int queue) throws Exception {
        Map<String, byte[]> images = new LinkedHashMap<>();
        for (String img : List.of("photo_512x384.jpg", "rgb_640x480.png", "gray_200x150.png", "palette_64x64.gif")) {
            images.put(img, ServeTesting.bytes(img));
        }
        try (ServedModels models = ServedModels.load(List.of(argument), LoadOptions.defaults());
                BlipServer server = BlipServer.start(models, null, ServeOptions.defaults().withAddress("127.0.0.1", 0)
                        .withBatching(8, Duration.ofMillis(5), queue, 1).withRequestTimeout(Duration.ofMinutes(10)))) {
            Blip blip = (Blip) models.all().iterator().next().model();
            Map<String, String> expected = new LinkedHashMap<>();
            for (String img : images.keySet()) {
                expected.put(img, blip.caption(List.of(Images.read(ServeTesting.image(img))), null,
                        blip.generationDefaults()).get(0).text());
            }
            ServeLoad.Result r = ServeLoad.run(server, name, clients, duration, images, expected);
            System.out.println("serve load, " + name + " (" + Runtime.getRuntime().availableProcessors() + " cores, "
                    + java.time.LocalDate.now() + "): " + r.line());
            return r;
        }
    }

    /** A captioning model folder with BLIP-base shapes and seeded random weights, using the fixture's vocabulary. */
    static Path blipBaseCaptioner(Path dir) throws IOException {
        Path tiny = ServeTesting.blipSet().model("tiny-caption");
        Files.createDirectories(dir);
        for (String f : List.of("vocab.txt", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
                "generation_config.json")) {
            Files.copy(tiny.resolve(f), dir.resolve(f));
        }
        Files.writeString(dir.resolve("config.json"), """
                {"architectures": ["BlipForConditionalGeneration"], "model_type": "blip", "projection_dim": 512,
                 "image_text_hidden_size": 256, "logit_scale_init_value": 2.6592,
                 "text_config": {"model_type": "blip_text_model", "vocab_size": 30524, "hidden_size": 768,
                   "encoder_hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12,
                   "num_attention_heads": 12, "max_position_embeddings": 512},
                 "vision_config": {"model_type": "blip_vision_model", "hidden_size": 768, "intermediate_size": 3072,
                   "num_hidden_layers": 12, "num_attention_heads": 12, "image_size": 384, "patch_size": 16}}
                """);
        Files.writeString(dir.resolve("preprocessor_config.json"), Files.readString(tiny.resolve("preprocessor_config.json"))
                .replace("\"height\": 64", "\"height\": 384").replace("\"width\": 64", "\"width\": 384"));
        try (Arena arena = Arena.ofConfined()) {
            SafetensorsWriter.write(dir.resolve("model.safetensors"),
                    RandomWeights.captioning(BenchShapes.base().config(), arena, 1).tensors().values(),
                    SafetensorsWriter.PT_METADATA);
        }
        return dir;
    }
}
