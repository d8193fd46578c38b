package org.blipjava.report;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.blipjava.generation.GenerationConfig;
import org.blipjava.image.RgbImage;
import org.blipjava.tasks.Blip;
import org.blipjava.tasks.ImageTextModel;
import org.blipjava.tasks.GeneratedText;
import org.blipjava.tasks.MatchScores;
import org.blipjava.tasks.PixelValues;
import org.blipjava.tasks.TaskException;

/**
 * Visual explanations of a loaded model, as pictures: the image x text similarity heatmap, the
 * 2-D embedding map, the caption decoder's per-word cross-attention over the image, and the ITM
 * Grad-CAM of a text over an image.
 */
public final class Explain {
    private Explain() {}

    /** Which image-text score a heatmap shows. */
    public enum Score {
        /** Image-text matching head: probability that the text matches the image (retrieval models). */
        ITM,
        /** Contrastive cosine similarity of the normalized image and text features. */
        ITC
    }

    /**
     * The score matrix of images against texts: ITM needs a model with a matching head (BLIP
     * retrieval, FLAVA pre-training); ITC works with every model that embeds.
     *
     * @return [images][texts]
     */
    public static float[][] scores(ImageTextModel model, List<RgbImage> images, List<String> texts, Score score) {
        if (!model.embeds()) {
            throw new TaskException(model.directory() + " is a " + model.architecture() + " model and scores no "
                    + "image-text pairs; use a BlipForImageTextRetrieval (ITM and ITC), BlipModel, CLIP or FLAVA checkpoint");
        }
        if (score == Score.ITM && !model.hasMatchHead()) {
            throw new TaskException(model.directory() + " is a " + model.architecture()
                    + " model without an image-text matching head; ITM scores need a BlipForImageTextRetrieval or "
                    + "FlavaForPreTraining checkpoint (or use ITC)");
        }
        MatchScores m = model.match(images, texts);
        return score == Score.ITM ? m.itm() : m.itc();
    }

    /** The similarity heatmap of {@link #scores} with labels; see {@link SimilarityHeatmap}. */
    public static BufferedImage similarityHeatmap(ImageTextModel model, List<RgbImage> images, List<String> imageLabels,
            List<String> texts, Score score) {
        String title = score == Score.ITM ? "ITM match probability" : "ITC cosine similarity";
        return SimilarityHeatmap.render(scores(model, images, texts, score), imageLabels, texts, title);
    }

    /**
     * The t-SNE map of image and text features ({@link ImageTextModel#embedImages}, {@link ImageTextModel#embedTexts}).
     *
     * @param imageCategories one category per image, or null
     * @param textCategories one category per text, or null
     */
    public static BufferedImage embeddingMap(ImageTextModel model, List<RgbImage> images, List<String> imageLabels,
            List<String> imageCategories, List<String> texts, List<String> textCategories, int size,
            Tsne.Options options) {
        check(imageLabels.size() == images.size(), "one label per image");
        check(imageCategories == null || imageCategories.size() == images.size(), "one category per image");
        check(textCategories == null || textCategories.size() == texts.size(), "one category per text");
        List<EmbeddingMap.Point> points = new ArrayList<>();
        float[][] im = model.embedImages(images);
        for (int i = 0; i < im.length; i++) {
            points.add(new EmbeddingMap.Point(im[i], imageLabels.get(i),
                    imageCategories == null ? null : imageCategories.get(i), true));
        }
        float[][] tx = model.embedTexts(texts);
        for (int i = 0; i < tx.length; i++) {
            points.add(new EmbeddingMap.Point(tx[i], texts.get(i),
                    textCategories == null ? null : textCategories.get(i), false));
        }
        return EmbeddingMap.render(points, size, "t-SNE of image and text features (" + model.directory().getFileName()
                + ")", options);
    }

    /**
     * A generated caption with one cross-attention map per word.
     *
     * @param caption the generated caption
     * @param words its words (word pieces merged), in order
     * @param maps per word, the decoder's cross-attention over the patch grid (heads averaged,
     *     word pieces averaged), {@code gridH * gridW} values row by row
     * @param gridH patch rows
     * @param gridW patch columns
     * @param layer the decoder layer the maps come from
     */
    public record CaptionAttention(GeneratedText caption, List<String> words, List<float[]> maps, int gridH,
            int gridW, int layer) {
        public CaptionAttention {
            Objects.requireNonNull(caption, "caption");
            words = List.copyOf(words);
            maps = List.copyOf(maps);
        }
    }

