package org.blipjava.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A FLAVA model's config.json ({@code model_type "flava"}): the top-level fields and the image,
 * text and multimodal sub-configs, each with the defaults of the reference's
 * {@code FlavaConfig}, {@code FlavaImageConfig}, {@code FlavaTextConfig} and
 * {@code FlavaMultimodalConfig} (transformers 4.40.2). The image codebook's config is not read:
 * this project has no codebook (it only labels masked-image-modeling targets during pre-training).
 *
 * @param architectures                  e.g. {@code ["FlavaForPreTraining"]}; empty when absent
 * @param hiddenSize                     width of {@code FlavaForPreTraining}'s ITM head (768)
 * @param layerNormEps                   top-level epsilon (1e-12); the encoders use their sub-config's
 * @param projectionDim                  width of {@code image_projection} / {@code text_projection} (768)
 * @param initCodebook                   whether pre-training builds an image codebook (true)
 * @param logitScaleInitValue            initial log of the contrastive logit scale (2.6592)
 * @param initializerRange               standard deviation of the weight initialisation (0.02)
 * @param ceIgnoreIndex                  label ignored by the pre-training losses (-100)
 * @param mimWeight                      weight of the masked-image-modeling loss (1.0)
 * @param mlmWeight                      weight of the masked-language-modeling loss (1.0)
 * @param globalContrastiveWeight        weight of the contrastive loss (1.0)
 * @param itmWeight                      weight of the image-text matching loss (1.0)
 * @param mmmImageWeight                 weight of the multimodal masked loss, image part (1.0)
 * @param mmmTextWeight                  weight of the multimodal masked loss, text part (1.0)
 * @param skipUnmaskedMultimodalEncoder  whether pre-training skips the unmasked multimodal pass (true)
 * @param returnLoss                     whether pre-training returns its loss (true)
 * @param imageConfig                    the image encoder ({@code image_config})
 * @param textConfig                     the text encoder ({@code text_config})
 * @param multimodalConfig               the multimodal encoder ({@code multimodal_config})
 */
