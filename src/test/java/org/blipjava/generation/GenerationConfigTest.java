package org.blipjava.generation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.blipjava.config.ConfigException;
import org.blipjava.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GenerationConfigTest {
    @TempDir
    Path dir;

    Path write(String json) throws IOException {
        Path p = dir.resolve("generation_config.json");
        Files.writeString(p, json);
        return p;
    }

    @Test
    void defaultsAreTheReferenceDefaults() {
        GenerationConfig d = GenerationConfig.defaults();
        assertThat(d.maxLength()).isEqualTo(20);
        assertThat(d.maxNewTokens()).isNull();
        assertThat(d.minLength()).isZero();
        assertThat(d.numBeams()).isEqualTo(1);
        assertThat(d.numReturnSequences()).isEqualTo(1);
        assertThat(d.topK()).isEqualTo(50);
        assertThat(d.topP()).isEqualTo(1.0);
        assertThat(d.temperature()).isEqualTo(1.0);
        assertThat(d.repetitionPenalty()).isEqualTo(1.0);
        assertThat(d.lengthPenalty()).isEqualTo(1.0);
        assertThat(d.earlyStopping()).isEqualTo(EarlyStopping.HEURISTIC);
        assertThat(d.doSample()).isFalse();
        assertThat(d.mode()).isEqualTo(GenerationConfig.Mode.GREEDY);
    }

    @Test
    void blipSettingsEndAtSepAndPadWithPad() {
        org.blipjava.config.BlipTextConfig text = org.blipjava.config.BlipTextConfig.defaults();
        GenerationConfig c = GenerationConfig.forBlip(text);
        assertThat(c.eosTokenIds()).containsExactly(text.sepTokenId());
        assertThat(c.padTokenId()).isEqualTo(text.padTokenId());
        assertThat(c.bosTokenId()).isEqualTo(text.bosTokenId());
        assertThat(c.maxLength()).isEqualTo(20);
    }

    @Test
    void lengthsCountThePromptUnlessNewTokensAreGiven() {
        GenerationConfig c = GenerationConfig.builder().maxLength(20).minLength(5).build();
        assertThat(c.maxLengthFor(3)).isEqualTo(20);
        assertThat(c.minLengthFor(3)).isEqualTo(5);
        GenerationConfig n = c.toBuilder().maxNewTokens(10).minNewTokens(2).build();
        assertThat(n.maxLengthFor(3)).isEqualTo(13);
        assertThat(n.minLengthFor(3)).isEqualTo(5);
        assertThat(n.minLengthFor(1)).isEqualTo(3);
    }

    @Test
    void modes() {
        GenerationConfig.Builder b = GenerationConfig.builder();
        assertThat(b.doSample(true).build().mode()).isEqualTo(GenerationConfig.Mode.SAMPLE);
        assertThat(b.numBeams(3).build().mode()).isEqualTo(GenerationConfig.Mode.BEAM_SAMPLE);
        assertThat(b.doSample(false).build().mode()).isEqualTo(GenerationConfig.Mode.BEAM_SEARCH);
    }

    @Test
    void validationNamesTheSetting() {
        assertThatThrownBy(() -> GenerationConfig.builder().numBeams(2).numReturnSequences(3).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("num_return_sequences (3)")
                .hasMessageContaining("num_beams (2)");
        assertThatThrownBy(() -> GenerationConfig.builder().numReturnSequences(2).build())
                .hasMessageContaining("greedy");
        assertThatThrownBy(() -> GenerationConfig.builder().doSample(true).temperature(0).build())
                .hasMessageContaining("temperature");
        assertThatThrownBy(() -> GenerationConfig.builder().topP(0).build()).hasMessageContaining("top_p");
        assertThatThrownBy(() -> GenerationConfig.builder().maxNewTokens(0).build()).hasMessageContaining("max_new_tokens");
        assertThatThrownBy(() -> GenerationConfig.builder().repetitionPenalty(-1).build())
                .hasMessageContaining("repetition_penalty");
        // Temperature is only checked when it is used.
        assertThat(GenerationConfig.builder().temperature(0).build().temperature()).isZero();
    }

    @Test
    void fromJsonMergesOverTheBase() throws IOException {
        Path p = write("""
                {"max_length": 30, "num_beams": 3, "early_stopping": "never", "eos_token_id": [102, 7],
                 "top_k": null, "min_new_tokens": 2, "length_penalty": 0.6, "pad_token_id": 0,
                 "num_beam_groups": 1, "suppress_tokens": [], "transformers_version": "4.40.2",
                 "_from_model_config": true}""");
        GenerationConfig base = GenerationConfig.builder().repetitionPenalty(1.3).maxLength(5).build();
        GenerationConfig c = GenerationConfig.fromJson(p, base);
        assertThat(c.maxLength()).isEqualTo(30);
        assertThat(c.numBeams()).isEqualTo(3);
        assertThat(c.earlyStopping()).isEqualTo(EarlyStopping.NEVER);
        assertThat(c.eosTokenIds()).containsExactly(102, 7);
        assertThat(c.topK()).isZero();
        assertThat(c.minNewTokens()).isEqualTo(2);
        assertThat(c.lengthPenalty()).isEqualTo(0.6);
        assertThat(c.padTokenId()).isZero();
        assertThat(c.repetitionPenalty()).isEqualTo(1.3);
        assertThat(GenerationConfig.fromJson(write("{\"early_stopping\": true}")).earlyStopping())
                .isEqualTo(EarlyStopping.EARLY);
    }

    @Test
    void fromJsonErrorsNameTheFileAndKey() throws IOException {
        Path p = write("{\"num_beams\": \"three\"}");
        assertThatThrownBy(() -> GenerationConfig.fromJson(p)).isInstanceOf(ConfigException.class)
                .hasMessageContaining(p.toString()).hasMessageContaining("num_beams");
        Path q = write("{\"num_beam_groups\": 2}");
        assertThatThrownBy(() -> GenerationConfig.fromJson(q)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("num_beam_groups").hasMessageContaining("not supported");
        Path r = write("{\"num_beams\": 2, \"num_return_sequences\": 4}");
        assertThatThrownBy(() -> GenerationConfig.fromJson(r)).isInstanceOf(ConfigException.class)
                .hasMessageContaining(r.toString()).hasMessageContaining("num_return_sequences");
        Path s = write("[1, 2]");
        assertThatThrownBy(() -> GenerationConfig.fromJson(s)).hasMessageContaining("not a JSON object");
        assertThatThrownBy(() -> GenerationConfig.fromJson(dir.resolve("missing.json")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("not found");
    }

    @Test
    void readsTheFixtureModelsGenerationConfigs() throws IOException {
        ObjectMapper json = new ObjectMapper();
        int seen = 0;
        for (Fixtures.FixtureSet set : Fixtures.sets(Fixtures.Kind.BLIP)) {
            Path models = set.dir().resolve("models");
            if (!Files.isDirectory(models)) {
                continue;
            }
            List<Path> files;
            try (Stream<Path> s = Files.list(models)) {
                files = s.map(m -> m.resolve("generation_config.json")).filter(Files::isRegularFile).toList();
            }
            for (Path f : files) {
                JsonNode raw = json.readTree(f.toFile());
                GenerationConfig c = GenerationConfig.fromJson(f);
                if (raw.hasNonNull("bos_token_id")) {
                    assertThat(c.bosTokenId()).isEqualTo(raw.get("bos_token_id").asInt());
                }
                if (raw.hasNonNull("pad_token_id")) {
                    assertThat(c.padTokenId()).isEqualTo(raw.get("pad_token_id").asInt());
                }
                if (raw.has("eos_token_id") && raw.get("eos_token_id").isInt()) {
                    assertThat(c.eosTokenIds()).containsExactly(raw.get("eos_token_id").asInt());
                }
                assertThat(c.maxLength()).isEqualTo(raw.path("max_length").asInt(20));
                seen++;
            }
        }
        assertThat(seen).as("generation_config.json files under the fixture sets' models/").isPositive();
    }
}