    /**
     * Captions the image and takes, for each generated word, the attention the decoder paid to
     * each image patch when it predicted that word.
     *
     * @param layer 0-based decoder layer, or null for the last one
     */
    public static CaptionAttention captionAttention(Blip blip, RgbImage image, String prompt, GenerationConfig g,
            Integer layer) {
        GeneratedText caption = blip.caption(List.of(image), prompt, g).get(0);
        int layers = blip.config().text().numHiddenLayers();
        int l = layer == null ? layers - 1 : layer;
        if (l < 0 || l >= layers) {
            throw new TaskException("layer " + l + " does not exist; the decoder has " + layers + " layers (0.."
                    + (layers - 1) + ")");
        }
        int[] ids = caption.tokenIds();
        float[] probs = blip.captionCrossAttention(image, ids, l);
        PixelValues px = blip.pixels(List.of(image));
        int patch = blip.config().vision().patchSize();
        int gridH = px.height() / patch;
        int gridW = px.width() / patch;
        int positions = probs.length / (ids.length * blip.config().text().numAttentionHeads());
        if (positions != gridH * gridW + 1) {
            throw new IllegalStateException("the decoder attends to " + positions + " image positions, expected 1 + "
                    + gridH + "x" + gridW);
        }
        int heads = blip.config().text().numAttentionHeads();
        int promptLen = prompt == null || prompt.isEmpty() ? 1 : blip.tokenizer().encode(prompt).length - 1;
        WordMaps wm = new WordMaps();
        for (int t = promptLen; t < ids.length; t++) {
            if (blip.tokenizer().isSpecialTokenId(ids[t])) {
                continue;
            }
            // The row that predicted token t is row t - 1; CLS (position 0) is left out of the grid.
            float[] m = new float[gridH * gridW];
            for (int h = 0; h < heads; h++) {
                int o = (h * ids.length + (t - 1)) * positions + 1;
                for (int j = 0; j < m.length; j++) {
                    m[j] += probs[o + j] / heads;
                }
            }
            wm.add(blip.tokenizer().idToToken(ids[t]), m);
        }
        return new CaptionAttention(caption, wm.words, wm.maps, gridH, gridW, l);
    }

    /** Per-token maps merged into per-word maps: a {@code ##} piece joins the previous word, maps averaged. */
    private static final class WordMaps {
        final List<String> words = new ArrayList<>();
        final List<float[]> maps = new ArrayList<>();
        private final List<Integer> pieces = new ArrayList<>();

        void add(String token, float[] map) {
            if (token.startsWith("##") && !words.isEmpty()) {
                int k = words.size() - 1;
                words.set(k, words.get(k) + token.substring(2));
                float[] acc = maps.get(k);
                int n = pieces.get(k);
                for (int j = 0; j < acc.length; j++) {
                    acc[j] = (acc[j] * n + map[j]) / (n + 1);
                }
                pieces.set(k, n + 1);
            } else {
                words.add(token);
                maps.add(map);
                pieces.add(1);
            }
        }
    }

    /** The per-word attention maps overlaid on the image; see {@link AttentionOverlay}. */
    public static BufferedImage captionAttentionPicture(RgbImage image, CaptionAttention a, int panel) {
        return AttentionOverlay.render(Pictures.toBufferedImage(image), "\"" + a.caption().text() + "\" (layer "
                + a.layer() + ")", a.words(), a.maps(), a.gridH(), a.gridW(), panel);
    }

    /**
     * ITM Grad-CAM of a text over an image: one map per word of the text (word pieces averaged)
     * and, first, their mean over the words.
     *
     * @param text the text
     * @param words "all words", then the text's words
     * @param maps per entry of {@code words}, {@code gridH * gridW} non-negative values row by row
     * @param gridH patch rows
     * @param gridW patch columns
     * @param layer the text-encoder layer
     * @param matchProbability the ITM probability that the text matches the image
     */
    public record GradCam(String text, List<String> words, List<float[]> maps, int gridH, int gridW, int layer,
            float matchProbability) {
        public GradCam {
            Objects.requireNonNull(text, "text");
            words = List.copyOf(words);
            maps = List.copyOf(maps);
        }
    }

    /**
     * Computes the ITM Grad-CAM maps of a text over an image (needs a retrieval model).
     *
     * @param layer 0-based text-encoder layer, or null for BLIP's choice (8 of 12: two thirds down)
     */
    public static GradCam itmGradCam(Blip blip, RgbImage image, String text, Integer layer) {
        int layers = blip.config().text().numHiddenLayers();
        int l = layer == null ? (2 * layers) / 3 : layer;
        float[] cam = blip.itmGradCam(image, text, l);
        int[] ids = blip.tokenizer().encode(text);
        PixelValues px = blip.pixels(List.of(image));
        int patch = blip.config().vision().patchSize();
        int gridH = px.height() / patch;
        int gridW = px.width() / patch;
        int positions = cam.length / ids.length;
        if (positions != gridH * gridW + 1) {
            throw new IllegalStateException("Grad-CAM covers " + positions + " image positions, expected 1 + "
                    + gridH + "x" + gridW);
        }
        WordMaps wm = new WordMaps();
        float[] mean = new float[gridH * gridW];
        int counted = 0;
        for (int t = 0; t < ids.length; t++) {
            if (blip.tokenizer().isSpecialTokenId(ids[t])) {
                continue;
            }
            float[] m = Arrays.copyOfRange(cam, t * positions + 1, (t + 1) * positions);
            for (int j = 0; j < m.length; j++) {
                mean[j] += m[j];
            }
            counted++;
            wm.add(blip.tokenizer().idToToken(ids[t]), m);
        }
        for (int j = 0; j < mean.length && counted > 0; j++) {
            mean[j] /= counted;
        }
        wm.words.add(0, "all words");
        wm.maps.add(0, mean);
        float match = blip.match(List.of(image), List.of(text)).itm(0, 0);
        return new GradCam(text, wm.words, wm.maps, gridH, gridW, l, match);
    }

    /** The Grad-CAM maps overlaid on the image; see {@link AttentionOverlay}. */
    public static BufferedImage gradCamPicture(RgbImage image, GradCam g, int panel) {
        return AttentionOverlay.render(Pictures.toBufferedImage(image), String.format(java.util.Locale.ROOT,
                "\"%s\" ITM %.3f (layer %d)", g.text(), g.matchProbability(), g.layer()), g.words(), g.maps(),
                g.gridH(), g.gridW(), panel);
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new IllegalArgumentException("embedding map: expected " + what);
        }
    }
}
