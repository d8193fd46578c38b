package org.blipjava.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Out-of-range values in a config.json fail when it is read, with a message naming the file and
 * the key, instead of later as "/ by zero" or an index error inside the model.
 */
class ConfigValidationTest {
    @TempDir
    Path tmp;

    /** A reader of one family's config.json. */
    @FunctionalInterface
    interface Reader {
        Object read(Path configJson) throws Exception;
    }

    private static final Reader BLIP = BlipConfig::read;
    private static final Reader CLIP = ClipConfig::read;
    private static final Reader FLAVA = FlavaConfig::read;

    static Stream<Arguments> badConfigs() {
        return Stream.of(
                // The case: zero heads divided the width by zero.
                Arguments.of(BLIP, "{\"text_config\": {\"num_attention_heads\": 0}}", "text_config",
                        "'num_attention_heads' must be at least 1, got 0"),
                Arguments.of(BLIP, "{\"vision_config\": {\"num_attention_heads\": 0}}", "vision_config",
                        "'num_attention_heads' must be at least 1, got 0"),
                Arguments.of(BLIP, "{\"vision_config\": {\"patch_size\": 0}}", "vision_config",
                        "'patch_size' must be at least 1"),
                Arguments.of(BLIP, "{\"vision_config\": {\"image_size\": 8, \"patch_size\": 16}}", "vision_config",
                        "patch_size 16 is larger than image_size 8"),
                Arguments.of(BLIP, "{\"text_config\": {\"hidden_size\": 30}}", "text_config",
                        "hidden_size 30 is not a multiple of num_attention_heads 8"),
                Arguments.of(BLIP, "{\"text_config\": {\"vocab_size\": -5}}", "text_config",
                        "'vocab_size' must be at least 1, got -5"),
                Arguments.of(BLIP, "{\"text_config\": {\"num_hidden_layers\": -1}}", "text_config",
                        "'num_hidden_layers' must not be negative"),
                Arguments.of(BLIP, "{\"text_config\": {\"vocab_size\": 100}}", "text_config",
                        "'bos_token_id' is 30522, outside the vocabulary (vocab_size 100)"),
                Arguments.of(BLIP, "{\"image_text_hidden_size\": 0}", "config.json",
                        "'image_text_hidden_size' must be at least 1"),
                Arguments.of(CLIP, "{\"text_config\": {\"num_attention_heads\": 0}}", "text_config",
                        "'num_attention_heads' must be at least 1, got 0"),
                Arguments.of(CLIP, "{\"vision_config\": {\"patch_size\": 0}}", "vision_config",
                        "'patch_size' must be at least 1"),
                Arguments.of(FLAVA, "{\"text_config\": {\"num_attention_heads\": 0}}", "text_config",
                        "'num_attention_heads' must be at least 1, got 0"),
                Arguments.of(FLAVA, "{\"multimodal_config\": {\"num_attention_heads\": 0}}", "multimodal_config",
                        "'num_attention_heads' must be at least 1, got 0"),
                Arguments.of(FLAVA, "{\"image_config\": {\"num_channels\": 0}}", "image_config",
                        "'num_channels' must be at least 1"),
                Arguments.of(FLAVA, "{\"image_config\": {\"image_size\": 0}}", "image_config",
                        "'image_size' must be at least 1"),
                Arguments.of(FLAVA, "{\"text_config\": {\"max_position_embeddings\": 0}}", "text_config",
                        "'max_position_embeddings' must be at least 1"),
                Arguments.of(FLAVA, "{\"projection_dim\": 0}", "config.json", "'projection_dim' must be at least 1"),
                Arguments.of(FLAVA, "{\"text_config\": {\"pad_token_id\": 30522}}", "text_config",
                        "'pad_token_id' is 30522, outside the vocabulary"));
    }

    @ParameterizedTest
    @MethodSource("badConfigs")
    void outOfRangeValuesNameTheFileSectionAndKey(Reader reader, String json, String section, String message)
            throws Exception {
        Path file = Files.writeString(tmp.resolve("config.json"), json);
        assertThatThrownBy(() -> reader.read(file)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(file.toString())
                .hasMessageContaining(section)
                .hasMessageContaining(message);
    }

    @ParameterizedTest
    @MethodSource("readers")
    void aDirectoryIsNotAConfig(Reader reader) {
        assertThatThrownBy(() -> reader.read(tmp)).isInstanceOf(ConfigException.class)
                .hasMessage(tmp + ": is a directory; expected a model's config.json");
    }

    @ParameterizedTest
    @MethodSource("readers")
    void theDefaultsAreValid(Reader reader) throws Exception {
        Path file = Files.writeString(tmp.resolve("config.json"), "{}");
        assertThat(reader.read(file)).isNotNull();
    }

    static Stream<Reader> readers() {
        return Stream.of(BLIP, CLIP, FLAVA);
    }
}
