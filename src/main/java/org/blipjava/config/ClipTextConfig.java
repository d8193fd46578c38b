package org.blipjava.config;

/**
 * CLIP's text transformer settings ({@code text_config} in a {@code CLIPModel}'s config.json),
 * with the defaults of the reference's {@code CLIPTextConfig()} (openai/clip-vit-base-patch32).
 *
 * @param vocabSize             rows of {@code token_embedding}
 * @param hiddenSize            width of the transformer
 * @param intermediateSize      width of the MLP
 * @param projectionDim         unused by {@code CLIPModel} (it reads the top-level value); kept for round-tripping
 * @param numHiddenLayers       number of transformer blocks
 * @param numAttentionHeads     heads per block
 * @param maxPositionEmbeddings rows of {@code position_embedding}: the longest input (77)
 * @param hiddenAct             activation of the MLP: {@code quick_gelu} (OpenAI) or {@code gelu} (LAION)
 * @param layerNormEps          epsilon of every layer norm
 * @param attentionDropout      training only
 * @param initializerRange      training only
 * @param initializerFactor     training only
 * @param padTokenId            the config's pad id (1; the tokenizer pads with another id, the model never reads it)
 * @param bosTokenId            {@code <|startoftext|>} (49406)
 * @param eosTokenId            where the pooled output is read: the first position holding this id, except
 *                              that the legacy value 2 (old OpenAI conversions) means the position of the
 *                              largest id in the row (see {@link #poolsAtLargestId()})
 */
public record ClipTextConfig(
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int projectionDim,
        int numHiddenLayers,
        int numAttentionHeads,
        int maxPositionEmbeddings,
        String hiddenAct,
        double layerNormEps,
        double attentionDropout,
        double initializerRange,
        double initializerFactor,
        int padTokenId,
        int bosTokenId,
        int eosTokenId) {

    /** The eos id of configs converted before transformers read it from the tokenizer. */
    public static final int LEGACY_EOS_TOKEN_ID = 2;

    /** The defaults of the reference's {@code CLIPTextConfig()}. */
    public static ClipTextConfig defaults() {
        return new ClipTextConfig(49408, 512, 2048, 512, 12, 8, 77, "quick_gelu", 1e-5, 0.0, 0.02, 1.0,
                1, 49406, 49407);
    }

    /** Width of one attention head. */
    public int headDim() {
        return hiddenSize / numAttentionHeads;
    }

    /**
     * Whether the pooled output is taken at the largest input id rather than at the first
     * {@code eos_token_id}: the reference does so when the config holds the legacy eos id 2, the
     * value old OpenAI conversions carry (their real end token, 49407, is the largest id).
     */
    public boolean poolsAtLargestId() {
        return eosTokenId == LEGACY_EOS_TOKEN_ID;
    }
}
