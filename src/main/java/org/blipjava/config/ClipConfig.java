package org.blipjava.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@code CLIPModel}'s config.json: the text and vision sub-configs and the top-level fields.
 * Fields a file leaves out take the reference's defaults (the tiny and converted configs list only
 * what differs from openai/clip-vit-base-patch32), so the defaults are part of the format.
 *
 * @param text                the text transformer ({@code text_config})
 * @param vision              the vision transformer ({@code vision_config})
 * @param projectionDim       width of {@code visual_projection} and {@code text_projection}
 * @param logitScaleInitValue initial {@code logit_scale} (training only; a checkpoint holds the trained value)
 * @param architectures       e.g. {@code ["CLIPModel"]}; empty when absent
 */
public record ClipConfig(ClipTextConfig text, ClipVisionConfig vision, int projectionDim, double logitScaleInitValue,
                         List<String> architectures) {

    public ClipConfig {
        architectures = List.copyOf(architectures);
    }

    /** The defaults of the reference's {@code CLIPConfig()}. */
    public static ClipConfig defaults() {
        return new ClipConfig(ClipTextConfig.defaults(), ClipVisionConfig.defaults(), 512, 2.6592, List.of());
    }

    /** Reads a model directory's {@code config.json}; errors name the file and the field. */
    public static ClipConfig read(Path configJson) throws IOException {
        return fromJson(ConfigFields.readObject(configJson), configJson.toString());
    }

    /** Parses a config.json tree; {@code source} names it in errors. */
    public static ClipConfig fromJson(JsonNode root, String source) {
        String modelType = root.path("model_type").asText("clip");
        if (!modelType.equals("clip")) {
            throw new ConfigException(source + ": model_type is '" + modelType + "', expected 'clip' (a CLIPModel)");
        }
        ClipConfig d = defaults();
        ConfigFields f = new ConfigFields(root, source);
        List<String> arch = new ArrayList<>();
        root.path("architectures").forEach(n -> arch.add(n.asText()));
        return new ClipConfig(
                parseText(subConfig(root, "text_config", source), source + " text_config"),
                parseVision(subConfig(root, "vision_config", source), source + " vision_config"),
                f.positive("projection_dim", d.projectionDim()),
                f.number("logit_scale_init_value", d.logitScaleInitValue()),
                arch);
    }

    /**
     * The sub-config {@code name}. Configs written by transformers before 4.27 also carry
     * {@code name + "_dict"}; the reference then builds the sub-config from that one alone (with
     * defaults for what it leaves out) and lets it override {@code name}, so it wins here too.
     */
    private static JsonNode subConfig(JsonNode root, String name, String source) {
        for (String key : List.of(name + "_dict", name)) {
            JsonNode v = root.get(key);
            if (v == null || v.isNull()) {
                continue;
            }
            if (!v.isObject()) {
                throw new ConfigException(source + ": field '" + key + "' must be an object, got " + v);
            }
            return v;
        }
        return new ObjectMapper().createObjectNode();
    }

    static ClipTextConfig parseText(JsonNode n, String source) {
        ClipTextConfig d = ClipTextConfig.defaults();
        ConfigFields f = new ConfigFields(n, source);
        ClipTextConfig c = new ClipTextConfig(
                f.positive("vocab_size", d.vocabSize()),
                f.positive("hidden_size", d.hiddenSize()),
                f.positive("intermediate_size", d.intermediateSize()),
                f.positive("projection_dim", d.projectionDim()),
                f.nonNegative("num_hidden_layers", d.numHiddenLayers()),
                f.positive("num_attention_heads", d.numAttentionHeads()),
                f.positive("max_position_embeddings", d.maxPositionEmbeddings()),
                f.text("hidden_act", d.hiddenAct()),
                f.number("layer_norm_eps", d.layerNormEps()),
                f.number("attention_dropout", d.attentionDropout()),
                f.number("initializer_range", d.initializerRange()),
                f.number("initializer_factor", d.initializerFactor()),
                f.integer("pad_token_id", d.padTokenId()),
                f.integer("bos_token_id", d.bosTokenId()),
                f.integer("eos_token_id", d.eosTokenId()));
        f.requireHeadsDivide(c.hiddenSize(), c.numAttentionHeads());
        return c;
    }

    static ClipVisionConfig parseVision(JsonNode n, String source) {
        ClipVisionConfig d = ClipVisionConfig.defaults();
        ConfigFields f = new ConfigFields(n, source);
        ClipVisionConfig c = new ClipVisionConfig(
                f.positive("hidden_size", d.hiddenSize()),
                f.positive("intermediate_size", d.intermediateSize()),
                f.positive("projection_dim", d.projectionDim()),
                f.nonNegative("num_hidden_layers", d.numHiddenLayers()),
                f.positive("num_attention_heads", d.numAttentionHeads()),
                f.positive("num_channels", d.numChannels()),
                f.positive("image_size", d.imageSize()),
                f.positive("patch_size", d.patchSize()),
                f.text("hidden_act", d.hiddenAct()),
                f.number("layer_norm_eps", d.layerNormEps()),
                f.number("attention_dropout", d.attentionDropout()),
                f.number("initializer_range", d.initializerRange()),
                f.number("initializer_factor", d.initializerFactor()));
        f.requireHeadsDivide(c.hiddenSize(), c.numAttentionHeads());
        f.requirePatchFits(c.imageSize(), c.patchSize());
        return c;
    }
}