public record FlavaConfig(
        List<String> architectures,
        int hiddenSize,
        double layerNormEps,
        int projectionDim,
        boolean initCodebook,
        double logitScaleInitValue,
        double initializerRange,
        int ceIgnoreIndex,
        double mimWeight,
        double mlmWeight,
        double globalContrastiveWeight,
        double itmWeight,
        double mmmImageWeight,
        double mmmTextWeight,
        boolean skipUnmaskedMultimodalEncoder,
        boolean returnLoss,
        ImageConfig imageConfig,
        TextConfig textConfig,
        MultimodalConfig multimodalConfig) {

    public FlavaConfig {
        architectures = List.copyOf(architectures);
    }

    /**
     * The image encoder's settings ({@code image_config}).
     *
     * @param hiddenSize        width of the ViT (768)
     * @param numHiddenLayers   transformer blocks (12)
     * @param numAttentionHeads heads per block (12)
     * @param intermediateSize  width of the feed-forward block (3072)
     * @param hiddenAct         feed-forward activation ("gelu", the exact erf form)
     * @param layerNormEps      epsilon of every layer norm (1e-12)
     * @param imageSize         resolution the position embeddings were trained for (224)
     * @param patchSize         side of the square patches (16)
     * @param numChannels       input channels (3)
     * @param qkvBias           whether query/key/value have a bias (true)
     * @param maskToken         whether the embeddings hold a mask token for MIM (true); unused here
     * @param vocabSize         size of the image codebook's vocabulary (8192); unused here
     */
    public record ImageConfig(int hiddenSize, int numHiddenLayers, int numAttentionHeads, int intermediateSize,
                              String hiddenAct, double layerNormEps, int imageSize, int patchSize, int numChannels,
                              boolean qkvBias, boolean maskToken, int vocabSize) {
        /** The defaults of the reference's {@code FlavaImageConfig()}. */
        public static ImageConfig defaults() {
            return new ImageConfig(768, 12, 12, 3072, "gelu", 1e-12, 224, 16, 3, true, true, 8192);
        }

        /** Patches along one side at the configured image size. */
        public int patchesPerSide() {
            return imageSize / patchSize;
        }

        /** Sequence length at the configured image size: patches plus the class token. */
        public int numPositions() {
            return patchesPerSide() * patchesPerSide() + 1;
        }

        /** Width of one attention head. */
        public int headDim() {
            return hiddenSize / numAttentionHeads;
        }
    }

    /**
     * The text encoder's settings ({@code text_config}).
     *
     * @param vocabSize             word embedding rows (30522)
     * @param typeVocabSize         token type embedding rows (2)
     * @param maxPositionEmbeddings position embedding rows, the longest text (512)
     * @param positionEmbeddingType "absolute" (the only kind FLAVA's attention implements)
     * @param hiddenSize            width (768)
     * @param numHiddenLayers       transformer blocks (12)
     * @param numAttentionHeads     heads per block (12)
     * @param intermediateSize      width of the feed-forward block (3072)
     * @param hiddenAct             feed-forward activation ("gelu")
     * @param layerNormEps          epsilon of every layer norm (1e-12)
     * @param padTokenId            the padding id (0)
     * @param qkvBias               whether query/key/value have a bias (true)
     */
    public record TextConfig(int vocabSize, int typeVocabSize, int maxPositionEmbeddings, String positionEmbeddingType,
                             int hiddenSize, int numHiddenLayers, int numAttentionHeads, int intermediateSize,
                             String hiddenAct, double layerNormEps, int padTokenId, boolean qkvBias) {
        /** The defaults of the reference's {@code FlavaTextConfig()}. */
        public static TextConfig defaults() {
            return new TextConfig(30522, 2, 512, "absolute", 768, 12, 12, 3072, "gelu", 1e-12, 0, true);
        }

        /** Width of one attention head. */
        public int headDim() {
            return hiddenSize / numAttentionHeads;
        }
    }

    /**
     * The multimodal encoder's settings ({@code multimodal_config}).
     *
     * @param hiddenSize        width (768)
     * @param numHiddenLayers   transformer blocks (6)
     * @param numAttentionHeads heads per block (12)
     * @param intermediateSize  width of the feed-forward block (3072)
     * @param hiddenAct         feed-forward activation ("gelu")
     * @param layerNormEps      epsilon of every layer norm (1e-12)
     * @param qkvBias           whether query/key/value have a bias (true)
     * @param useClsToken       whether a learned class token is prepended to the fused sequence (true)
     */
    public record MultimodalConfig(int hiddenSize, int numHiddenLayers, int numAttentionHeads, int intermediateSize,
                                   String hiddenAct, double layerNormEps, boolean qkvBias, boolean useClsToken) {
        /** The defaults of the reference's {@code FlavaMultimodalConfig()}. */
        public static MultimodalConfig defaults() {
            return new MultimodalConfig(768, 6, 12, 3072, "gelu", 1e-12, true, true);
        }

        /** Width of one attention head. */
        public int headDim() {
            return hiddenSize / numAttentionHeads;
        }
    }

    /** The defaults of the reference's {@code FlavaConfig()}. */
    public static FlavaConfig defaults() {
        return new FlavaConfig(List.of(), 768, 1e-12, 768, true, 2.6592, 0.02, -100, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
                true, true, ImageConfig.defaults(), TextConfig.defaults(), MultimodalConfig.defaults());
    }

    /** Whether config.json names {@code FlavaForPreTraining} (the FlavaModel under {@code flava.} plus heads). */
    public boolean isPreTraining() {
        return architectures.contains("FlavaForPreTraining");
    }

    /** Reads {@code config.json} of a model directory; errors name the file and the field. */
    public static FlavaConfig read(Path configJson) throws IOException {
        return fromJson(ConfigFields.readObject(configJson), configJson.toString());
    }

    /** Parses a config.json tree; {@code source} names it in errors. */
    public static FlavaConfig fromJson(JsonNode root, String source) {
        String modelType = root.path("model_type").asText("flava");
        if (!modelType.equals("flava")) {
            throw new ConfigException(source + ": model_type is '" + modelType + "', expected 'flava'");
        }
        FlavaConfig d = defaults();
        ConfigFields f = new ConfigFields(root, source);
        List<String> arch = new ArrayList<>();
        root.path("architectures").forEach(n -> arch.add(n.asText()));
        return new FlavaConfig(
                arch,
                f.positive("hidden_size", d.hiddenSize()),
                f.number("layer_norm_eps", d.layerNormEps()),
                f.positive("projection_dim", d.projectionDim()),
                f.bool("init_codebook", d.initCodebook()),
                f.number("logit_scale_init_value", d.logitScaleInitValue()),
                f.number("initializer_range", d.initializerRange()),
                f.integer("ce_ignore_index", d.ceIgnoreIndex()),
                f.number("mim_weight", d.mimWeight()),
                f.number("mlm_weight", d.mlmWeight()),
                f.number("global_contrastive_weight", d.globalContrastiveWeight()),
                f.number("itm_weight", d.itmWeight()),
                f.number("mmm_image_weight", d.mmmImageWeight()),
                f.number("mmm_text_weight", d.mmmTextWeight()),
                f.bool("skip_unmasked_multimodal_encoder", d.skipUnmaskedMultimodalEncoder()),
                f.bool("return_loss", d.returnLoss()),
                parseImage(sub(root, "image_config"), source + " image_config"),
                parseText(sub(root, "text_config"), source + " text_config"),
                parseMultimodal(sub(root, "multimodal_config"), source + " multimodal_config"));
    }

    /**
     * A sub-config's object. Configs written before transformers 4.27 carry {@code <name>_dict} too; the
     * reference then rebuilds the sub-config from that dict with every default filled in and lets it
     * override {@code <name>} entirely, so the dict alone decides.
     */
    private static JsonNode sub(JsonNode root, String name) {
        for (String n : List.of(name + "_dict", name)) {
            JsonNode v = root.get(n);
            if (v != null && v.isObject()) {
                return v;
            }
        }
        return new ObjectMapper().createObjectNode();
    }

    static ImageConfig parseImage(JsonNode n, String source) {
        ImageConfig d = ImageConfig.defaults();
        ConfigFields f = new ConfigFields(n, source);
        ImageConfig c = new ImageConfig(
                f.positive("hidden_size", d.hiddenSize()),
                f.nonNegative("num_hidden_layers", d.numHiddenLayers()),
                f.positive("num_attention_heads", d.numAttentionHeads()),
                f.positive("intermediate_size", d.intermediateSize()),
                f.text("hidden_act", d.hiddenAct()),
                f.number("layer_norm_eps", d.layerNormEps()),
                f.positive("image_size", d.imageSize()),
                f.positive("patch_size", d.patchSize()),
                f.positive("num_channels", d.numChannels()),
                f.bool("qkv_bias", d.qkvBias()),
                f.bool("mask_token", d.maskToken()),
                f.positive("vocab_size", d.vocabSize()));
        f.requireHeadsDivide(c.hiddenSize(), c.numAttentionHeads());
        f.requirePatchFits(c.imageSize(), c.patchSize());
        return c;
    }

    static TextConfig parseText(JsonNode n, String source) {
        TextConfig d = TextConfig.defaults();
        ConfigFields f = new ConfigFields(n, source);
        int vocab = f.positive("vocab_size", d.vocabSize());
        TextConfig c = new TextConfig(
                vocab,
                f.positive("type_vocab_size", d.typeVocabSize()),
                f.positive("max_position_embeddings", d.maxPositionEmbeddings()),
                f.text("position_embedding_type", d.positionEmbeddingType()),
                f.positive("hidden_size", d.hiddenSize()),
                f.nonNegative("num_hidden_layers", d.numHiddenLayers()),
                f.positive("num_attention_heads", d.numAttentionHeads()),
                f.positive("intermediate_size", d.intermediateSize()),
                f.text("hidden_act", d.hiddenAct()),
                f.number("layer_norm_eps", d.layerNormEps()),
                // Padded positions are looked up in the word embeddings like any token.
                f.tokenId("pad_token_id", d.padTokenId(), vocab),
                f.bool("qkv_bias", d.qkvBias()));
        f.requireHeadsDivide(c.hiddenSize(), c.numAttentionHeads());
        return c;
    }

    static MultimodalConfig parseMultimodal(JsonNode n, String source) {
        MultimodalConfig d = MultimodalConfig.defaults();
        ConfigFields f = new ConfigFields(n, source);
        MultimodalConfig c = new MultimodalConfig(
                f.positive("hidden_size", d.hiddenSize()),
                f.nonNegative("num_hidden_layers", d.numHiddenLayers()),
                f.positive("num_attention_heads", d.numAttentionHeads()),
                f.positive("intermediate_size", d.intermediateSize()),
                f.text("hidden_act", d.hiddenAct()),
                f.number("layer_norm_eps", d.layerNormEps()),
                f.bool("qkv_bias", d.qkvBias()),
                f.bool("use_cls_token", d.useClsToken()));
        f.requireHeadsDivide(c.hiddenSize(), c.numAttentionHeads());
        return c;
    }
}
