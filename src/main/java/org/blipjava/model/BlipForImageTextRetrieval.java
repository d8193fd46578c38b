package org.blipjava.model;

import org.blipjava.checkpoint.StateDict;
import org.blipjava.config.BlipConfig;
import org.blipjava.tensor.Kernels;
import org.blipjava.tensor.Parallel;

/**
 * Image-text retrieval ({@code vision_model.*}, {@code text_encoder.*}, {@code vision_proj},
 * {@code text_proj}, {@code itm_head}): image-text matching through the image-grounded encoder,
 * and contrastive (ITC) features from the unimodal encoders.
 *
 * <p>Immutable and thread-safe after loading.
 */
public final class BlipForImageTextRetrieval {
    private final BlipConfig config;
    private final BlipVisionModel visionModel;
    private final BlipTextModel textEncoder;
    private final Linear visionProj;
    private final Linear textProj;
    private final Linear itmHead;
    private final Parallel parallel;

    private BlipForImageTextRetrieval(BlipConfig config, BlipVisionModel visionModel, BlipTextModel textEncoder,
                                      Linear visionProj, Linear textProj, Linear itmHead, Parallel parallel) {
        this.config = config;
        this.visionModel = visionModel;
        this.textEncoder = textEncoder;
        this.visionProj = visionProj;
        this.textProj = textProj;
        this.itmHead = itmHead;
        this.parallel = parallel;
    }

    /** Copies the weights out of {@code sd}; untaken keys are an error naming them. */
    public static BlipForImageTextRetrieval load(StateDict sd, BlipConfig config, Parallel parallel) {
        BlipVisionModel vision = BlipVisionModel.load(sd, "vision_model.", config.vision(), parallel);
        BlipTextModel encoder = BlipTextModel.load(sd, "text_encoder.", config.text(), false, parallel);
        int e = config.imageTextHiddenSize();
        Linear vp = Linear.load(sd, "vision_proj", config.vision().hiddenSize(), e, true);
        Linear tp = Linear.load(sd, "text_proj", config.text().hiddenSize(), e, true);
        Linear itm = Linear.load(sd, "itm_head", config.text().hiddenSize(), 2, true);
        sd.requireAllTaken();
        return new BlipForImageTextRetrieval(config, vision, encoder, vp, tp, itm, parallel);
    }

    public BlipConfig config() {
        return config;
    }

    /** Encodes images [batch, 3, h, w]; retrieval reads {@code lastHiddenState}. */
    public BlipVisionModel.Output vision(float[] pixels, int batch, int h, int w) {
        return visionModel.forward(pixels, batch, h, w);
    }

    /**
     * Image-text matching logits for every image x text pair, [images, texts, 2] (index 1 = match).
     * Texts keep [CLS] first. Each image's cross-attention keys/values are computed once and
     * shared by all texts.
     *
     * @param imageEmbeds the vision tower's {@code lastHiddenState} [images, seq, visionHidden]
     */
    public float[] itmLogits(float[] imageEmbeds, int nImages, int[][] ids, int[][] mask) {
        int texts = ids.length;
        int d = visionModel.hiddenSize();
        if (nImages < 1 || imageEmbeds.length % (nImages * d) != 0) {
            throw new IllegalArgumentException("image embeddings of " + imageEmbeds.length
                    + " floats are not [" + nImages + ", seq, " + d + "]");
        }
        Conditioning images = Conditioning.unmasked(imageEmbeds, nImages, imageEmbeds.length / (nImages * d), d);
        int rows = nImages * texts;
        int[][] allIds = new int[rows][];
        int[][] allMask = mask == null ? null : new int[rows][];
        int[] entry = new int[rows];
        for (int i = 0; i < nImages; i++) {
            for (int t = 0; t < texts; t++) {
                allIds[i * texts + t] = ids[t];
                if (mask != null) {
                    allMask[i * texts + t] = mask[t];
                }
                entry[i * texts + t] = i;
            }
        }
        float[] hidden = textEncoder.forward(allIds, allMask, false, images, entry);
        float[] cls = BlipTextModel.firstTokens(hidden, rows, ids[0].length, textEncoder.hiddenSize());
        return itmHead.forward(parallel, cls, rows);
    }

    /** {@code softmax(itmLogits)[..., 1]}: the probability that each image matches each text, [images, texts]. */
    public static float[] matchProbabilities(float[] itmLogits, int nImages, int nTexts) {
        float[] out = new float[nImages * nTexts];
        float[] pair = new float[2];
        for (int i = 0; i < out.length; i++) {
            pair[0] = itmLogits[2 * i];
            pair[1] = itmLogits[2 * i + 1];
            Kernels.softmaxRow(pair, 0, 2);
            out[i] = pair[1];
        }
        return out;
    }

    /** L2-normalized {@code vision_proj} of each image's class token, [images, imageTextHidden]. */
    public float[] imageFeatures(float[] imageEmbeds, int nImages) {
        int d = visionModel.hiddenSize();
        int seq = imageEmbeds.length / (nImages * d);
        float[] cls = BlipTextModel.firstTokens(imageEmbeds, nImages, seq, d);
        float[] f = visionProj.forward(parallel, cls, nImages);
        Kernels.l2Normalize(f, nImages, visionProj.out());
        return f;
    }

    /** L2-normalized {@code text_proj} of the unimodal text encoder's first token, [texts, imageTextHidden]. */
    public float[] textFeatures(int[][] ids, int[][] mask) {
        float[] hidden = textEncoder.forward(ids, mask, false, null, null);
        float[] cls = BlipTextModel.firstTokens(hidden, ids.length, ids[0].length, textEncoder.hiddenSize());
        float[] f = textProj.forward(parallel, cls, ids.length);
        Kernels.l2Normalize(f, ids.length, textProj.out());
        return f;
    }

    /** Cosine similarity of normalized features, {@code imageFeat @ textFeat^T}, [images, texts]. */
    public float[] cosine(float[] imageFeat, int nImages, float[] textFeat, int nTexts) {
        float[] out = new float[nImages * nTexts];
        Kernels.linear(parallel, imageFeat, nImages, visionProj.out(), textFeat, null, nTexts, out);
        return out;
    }
}
