package org.blipjava.model;

import org.blipjava.checkpoint.StateDict;
import org.blipjava.config.BlipConfig;
import org.blipjava.tensor.Kernels;
import org.blipjava.tensor.Parallel;
import org.blipjava.tensor.WeightPrecision;

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
        return load(sd, config, parallel, WeightPrecision.F32);
    }

    /** As {@link #load(StateDict, BlipConfig, Parallel)} with the transformers' weights stored at {@code precision}. */
    public static BlipForImageTextRetrieval load(StateDict sd, BlipConfig config, Parallel parallel,
                                                 WeightPrecision precision) {
        BlipVisionModel vision = BlipVisionModel.load(sd, "vision_model.", config.vision(), parallel, precision);
        BlipTextModel encoder = BlipTextModel.load(sd, "text_encoder.", config.text(), false, parallel, precision);
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

    /**
     * ITM Grad-CAM of one text over one image, as BLIP's demo computes it: for text-encoder layer
     * {@code layer}, the cross-attention probabilities times the positive part of the gradient of
     * the ITM match logit with respect to them, averaged over heads.
     *
     * @param imageEmbeds the vision tower's {@code lastHiddenState} of one image [seq, hidden]
     * @param ids the text's token ids ({@code [CLS] ... [SEP]}, no padding)
     * @param layer 0-based text-encoder layer
     * @return [ids.length, seq]: per text token, a weight for every image position (CLS first)
     */
    public float[] itmGradCam(float[] imageEmbeds, int[] ids, int layer) {
        if (layer < 0 || layer >= textEncoder.numLayers()) {
            throw new IllegalArgumentException("layer " + layer + " does not exist; the text encoder has "
                    + textEncoder.numLayers() + " layers (0.." + (textEncoder.numLayers() - 1) + ")");
        }
        int d = visionModel.hiddenSize();
        if (imageEmbeds.length % d != 0) {
            throw new IllegalArgumentException("image embeddings of " + imageEmbeds.length + " floats are not [seq, " + d + "]");
        }
        ItmGradCam.Result r = gradCam().run(ids, Conditioning.unmasked(imageEmbeds, 1, imageEmbeds.length / d, d), layer,
                null);
        int heads = textEncoder.config().numAttentionHeads();
        int n = r.len();
        int m = r.positions();
        float[] out = new float[n * m];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < n * m; i++) {
                int o = h * n * m + i;
                out[i] += r.probs()[o] * Math.max(0f, r.grad()[o]) / heads;
            }
        }
        return out;
    }

    /** The Grad-CAM machinery over this model's text encoder and ITM head. */
    ItmGradCam gradCam() {
        return new ItmGradCam(textEncoder, itmHead);
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

    /**
     * The image-text contrastive training loss over the first {@code n} pairs (image i with text
     * i): the mean of image-to-text and text-to-image cross-entropy of {@code cosine / temperature}.
     *
     * @param cosine      [images, texts] from {@link #cosine}
     * @param n           pairs used (at most min(images, texts))
     * @param temperature the softmax temperature (BLIP trains with 0.07)
     */
    public static double itcLoss(float[] cosine, int nImages, int nTexts, int n, double temperature) {
        if (n < 1 || n > nImages || n > nTexts) {
            throw new IllegalArgumentException("n must be in [1, min(images, texts)] = [1, "
                    + Math.min(nImages, nTexts) + "], got " + n);
        }
        float[] rowI2t = new float[n];
        float[] rowT2i = new float[n];
        double i2t = 0;
        double t2i = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                rowI2t[j] = (float) (cosine[i * nTexts + j] / temperature);
                rowT2i[j] = (float) (cosine[j * nTexts + i] / temperature);
            }
            i2t += BlipTextLMHeadModel.crossEntropy(rowI2t, 0, n, i, 0.0);
            t2i += BlipTextLMHeadModel.crossEntropy(rowT2i, 0, n, i, 0.0);
        }
        return (i2t / n + t2i / n) / 2;
    }

    /**
     * The image-text matching training loss: cross-entropy of the ITM logits over the {@code n}
     * positive pairs (image i, text i; label 1) and the {@code n} negatives (image i, text
     * {@code (i - 1) mod n}, the texts rolled by one; label 0), averaged over the 2n pairs.
     *
     * @param itmLogits [images, texts, 2] from {@link #itmLogits}
     */
    public static double itmLoss(float[] itmLogits, int nImages, int nTexts, int n) {
        if (n < 2 || n > nImages || n > nTexts) {
            throw new IllegalArgumentException("n must be in [2, min(images, texts)] = [2, "
                    + Math.min(nImages, nTexts) + "], got " + n);
        }
        double total = 0;
        for (int i = 0; i < n; i++) {
            total += BlipTextLMHeadModel.crossEntropy(itmLogits, (i * nTexts + i) * 2, 2, 1, 0.0);
            int neg = (i - 1 + n) % n;
            total += BlipTextLMHeadModel.crossEntropy(itmLogits, (i * nTexts + neg) * 2, 2, 0, 0.0);
        }
        return total / (2 * n);
    }
}
