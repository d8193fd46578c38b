package org.blipjava.config;

/**
 * CLIP's vision transformer settings ({@code vision_config} in a {@code CLIPModel}'s config.json),
 * with the defaults of the reference's {@code CLIPVisionConfig()} (openai/clip-vit-base-patch32).
 *
 * @param hiddenSize        width of the ViT
 * @param intermediateSize  width of the MLP
 * @param projectionDim     unused by {@code CLIPModel} (it reads the top-level value); kept for round-tripping
 * @param numHiddenLayers   number of transformer blocks
 * @param numAttentionHeads heads per block
 * @param numChannels       channels of the input images (3)
 * @param imageSize         the (square) input resolution; the position embeddings hold exactly its patches
 * @param patchSize         side of the square patches (the stride of the patch convolution)
 * @param hiddenAct         activation of the MLP: {@code quick_gelu} (OpenAI) or {@code gelu} (LAION)
 * @param layerNormEps      epsilon of every layer norm
 * @param attentionDropout  training only
 * @param initializerRange  training only
 * @param initializerFactor training only
 */
public record ClipVisionConfig(
        int hiddenSize,
        int intermediateSize,
        int projectionDim,
        int numHiddenLayers,
        int numAttentionHeads,
        int numChannels,
        int imageSize,
        int patchSize,
        String hiddenAct,
        double layerNormEps,
        double attentionDropout,
        double initializerRange,
        double initializerFactor) {

    /** The defaults of the reference's {@code CLIPVisionConfig()}. */
    public static ClipVisionConfig defaults() {
        return new ClipVisionConfig(768, 3072, 512, 12, 12, 3, 224, 32, "quick_gelu", 1e-5, 0.0, 0.02, 1.0);
    }

    /** Patches along one side of an image of {@link #imageSize}. */
    public int patchesPerSide() {
        return imageSize / patchSize;
    }

    /** Sequence length of the vision tower: patches plus the class token (rows of {@code position_embedding}). */
    public int numPositions() {
        return patchesPerSide() * patchesPerSide() + 1;
    }

    /** Width of one attention head. */
    public int headDim() {
        return hiddenSize / numAttentionHeads;
    }
}
