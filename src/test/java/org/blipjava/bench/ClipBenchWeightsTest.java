package org.blipjava.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import org.blipjava.checkpoint.StateDict;
import org.blipjava.config.ClipConfig;
import org.blipjava.model.ClipModel;
import org.blipjava.model.ClipVisionModel;
import org.blipjava.tensor.Parallel;
import org.blipjava.tensor.WeightPrecision;
import org.junit.jupiter.api.Test;

/** The CLIP row's random weights and the shapes it hands the baseline. */
class ClipBenchWeightsTest {
    @Test
    void theBenchRowIsViTB32AtBatch8() {
        BenchShapes.ClipShapes c = BenchShapes.base().clip();
        assertThat(c.name()).isEqualTo("ViT-B/32");
        assertThat(c.config()).isEqualTo(ClipConfig.defaults());
        assertThat(c.batch()).isEqualTo(8);
        assertThat(Benchmark.clipOp(c)).isEqualTo("clip_image_b8");
    }

    /** The full ViT-B/32 model (about 150M parameters, both towers): every key taken, none missing or misshapen. */
    @Test
    void randomViTB32WeightsLoadIntoClipModelAndEmbedImages() {
        ClipConfig config = ClipConfig.defaults();
        try (Parallel parallel = new Parallel(2)) {
            ClipModel model;
            try (Arena arena = Arena.ofShared()) {
                StateDict sd = RandomWeights.clip(config, arena, 7);
                assertThat(sd.tensors().get("vision_model.embeddings.class_embedding").shape()).containsExactly(768);
                assertThat(sd.tensors().get("vision_model.embeddings.patch_embedding.weight").shape())
                        .containsExactly(768, 3, 32, 32);
                assertThat(sd.tensors().get("vision_model.embeddings.position_embedding.weight").shape())
                        .containsExactly(50, 768);
                assertThat(sd.tensors().get("vision_model.encoder.layers.11.mlp.fc1.weight").shape())
                        .containsExactly(3072, 768);
                assertThat(sd.tensors().get("visual_projection.weight").shape()).containsExactly(512, 768);
                assertThat(sd.tensors().get("text_model.embeddings.token_embedding.weight").shape())
                        .containsExactly(49408, 512);
                assertThat(sd.tensors().get("logit_scale").shape()).isEmpty();
                assertThat(sd.contains("vision_model.embeddings.patch_embedding.bias")).isFalse();
                model = ClipModel.load(sd, config, parallel, WeightPrecision.F32);
            }
            assertThat(model.logitScale()).isCloseTo(2.6592f, within(0.01f));
            int size = 224;
            float[] pixels = new float[2 * 3 * size * size];
            SplittableRandom rnd = new SplittableRandom(1);
            for (int i = 0; i < pixels.length; i++) {
                pixels[i] = (float) rnd.nextGaussian();
            }
            ClipVisionModel.Output v = model.vision(pixels, 2, size, size);
            assertThat(v.seqLen()).isEqualTo(50);
            assertThat(v.hidden()).isEqualTo(768);
            float[] e = model.imageEmbeds(v);
            assertThat(e).hasSize(2 * 512);
            for (int b = 0; b < 2; b++) {
                double norm = 0;
                for (int i = 0; i < 512; i++) {
                    assertThat(Float.isFinite(e[b * 512 + i])).isTrue();
                    norm += e[b * 512 + i] * e[b * 512 + i];
                }
                assertThat(Math.sqrt(norm)).isCloseTo(1.0, within(1e-4));
            }
        }
    }

    @Test
    void theBaselineGetsTheClipVisionShapes() throws Exception {
        JsonNode j = new ObjectMapper().readTree(TorchBaseline.shapesJson(BenchShapes.base()));
        assertThat(j.path("clip_vision_layers").asInt()).isEqualTo(12);
        assertThat(j.path("clip_vision_width").asInt()).isEqualTo(768);
        assertThat(j.path("clip_vision_inter").asInt()).isEqualTo(3072);
        assertThat(j.path("clip_vision_heads").asInt()).isEqualTo(12);
        assertThat(j.path("clip_image").asInt()).isEqualTo(224);
        assertThat(j.path("clip_patch").asInt()).isEqualTo(32);
        assertThat(j.path("clip_act").asText()).isEqualTo("quick_gelu");
        assertThat(j.path("clip_eps").asDouble()).isEqualTo(1e-5);
        assertThat(j.path("clip_projection").asInt()).isEqualTo(512);
        assertThat(j.path("clip_text_layers").asInt()).isEqualTo(12);
        assertThat(j.path("clip_text_width").asInt()).isEqualTo(512);
        assertThat(j.path("clip_text_inter").asInt()).isEqualTo(2048);
        assertThat(j.path("clip_vocab").asInt()).isEqualTo(49408);
        assertThat(j.path("clip_text_positions").asInt()).isEqualTo(77);
        assertThat(j.path("clip_batch").asInt()).isEqualTo(8);
    }
}
