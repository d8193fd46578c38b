package org.blipjava.tasks;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import org.blipjava.image.RgbImage;

/**
 * Zero-shot image classification with CLIP's prompt-template recipe: each label is written into
 * every template ({@code "a photo of {}"}), the texts are embedded, each label's embeddings are
 * averaged and L2-normalized again (prompt ensembling), and an image's class probabilities are
 * the softmax over labels of {@link ImageTextModel#logitScale()} times the cosine.
 *
 * <p>Works with every model that embeds (CLIP, FLAVA, BLIP retrieval and {@code BlipModel}).
 * Label embeddings are computed once, at construction; thread-safe afterwards.
 */
public final class ZeroShotClassifier {
    /** Where a label goes in a template. */
    public static final String PLACEHOLDER = "{}";

    /** One label's probability for an image. */
    public record Prediction(String label, double probability, double cosine) {}

    private final ImageTextModel model;
    private final List<String> labels;
    private final float[][] labelEmbeddings;

    /**
     * @param labels    the classes, at least two, each non-blank and distinct
     * @param templates texts with one {@value #PLACEHOLDER} each; empty for the label alone
     */
    public ZeroShotClassifier(ImageTextModel model, List<String> labels, List<String> templates) {
        this.model = Objects.requireNonNull(model, "model");
        if (!model.embeds()) {
            throw new TaskException(model.directory() + " is a " + model.architecture()
                    + " model and makes no embeddings; classify with a CLIP, FLAVA or BLIP retrieval checkpoint");
        }
        if (labels.size() < 2) {
            throw new IllegalArgumentException("give at least two labels, got " + labels);
        }
        if (labels.stream().anyMatch(String::isBlank) || labels.stream().distinct().count() != labels.size()) {
            throw new IllegalArgumentException("labels must be non-blank and distinct, got " + labels);
        }
        List<String> tpl = templates.isEmpty() ? List.of(PLACEHOLDER) : templates;
        for (String t : tpl) {
            int at = t.indexOf(PLACEHOLDER);
            if (at < 0 || t.indexOf(PLACEHOLDER, at + 1) >= 0) {
                throw new IllegalArgumentException("template \"" + t + "\" must contain " + PLACEHOLDER
                        + " exactly once, where the label goes");
            }
        }
        this.labels = List.copyOf(labels);
        List<String> texts = new ArrayList<>();
        for (String label : labels) {
            for (String t : tpl) {
                texts.add(t.replace(PLACEHOLDER, label));
            }
        }
        float[][] all = model.embedTexts(texts);
        int dim = all[0].length;
        labelEmbeddings = new float[labels.size()][dim];
        for (int l = 0; l < labels.size(); l++) {
            float[] mean = labelEmbeddings[l];
            for (int t = 0; t < tpl.size(); t++) {
                float[] e = all[l * tpl.size() + t];
                for (int k = 0; k < dim; k++) {
                    mean[k] += e[k];
                }
            }
            normalize(mean);
        }
    }

    /** The labels, in the order given. */
    public List<String> labels() {
        return labels;
    }

    /**
     * Each image's predictions, most probable first.
     *
     * @param topK how many labels to keep per image (at most the number of labels)
     */
    public List<List<Prediction>> classify(List<RgbImage> images, int topK) {
        return predictions(model.embedImages(images), topK);
    }

    /** As {@link #classify(List, int)} for already preprocessed images. */
    public List<List<Prediction>> classify(PixelValues pixels, int topK) {
        return predictions(model.embedImages(pixels), topK);
    }

    private List<List<Prediction>> predictions(float[][] imageEmbeddings, int topK) {
        if (topK < 1) {
            throw new IllegalArgumentException("top-k must be at least 1, got " + topK);
        }
        float[][] cos = ImageTextModel.cosines(imageEmbeddings, labelEmbeddings);
        double scale = model.logitScale();
        List<List<Prediction>> out = new ArrayList<>();
        for (float[] row : cos) {
            double max = Double.NEGATIVE_INFINITY;
            for (float c : row) {
                max = Math.max(max, scale * c);
            }
            double[] p = new double[row.length];
            double sum = 0;
            for (int l = 0; l < row.length; l++) {
                p[l] = Math.exp(scale * row[l] - max);
                sum += p[l];
            }
            List<Prediction> preds = new ArrayList<>();
            for (int l = 0; l < row.length; l++) {
                preds.add(new Prediction(labels.get(l), p[l] / sum, row[l]));
            }
            // Stable: equal probabilities keep the order the labels were given in.
            preds.sort(Comparator.comparingDouble(Prediction::probability).reversed());
            out.add(List.copyOf(preds.subList(0, Math.min(topK, preds.size()))));
        }
        return out;
    }

    private static void normalize(float[] v) {
        double n = 0;
        for (float x : v) {
            n += (double) x * x;
        }
        double inv = n > 0 ? 1 / Math.sqrt(n) : 0;
        for (int k = 0; k < v.length; k++) {
            v[k] = (float) (v[k] * inv);
        }
    }
}
