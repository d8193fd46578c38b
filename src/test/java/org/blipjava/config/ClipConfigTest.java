package org.blipjava.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link ClipConfig}: the reference's defaults, the legacy layout and errors that name the field. */
class ClipConfigTest {
    private static JsonNode json(String s) throws Exception {
        return new ObjectMapper().readTree(s);
    }

    @Test
    void anEmptyConfigHasTheDefaultsOfClipConfigInTransformers() throws Exception {
        ClipConfig c = ClipConfig.fromJson(json("{\"model_type\": \"clip\"}"), "test");
        // CLIPTextConfig() / CLIPVisionConfig() / CLIPConfig() of transformers 4.40 (openai/clip-vit-base-patch32).
        ClipTextConfig t = c.text();
        assertThat(List.of(t.vocabSize(), t.hiddenSize(), t.intermediateSize(), t.projectionDim(), t.numHiddenLayers(),
                t.numAttentionHeads(), t.maxPositionEmbeddings())).containsExactly(49408, 512, 2048, 512, 12, 8, 77);
        assertThat(t.hiddenAct()).isEqualTo("quick_gelu");
        assertThat(t.layerNormEps()).isEqualTo(1e-5);
        assertThat(List.of(t.padTokenId(), t.bosTokenId(), t.eosTokenId())).containsExactly(1, 49406, 49407);
        assertThat(t.poolsAtLargestId()).isFalse();
        ClipVisionConfig v = c.vision();
        assertThat(List.of(v.hiddenSize(), v.intermediateSize(), v.projectionDim(), v.numHiddenLayers(),
                v.numAttentionHeads(), v.numChannels(), v.imageSize(), v.patchSize()))
                .containsExactly(768, 3072, 512, 12, 12, 3, 224, 32);
        assertThat(v.hiddenAct()).isEqualTo("quick_gelu");
        assertThat(v.layerNormEps()).isEqualTo(1e-5);
        assertThat(v.numPositions()).isEqualTo(50);
        assertThat(c.projectionDim()).isEqualTo(512);
        assertThat(c.logitScaleInitValue()).isEqualTo(2.6592);
        assertThat(c.architectures()).isEmpty();
        assertThat(c).isEqualTo(ClipConfig.defaults());
    }

    @Test
    void readsListedFieldsAndKeepsDefaultsForTheRest(@TempDir Path tmp) throws Exception {
        Path f = Files.writeString(tmp.resolve("config.json"), """
                {"architectures": ["CLIPModel"], "model_type": "clip", "projection_dim": 24,
                 "text_config": {"hidden_act": "gelu", "hidden_size": 32, "num_attention_heads": 4, "eos_token_id": 2},
                 "vision_config": {"hidden_size": 32, "image_size": 32, "patch_size": 8, "num_attention_heads": 4}}
                """);
        ClipConfig c = ClipConfig.read(f);
        assertThat(c.architectures()).containsExactly("CLIPModel");
        assertThat(c.projectionDim()).isEqualTo(24);
        assertThat(c.text().hiddenAct()).isEqualTo("gelu");
        assertThat(c.text().headDim()).isEqualTo(8);
        assertThat(c.text().poolsAtLargestId()).isTrue();
        assertThat(c.text().vocabSize()).isEqualTo(49408);
        assertThat(c.vision().hiddenAct()).isEqualTo("quick_gelu");
        assertThat(c.vision().numPositions()).isEqualTo(17);
    }

    @Test
    void legacyConfigDictsWinOverTheNewSections() throws Exception {
        // transformers < 4.27 wrote text_config_dict / vision_config_dict; the reference builds the
        // sub-config from the *_dict (defaults for the rest) and lets it override text_config.
        ClipConfig c = ClipConfig.fromJson(json("""
                {"text_config": {"hidden_size": 64, "num_attention_heads": 4, "max_position_embeddings": 20},
                 "text_config_dict": {"hidden_size": 32, "num_attention_heads": 4},
                 "vision_config_dict": {"patch_size": 16}}
                """), "legacy");
        assertThat(c.text().hiddenSize()).isEqualTo(32);
        assertThat(c.text().maxPositionEmbeddings()).isEqualTo(77);
        assertThat(c.vision().patchSize()).isEqualTo(16);
        assertThat(c.vision().imageSize()).isEqualTo(224);
    }

    @Test
    void errorsNameTheFileAndTheField(@TempDir Path tmp) throws Exception {
        assertThatThrownBy(() -> ClipConfig.fromJson(json("{\"model_type\": \"blip\"}"), "x.json"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("x.json").hasMessageContaining("'blip'");
        assertThatThrownBy(() -> ClipConfig.fromJson(json("{\"text_config\": {\"hidden_size\": \"big\"}}"), "x.json"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("text_config").hasMessageContaining("hidden_size");
        assertThatThrownBy(() -> ClipConfig.fromJson(json("{\"vision_config\": {\"hidden_size\": 30}}"), "x.json"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("num_attention_heads");
        assertThatThrownBy(() -> ClipConfig.fromJson(json("{\"projection_dim\": 0}"), "x.json"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("projection_dim");
        assertThatThrownBy(() -> ClipConfig.fromJson(json("{\"text_config\": []}"), "x.json"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("text_config");
        assertThatThrownBy(() -> ClipConfig.read(tmp.resolve("absent.json")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("absent.json");
        Path bad = Files.writeString(tmp.resolve("bad.json"), "{not json");
        assertThatThrownBy(() -> ClipConfig.read(bad))
                .isInstanceOf(ConfigException.class).hasMessageContaining("bad.json");
    }
}
