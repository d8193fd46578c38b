package org.blipjava.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A BLIP model's config.json: the top-level fields plus the text and vision sub-configs.
 *
 * @param architectures         e.g. {@code ["BlipForConditionalGeneration"]}; empty when absent
 * @param projectionDim         width of {@code BlipModel}'s CLIP-style projections
 * @param imageTextHiddenSize   width of the ITC projections of {@code BlipForImageTextRetrieval}
 * @param logitScaleInitValue   initial log of the contrastive logit scale
 * @param labelSmoothing        label smoothing of the captioning LM loss
 */
public record BlipConfig(
        List<String> architectures,
        int projectionDim,
        int imageTextHiddenSize,
        double logitScaleInitValue,
        double labelSmoothing,
        double initializerFactor,
        double initializerRange,
        BlipTextConfig text,
        BlipVisionConfig vision) {

    public BlipConfig {
        architectures = List.copyOf(architectures);
    }

    /** The defaults of the reference's {@code BlipConfig()}. */
    public static BlipConfig defaults() {
        return new BlipConfig(List.of(), 512, 256, 2.6592, 0.0, 1.0, 0.02,
                BlipTextConfig.defaults(), BlipVisionConfig.defaults());
    }

    /** Reads {@code config.json} of a model directory; errors name the file and the field. */
    public static BlipConfig read(Path configJson) throws IOException {
        return fromJson(ConfigFields.readObject(configJson), configJson.toString());
    }

    /** Parses a config.json tree; {@code source} names it in errors. */
    public static BlipConfig fromJson(JsonNode root, String source) {
        String modelType = root.path("model_type").asText("blip");
        if (!modelType.equals("blip")) {
            throw new ConfigException(source + ": model_type is '" + modelType + "', expected 'blip'");
        }
        BlipConfig d = defaults();
        ConfigFields f = new ConfigFields(root, source);
        // Legacy configs (transformers < 4.27) wrote text_config_dict / vision_config_dict.
        JsonNode textNode = firstObject(root, "text_config", "text_config_dict");
        JsonNode visionNode = firstObject(root, "vision_config", "vision_config_dict");
        List<String> arch = new java.util.ArrayList<>();
        root.path("architectures").forEach(n -> arch.add(n.asText()));
        return new BlipConfig(
                arch,
                f.positive("projection_dim", d.projectionDim()),
                f.positive("image_text_hidden_size", d.imageTextHiddenSize()),
                f.number("logit_scale_init_value", d.logitScaleInitValue()),
                f.number("label_smoothing", d.labelSmoothing()),
                f.number("initializer_factor", d.initializerFactor()),
                f.number("initializer_range", d.initializerRange()),
                parseText(textNode, source + " text_config"),
                parseVision(visionNode, source + " vision_config"));
    }

    private static JsonNode firstObject(JsonNode root, String... names) {
        for (String n : names) {
            JsonNode v = root.get(n);
            if (v != null && v.isObject()) {
                return v;
            }
        }
        return new ObjectMapper().createObjectNode();
    }

    static BlipTextConfig parseText(JsonNode n, String source) {
        BlipTextConfig d = BlipTextConfig.defaults();
        ConfigFields f = new ConfigFields(n, source);
        int vocab = f.positive("vocab_size", d.vocabSize());
        BlipTextConfig c = new BlipTextConfig(
                vocab,
                f.positive("hidden_size", d.hiddenSize()),
                f.positive("encoder_hidden_size", d.encoderHiddenSize()),
                f.positive("intermediate_size", d.intermediateSize()),
                f.positive("projection_dim", d.projectionDim()),
                f.nonNegative("num_hidden_layers", d.numHiddenLayers()),
                f.positive("num_attention_heads", d.numAttentionHeads()),
                f.positive("max_position_embeddings", d.maxPositionEmbeddings()),
                f.text("hidden_act", d.hiddenAct()),
                f.number("layer_norm_eps", d.layerNormEps()),
                f.number("hidden_dropout_prob", d.hiddenDropoutProb()),
                f.number("attention_probs_dropout_prob", d.attentionProbsDropoutProb()),
                f.number("initializer_range", d.initializerRange()),
                // The decoder starts from bos and pads with pad: both are rows of the word embeddings.
                f.tokenId("bos_token_id", d.bosTokenId(), vocab),
                f.integer("eos_token_id", d.eosTokenId()),
                f.tokenId("pad_token_id", d.padTokenId(), vocab),
                f.integer("sep_token_id", d.sepTokenId()),
                f.bool("is_decoder", d.isDecoder()),
                f.bool("use_cache", d.useCache()),
                f.number("label_smoothing", d.labelSmoothing()));
        f.requireHeadsDivide(c.hiddenSize(), c.numAttentionHeads());
        return c;
    }

    static BlipVisionConfig parseVision(JsonNode n, String source) {
        BlipVisionConfig d = BlipVisionConfig.defaults();
        ConfigFields f = new ConfigFields(n, source);
        BlipVisionConfig c = new BlipVisionConfig(
                f.positive("hidden_size", d.hiddenSize()),
                f.positive("intermediate_size", d.intermediateSize()),
                f.positive("projection_dim", d.projectionDim()),
                f.nonNegative("num_hidden_layers", d.numHiddenLayers()),
                f.positive("num_attention_heads", d.numAttentionHeads()),
                f.positive("image_size", d.imageSize()),
                f.positive("patch_size", d.patchSize()),
                f.text("hidden_act", d.hiddenAct()),
                f.number("layer_norm_eps", d.layerNormEps()),
                f.number("attention_dropout", d.attentionDropout()),
                f.number("initializer_range", d.initializerRange()));
        f.requireHeadsDivide(c.hiddenSize(), c.numAttentionHeads());
        f.requirePatchFits(c.imageSize(), c.patchSize());
        return c;
    }
}
