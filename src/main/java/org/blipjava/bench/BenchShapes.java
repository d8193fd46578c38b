package org.blipjava.bench;

import java.util.List;
import org.blipjava.config.BlipConfig;
import org.blipjava.config.BlipTextConfig;
import org.blipjava.config.BlipVisionConfig;
import org.blipjava.config.ClipConfig;
import org.blipjava.config.ClipTextConfig;
import org.blipjava.config.ClipVisionConfig;

/**
 * The model shapes and workloads of one benchmark run.
 *
 * @param captionTokens new tokens forced per caption ({@code min_new_tokens = max_new_tokens})
 * @param beams         beams of the beam-search caption
 * @param itmTexts      texts scored against one image by ITM
 * @param itcTexts      texts embedded per ITC batch
 * @param textLen       tokens per ITM/ITC text ([CLS] and [SEP] included)
 * @param visionBatch   the larger vision batch
 * @param clip          the CLIP image-embedding workload
 */
public record BenchShapes(String name, BlipConfig config, int captionTokens, int beams, int itmTexts, int itcTexts,
                          int textLen, int visionBatch, ClipShapes clip) {

    /**
     * The CLIP row: a {@code CLIPModel} of these shapes embeds {@code batch} images per run.
     *
     * @param name   what the table calls the model (e.g. {@code ViT-B/32})
     * @param config the whole model's shapes (the text tower is loaded too: {@code CLIPModel} needs it)
     * @param batch  images per run
     */
    public record ClipShapes(String name, ClipConfig config, int batch) {
        public ClipShapes {
            if (batch < 1) {
                throw new IllegalArgumentException("CLIP batch must be at least 1, got " + batch);
            }
        }
    }

    /** BLIP-base: ViT-B/16 at 384 px, 12-layer BERT-base text transformer, vocabulary 30524. */
    public static BenchShapes base() {
        return of("blip-base", 12, 768, 3072, 12, 384, 16, 12, 768, 3072, 12, 30524, 512, 256, 20, 3, 100, 100, 16, 8,
                new ClipShapes("ViT-B/32", ClipConfig.defaults(), 8));
    }

    /** Tiny shapes that run in a second or two, for tests. */
    public static BenchShapes quick() {
        return of("quick", 2, 64, 128, 4, 64, 16, 2, 64, 128, 4, 30524, 64, 32, 5, 3, 6, 6, 8, 2,
                new ClipShapes("tiny ViT", tinyClip(), 2));
    }

    /** A two-layer CLIP with the ViT-B/32 defaults' activation and epsilon: 64 px, 16 px patches. */
    private static ClipConfig tinyClip() {
        ClipVisionConfig v = ClipVisionConfig.defaults();
        v = new ClipVisionConfig(64, 128, 32, 2, 4, 3, 64, 16, v.hiddenAct(), v.layerNormEps(), v.attentionDropout(),
                v.initializerRange(), v.initializerFactor());
        ClipTextConfig t = ClipTextConfig.defaults();
        t = new ClipTextConfig(1000, 64, 128, 32, 2, 4, 16, t.hiddenAct(), t.layerNormEps(), t.attentionDropout(),
                t.initializerRange(), t.initializerFactor(), t.padTokenId(), 998, 999);
        ClipConfig d = ClipConfig.defaults();
        return new ClipConfig(t, v, 32, d.logitScaleInitValue(), java.util.List.of("CLIPModel"));
    }

    private static BenchShapes of(String name, int vLayers, int vWidth, int vInter, int vHeads, int image, int patch,
                                  int tLayers, int tWidth, int tInter, int tHeads, int vocab, int maxPos, int embed,
                                  int captionTokens, int beams, int itm, int itc, int textLen, int visionBatch,
                                  ClipShapes clip) {
        BlipVisionConfig v = BlipVisionConfig.defaults();
        v = new BlipVisionConfig(vWidth, vInter, v.projectionDim(), vLayers, vHeads, image, patch, v.hiddenAct(),
                v.layerNormEps(), v.attentionDropout(), v.initializerRange());
        BlipTextConfig t = BlipTextConfig.defaults();
        t = new BlipTextConfig(vocab, tWidth, vWidth, tInter, t.projectionDim(), tLayers, tHeads, maxPos,
                t.hiddenAct(), t.layerNormEps(), t.hiddenDropoutProb(), t.attentionProbsDropoutProb(),
                t.initializerRange(), t.bosTokenId(), t.eosTokenId(), t.padTokenId(), t.sepTokenId(), true, true, 0.0);
        BlipConfig d = BlipConfig.defaults();
        BlipConfig c = new BlipConfig(List.of("BlipForConditionalGeneration"), d.projectionDim(), embed,
                d.logitScaleInitValue(), 0.0, d.initializerFactor(), d.initializerRange(), t, v);
        return new BenchShapes(name, c, captionTokens, beams, itm, itc, textLen, visionBatch, clip);
    }

    /** Image tokens (patches plus the class token). */
    public int imageTokens() {
        int n = config.vision().imageSize() / config.vision().patchSize();
        return n * n + 1;
    }

    /**
     * The matrix products timed against BLAS, as {@code {rows, in, out}}: the vision tower's at
     * one image, and the decoder's at one step of a 3-beam search.
     */
    public List<int[]> matmuls() {
        int seq = imageTokens();
        int vd = config.vision().hiddenSize();
        int vi = config.vision().intermediateSize();
        int td = config.text().hiddenSize();
        int ti = config.text().intermediateSize();
        return List.of(new int[] {seq, vd, vd}, new int[] {seq, vd, vi}, new int[] {seq, vi, vd},
                new int[] {beams, td, td}, new int[] {beams, td, ti}, new int[] {beams, td, config.text().vocabSize()});
    }
}
